// Helpers shared by the forum and moderation pages: building DOM nodes safely (text
// is always set as text; only the server's sanitised post HTML is ever parsed),
// times in the branch's zone, small-action lines in the page's language.
import { interpolate } from "./realtime.js";

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (typeof attrs === "string") {
    node.className = attrs;
  } else if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** "YYYY-MM-DD HH:mm" in the branch's zone (not the browser's), as the server renders it. */
export function timeFormatter(timeZone) {
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
  } catch {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone: "UTC", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
  }
  return (iso) => {
    if (!iso) return "";
    const p = Object.fromEntries(parts.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  };
}

export function timeElement(iso, format) {
  const node = el("time", { text: format(iso) });
  if (iso) node.dateTime = iso;
  return node;
}

export function formatDuration(seconds, units) {
  if (seconds && seconds % 3600 === 0) return interpolate(units.hours, { n: seconds / 3600 });
  if (seconds && seconds % 60 === 0) return interpolate(units.minutes, { n: seconds / 60 });
  return interpolate(units.seconds, { n: seconds });
}

/**
 * A template with %(name)s placeholders, as nodes: text stays text, and a value may
 * be a node (a link). Mirrors frontend/forum_text.py's action_line.
 */
export function fillTemplate(template, values) {
  const out = [];
  String(template)
    .split(/%\((\w+)\)s/)
    .forEach((part, index) => {
      if (index % 2 === 0) {
        if (part) out.push(document.createTextNode(part));
      } else {
        const value = values[part];
        if (value instanceof Node) out.push(value);
        else out.push(document.createTextNode(value === undefined || value === null ? "" : String(value)));
      }
    });
  return out;
}

export function actionLine(action, strings) {
  const a = action || {};
  let key = a.type in strings.actions ? a.type : "other";
  if (a.type === "slow_mode" && !a.seconds) key = "slow_mode_off";
  const values = {
    by: el("span", "actor", a.by || ""),
    duration: formatDuration(Number(a.seconds || 0), strings.durations),
    posts: a.posts ?? "",
    board: a.board ? el("a", { href: `/forum/boards/${Number(a.board)}/`, text: a.board_name || "" }) : a.board_name || "",
    title: a.from_title || "",
  };
  if (key === "split" && a.to_topic) {
    values.title = el("a", { href: `/forum/topics/${Number(a.to_topic)}/`, text: a.to_title || "" });
  }
  return fillTemplate(strings.actions[key], values);
}

export function authorKey(author) {
  if (!author || author.id === null || author.id === undefined) return "";
  return `${author.kind === "citizen" ? "c" : "u"}:${author.id}`;
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A polite live region: re-set so repeated identical messages are announced too. */
export function announcer(node) {
  return (text) => {
    if (!node) return;
    node.textContent = "";
    requestAnimationFrame(() => {
      node.textContent = text;
    });
  };
}

/** Show text (or hide when empty) in an alert element. */
export function setAlert(node, text) {
  if (!node) return;
  node.textContent = text || "";
  node.hidden = !text;
}
