// The announcements tab's unread count on the branch's other pages, kept live: the
// page was rendered at the stream's head, so this follows it from there (no snapshot)
// and without being listed as here on the announcements page (here: false). Marking
// read elsewhere (another tab, another device) arrives on the reader's inbox.
// Loaded after the page's own scripts, so it can tell whether they follow the inbox.
import { connection, readJSON, showCount } from "./realtime.js";

const start = readJSON("nav-unread");
const badge = document.getElementById("nav-unread-count");
const conn = connection();
let count = start.count;
let readSeq = start.read_seq;

const show = () => showCount(badge, count);

const counts = (a) => a.seq > readSeq && a.author && a.author.id !== start.me;

conn.subscribe(
  start.stream,
  {
    snapshot(snapshot) {
      // Only after a resync (the log moved past where this page started).
      if (snapshot) {
        count = snapshot.unread;
        readSeq = snapshot.read_seq;
      }
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

function onInbox(frame) {
  if (frame.type !== "announcements.read" || frame.data.branch !== start.branch) return;
  if (frame.data.read_seq <= readSeq) return;
  readSeq = frame.data.read_seq;
  count = frame.data.unread;
  show();
}

conn.hear(`inbox:${start.me}`, onInbox);
