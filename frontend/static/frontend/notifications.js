// The notifications page: what is listed counts as seen (the bell clears, here and in
// the member's other tabs), and new ones arriving meanwhile are offered with a reload.
// Loaded before bell.js, which then listens to the inbox this page follows. The page
// also holds this browser's switch for desktop notifications (desktop.js).
import { desktopState, switchDesktopOff, switchDesktopOn } from "./desktop.js";
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

const desktop = document.getElementById("desktop-switch");
const desktopText = document.getElementById("desktop-state");
const toggle = document.getElementById("desktop-toggle");

function showDesktop(state = desktopState()) {
  desktop.dataset.state = state;
  desktopText.textContent = t[`desktop_${state}`];
  toggle.hidden = !["ask", "off", "on"].includes(state);
  toggle.textContent = state === "on" ? t.switch_off : t.switch_on;
  desktop.hidden = false;
}

toggle.addEventListener("click", async () => {
  toggle.disabled = true;
  try {
    showDesktop(desktop.dataset.state === "on" ? switchDesktopOff() : await switchDesktopOn());
  } finally {
    toggle.disabled = false;
  }
});
// The browser's permission may have been changed in its settings meanwhile.
document.addEventListener("visibilitychange", () => showDesktop());
showDesktop();
