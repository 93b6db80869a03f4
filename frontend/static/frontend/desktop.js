// Desktop notifications (桌面提醒): while a Branchline page is open in the background,
// a new notification (提醒) also pops up on the member's desktop, in words, and a click
// brings the tab forward on what it is about. The choice is this browser's (the
// browser's own permission, and a switch kept in localStorage), so a member can have
// them on a work computer and off on a shared one.

const KEY = "branchline.desktopNotifications";

/** What this browser can do and what the member chose:
 * "unsupported" (no Notification API), "insecure" (plain http on a LAN address: browsers
 * allow it only on https and localhost), "denied" (blocked in the browser's settings),
 * "ask" (never asked), "off" (allowed, switched off here), "on". */
export function desktopState() {
  if (!("Notification" in globalThis)) return "unsupported";
  if (!globalThis.isSecureContext) return "insecure";
  const permission = Notification.permission;
  if (permission === "denied") return "denied";
  if (permission !== "granted") return "ask";
  return readChoice() === "off" ? "off" : "on";
}

function readChoice() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null; // storage blocked: the browser's permission decides alone
  }
}

function writeChoice(value) {
  try {
    localStorage.setItem(KEY, value);
  } catch {
    /* storage blocked: nothing to remember it in */
  }
}

/** Ask the browser (on a click: browsers ignore a request without one) and switch on. */
export async function switchDesktopOn() {
  if (desktopState() === "ask") await Notification.requestPermission();
  if (Notification.permission === "granted") writeChoice("on");
  return desktopState();
}

export function switchDesktopOff() {
  writeChoice("off");
  return desktopState();
}

/** Whether a notification arriving now should pop up: switched on, and nobody is
 * looking at this page. */
export function wantsDesktop() {
  return desktopState() === "on" && document.visibilityState === "hidden";
}

/** Pop one up: {title, body, tag, url}. Every open tab of the member may call this for
 * the same one: the same tag makes the browser show it once. */
export function popUp({ title, body, tag, url }, icon) {
  let shown;
  try {
    shown = new Notification(title, { body, tag, icon, lang: document.documentElement.lang });
  } catch {
    return null; // e.g. Android Chrome allows them only from a service worker
  }
  shown.onclick = () => {
    window.focus();
    if (url) location.assign(url);
    shown.close();
  };
  return shown;
}
