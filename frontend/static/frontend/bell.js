// The header's notifications count (提醒), kept live on every page: the page was rendered
// at the inbox's head, so this follows the inbox from there. Seeing them on the
// notifications page, here or on another device, arrives as `notifications.read`.
// Loaded after the page's own scripts, so it listens where they already follow the inbox.
import { connection, readJSON, showCount } from "./realtime.js";

const start = readJSON("bell");
const badge = document.getElementById("bell-count");
const conn = connection();
let count = start.count;
let readSeq = start.read_seq;

const show = () => showCount(badge, count);

function onInbox(frame) {
  if (frame.type === "notifications.read") {
    if (frame.data.read_seq <= readSeq) return;
    readSeq = frame.data.read_seq;
    count = frame.data.unread;
  } else if (start.types.includes(frame.type) && frame.seq > readSeq) {
    count += 1;
  } else {
    return;
  }
  show();
}

conn.hear(start.stream, onInbox, { since: start.since });
