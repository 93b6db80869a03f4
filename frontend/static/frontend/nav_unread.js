// The announcements tab's unread count on the branch's other pages, kept live: the
// page was rendered at the stream's head, so this follows it from there (no snapshot)
// and without being listed as here on the announcements page (here: false).
import { connection, readJSON } from "./realtime.js";

const start = readJSON("nav-unread");
const badge = document.getElementById("nav-unread-count");
let count = start.count;

function show() {
  badge.firstChild.textContent = String(count);
  badge.hidden = count === 0;
}

const counts = (a) => a.seq > start.read_seq && a.author && a.author.id !== start.me;

connection().subscribe(
  start.stream,
  {
    snapshot(snapshot) {
      // Only after a resync (the log moved past where this page started).
      if (snapshot) count = snapshot.unread;
      show();
    },
    event(frame) {
      if (frame.type === "announcement.posted" && counts({ ...frame.data, seq: frame.seq })) count += 1;
      else if (frame.type === "announcement.withdrawn" && counts(frame.data)) count = Math.max(0, count - 1);
      else return;
      show();
    },
  },
  { since: start.since, here: false },
);
