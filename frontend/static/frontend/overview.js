// 支部概况: the branch's front page. The server renders it; this follows the streams
// whose events may change what it shows (the reader's inbox, the branch's
// announcements, and for those who run the branch its review queue, its scheduled
// announcements and its read receipts) and asks the server for the body again.
import { connection, describeError, readJSON } from "./realtime.js";

const config = readJSON("overview-config");
const rt = readJSON("bl-realtime-strings");
const conn = connection();
const body = document.getElementById("overview");
const pageError = document.getElementById("page-error");
// Inbox events that change the page: meetings, leave, discussions, and reads made on
// another page or device (the unread count).
const INBOX_TYPES = /^(meeting\.|leave\.|discussion\.|announcements\.read$)/;
// A minute: meetings start and end, discussions open and close, without an event to
// the reader's inbox; asked only while the page is shown.
const EVERY_MS = 60_000;

let timer = null;
let running = false;
let again = false;

async function refresh() {
  if (running) {
    again = true;
    return;
  }
  running = true;
  try {
    const response = await fetch(config.fragment_url, { credentials: "same-origin" });
    // Redirected: the login page (the session ended); the connection's status says so.
    if (response.ok && !response.redirected) {
      body.innerHTML = await response.text();
      body.dataset.refreshed = String(Date.now());
    }
  } catch {
    // Offline: the reconnect refreshes it.
  } finally {
    running = false;
    if (again) {
      again = false;
      soon();
    }
  }
}

// Events come in bursts; one fetch answers a burst. A fetch already due is not put off
// by later events, so a steady trickle still gets one every `delay`. Read receipts (a
// frame per member reading, secretaries only) wait longer: a branch reading a new notice
// at once would otherwise have this page fetch several times a second.
let due = 0;
function soon(delay = 300) {
  const at = Date.now() + delay;
  if (timer !== null && due <= at) return;
  clearTimeout(timer);
  due = at;
  timer = setTimeout(() => {
    timer = null;
    refresh();
  }, delay);
}
const RECEIPTS_DELAY = 1500;

for (const { stream, since } of config.streams) {
  const inbox = stream.startsWith("inbox:");
  const onEvent = (frame) => {
    if (!inbox || INBOX_TYPES.test(String(frame.type))) soon();
  };
  // Refused or dropped (the reader left the branch, or lost a role): said on the page.
  const error = (refusal) => {
    pageError.textContent = describeError(refusal, rt);
    pageError.hidden = false;
  };
  conn.subscribe(stream, { event: onEvent, ephemeral: () => soon(RECEIPTS_DELAY), error }, { since, here: false });
}

let wasOffline = false;
conn.onStatus((status) => {
  if (status === "online" && wasOffline) soon();
  if (status !== "online") wasOffline = true;
});

setInterval(() => {
  if (document.visibilityState === "visible") refresh();
}, EVERY_MS);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") soon();
});
