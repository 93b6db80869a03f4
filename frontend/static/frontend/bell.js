// The header's notifications count (提醒), kept live on every page: the page was rendered
// at the inbox's head, so this follows the inbox from there. Seeing them on the
// notifications page, here or on another device, arrives as `notifications.read`.
// While the page is in the background, new ones also pop up on the desktop when the
// member switched that on (desktop.js): their words come from `notifications.recent`;
// so do new announcements of the member's branches, in the words their frame carries.
// Loaded after the page's own scripts, so it listens where they already follow the inbox.
import { desktopState, wantsDesktop, popUp } from "./desktop.js";
import { forgetAllDrafts } from "./drafts.js";
import { connection, interpolate, readJSON, showCount } from "./realtime.js";

const start = readJSON("bell");
const badge = document.getElementById("bell-count");
const conn = connection();
let count = start.count;
let readSeq = start.read_seq;
// Notifications up to here were on the inbox before the page, or told already.
let toldSeq = start.since;
let telling = null;

const show = () => showCount(badge, count);

async function tellDesktop() {
  telling = null;
  let reply;
  try {
    reply = await conn.request("notifications.recent", { after: toldSeq, limit: 5 });
  } catch {
    return; // offline, or the session ended: the count still shows them
  }
  const fresh = reply.items.filter((item) => item.seq > toldSeq && item.seq > reply.read_seq);
  toldSeq = Math.max(toldSeq, ...reply.items.map((item) => item.seq));
  const { title, icon } = start.desktop;
  for (const item of fresh.reverse()) {
    // Oldest first, as they happened.
    popUp({ title, body: item.text, tag: `branchline-notification-${item.seq}`, url: item.url }, icon);
  }
}

function onInbox(frame) {
  if (frame.type === "notifications.read") {
    if (frame.data.read_seq <= readSeq) return;
    readSeq = frame.data.read_seq;
    count = frame.data.unread;
  } else if (start.types.includes(frame.type) && frame.seq > readSeq) {
    count += 1;
    if (wantsDesktop()) {
      // Several arriving together (a meeting's changes) are asked for in one go.
      telling ??= setTimeout(tellDesktop, 200);
    } else {
      toldSeq = Math.max(toldSeq, frame.seq); // seen in the page: not for the desktop later
    }
  } else {
    return;
  }
  show();
}

conn.hear(start.stream, onInbox, { since: start.since });

function followAnnouncements() {
  const desktop = start.desktop;
  for (const { stream, branch, since } of desktop.announcements) {
    const onAnnouncement = (frame) => {
      const a = frame.data;
      if (frame.type !== "announcement.posted" || !a.author || a.author.id === start.me || !wantsDesktop()) return;
      popUp(
        {
          title: interpolate(desktop.announcement_title, { branch }),
          body: interpolate(desktop.announcement_body, { name: a.author.name, title: a.title }),
          tag: `branchline-announcement-${a.id}`,
          url: `/announcements/${Number(a.id)}/`,
        },
        desktop.icon,
      );
    };
    if (conn.follows(stream)) conn.listen(stream, onAnnouncement);
    else conn.subscribe(stream, { event: onAnnouncement }, { since, here: false });
  }
}

// Only where this browser shows them, and once every script of the page (the
// announcements tab's count, loaded after this one, among them) has said which streams
// it follows: the page's module scripts all run before DOMContentLoaded.
if (desktopState() === "on") {
  if (document.readyState === "complete") followAnnouncements();
  else document.addEventListener("DOMContentLoaded", followAnnouncements);
}

// A shared computer keeps no drafts of whoever logged out (drafts.js).
document.getElementById("logout-form")?.addEventListener("submit", forgetAllDrafts);
