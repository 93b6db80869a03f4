// Unread announcements in the navigation, kept live: the count on each of the member's
// own branches' tabs, and on a branch's other pages the announcements section tab's.
// Each page was rendered at the streams' heads, so this follows them from there (no
// snapshot), without being listed as here (here: false); where the page itself
// follows a stream (the announcements page), it listens to that subscription.
// Reading (mark all read, or one by one; in any tab, on any device) arrives on the
// reader's inbox with the new count. Loaded after the page's own scripts and bell.js,
// so it can tell which streams they follow.
import { connection, readJSON, showCount } from "./realtime.js";

const conn = connection();
const me = document.getElementById("bell") ? readJSON("bell").me : null;
const current = document.getElementById("nav-unread") ? readJSON("nav-unread") : null;
const own = document.getElementById("branch-unread") ? readJSON("branch-unread") : [];

// One state per branch; the section tab's branch may be one the member only reads
// from above (a committee secretary), so it is added when not among their own.
const branches = new Map();
for (const start of current && !own.some((b) => b.branch === current.branch) ? [...own, current] : own) {
  branches.set(start.branch, {
    start,
    count: start.count,
    readSeq: start.read_seq,
    readIds: new Set(start.read_ids || []),
    badges: [...document.querySelectorAll(`[data-unread-branch="${start.branch}"]`)],
  });
}

function show(state) {
  for (const badge of state.badges) showCount(badge, state.count);
}

function unreadFor(state, a, seq) {
  return seq > state.readSeq && !state.readIds.has(a.id) && a.author && a.author.id !== me;
}

for (const state of branches.values()) {
  const onEvent = (frame) => {
    const a = frame.data;
    if (frame.type === "announcement.posted" && unreadFor(state, a, frame.seq)) state.count += 1;
    else if (frame.type === "announcement.withdrawn" && unreadFor(state, a, a.seq)) state.count = Math.max(0, state.count - 1);
    else return;
    show(state);
  };
  const { stream, since } = state.start;
  if (conn.follows(stream)) {
    conn.listen(stream, onEvent);
  } else {
    conn.subscribe(
      stream,
      {
        snapshot(snapshot) {
          // Only after a resync (the log moved past where this page started).
          if (snapshot) {
            state.count = snapshot.unread;
            state.readSeq = snapshot.read_seq;
            state.readIds = new Set(snapshot.announcements.filter((a) => a.read && a.seq > snapshot.read_seq).map((a) => a.id));
          }
          show(state);
        },
        event: onEvent,
      },
      { since, here: false },
    );
  }
}

function onInbox(frame) {
  if (frame.type !== "announcements.read") return;
  const state = branches.get(frame.data.branch);
  if (!state) return;
  const ones = frame.data.announcements || [];
  if (frame.data.read_seq <= state.readSeq && !ones.length) return;
  state.readSeq = Math.max(state.readSeq, frame.data.read_seq);
  for (const id of ones) state.readIds.add(id);
  state.count = frame.data.unread;
  show(state);
}

if (me !== null && branches.size) conn.hear(`inbox:${me}`, onInbox);
