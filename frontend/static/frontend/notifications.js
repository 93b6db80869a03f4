// The notifications page: what is listed counts as seen (the bell clears, here and in
// the member's other tabs), and new ones arriving meanwhile are offered with a reload.
// Loaded before bell.js, which then listens to the inbox this page follows.
import { Status, connection, readJSON } from "./realtime.js";

const config = readJSON("notifications-config");
const t = readJSON("notifications-strings");
const bellStart = readJSON("bell");
const conn = connection();
const banner = document.getElementById("new-notifications");
let marked = false;

function markSeen() {
  if (marked || !config.unread || conn.status !== Status.ONLINE) return;
  marked = true;
  conn.request("notifications.mark_read", { seq: config.head }).catch(() => {
    marked = false; // tried again when the connection is back
  });
}

conn.subscribe(
  bellStart.stream,
  {
    event(frame) {
      if (!bellStart.types.includes(frame.type)) return;
      const link = document.createElement("a");
      link.href = location.pathname;
      link.textContent = t.reload;
      banner.replaceChildren(`${t.new_ones} `, link);
      banner.hidden = false;
    },
  },
  { since: bellStart.since },
);
conn.onStatus(markSeen);
markSeen();
