// The branch's announcements page (通知公告): a live list, the unread count, mark all
// read, older pages, who is here, and the secretary's compose form.
import { Status, connection, describeError, interpolate, listNames, readJSON } from "./realtime.js";
import { keepDraft } from "./drafts.js";
import { timeFormatter } from "./forum_common.js";
import { bindPreview, bindWriteForm, confirmTwice, textForm } from "./write_form.js";
import { alsoChoice, bindScheduled, branchClock } from "./scheduled.js";
import { bindUploads, editAttachments, formatSize } from "./uploads.js";

const config = readJSON("announcements-config");
const t = readJSON("announcements-strings");
const rt = readJSON("bl-realtime-strings");
const conn = connection();

const $ = (id) => document.getElementById(id);
const list = $("announcement-list");
const badge = $("unread-badge");
const markAllButton = $("mark-all-read");
const olderButton = $("load-older");
const announcer = $("live-announcer");
const pageError = $("page-error");
const presenceLine = $("presence");
const presenceNames = $("presence-names");
const baseTitle = document.title;
const lang = document.documentElement.lang || "zh-hans";

const state = {
  items: new Map(), // id -> announcement
  readSeq: 0,
  unread: Number(badge.dataset.count || 0),
  hasMore: !olderButton.hidden,
  synced: false, // a snapshot has replaced the server-rendered list
  present: { people: new Map(), count: 0 }, // who is here (realtime.js presence)
};

// Times arrive as ISO UTC; show them in the BRANCH's zone (not the browser's), in the
// same "YYYY-MM-DD HH:mm" form the server renders with Django's timezone tag.
const formatTime = timeFormatter(config.time_zone);
const uploadContext = { config, t, rt };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Unread for this reader: after their marker, not read one by one, not their own. */
function isUnread(a) {
  return a.seq > state.readSeq && !a.read && a.author.id !== config.me;
}

// Items a secretary is editing keep their node (and what was typed) across re-renders.
const editing = new Map(); // id -> li

function renderItem(a) {
  if (editing.has(a.id)) return editing.get(a.id);
  const li = el("li", "announcement");
  li.dataset.id = a.id;
  li.dataset.seq = a.seq;
  li.dataset.mine = String(a.author.id === config.me);
  li.classList.toggle("is-unread", isUnread(a));
  const article = el("article");
  const title = el("h3", "announcement-title");
  const link = el("a", "", a.title);
  link.href = `/announcements/${Number(a.id)}/`;
  title.append(link);
  if (a.pinned_at) {
    title.prepend(el("span", "pin-label", a.pinned_until ? interpolate(t.pinned_until, { time: formatTime(a.pinned_until) }) : t.pinned));
  }
  title.append(el("span", "new-label", t.new));
  li.classList.toggle("is-pinned", Boolean(a.pinned_at));
  const meta = el("p", "announcement-meta");
  const time = el("time", "", formatTime(a.created_at));
  time.dateTime = a.created_at;
  const sep = el("span", "sep", " · ");
  sep.setAttribute("aria-hidden", "true");
  meta.append(el("span", "author", a.author ? a.author.name : ""), sep, time);
  if (a.edited_at) {
    const sep2 = el("span", "sep", " · ");
    sep2.setAttribute("aria-hidden", "true");
    meta.append(sep2, el("span", "edited", interpolate(t.edited, { time: formatTime(a.edited_at) })));
  }
  const body = el("div", "announcement-body post-body");
  body.innerHTML = a.body_html; // rendered and sanitised by the server: the only HTML parsed here
  article.append(title, meta);
  const routing = renderRouting(a);
  if (routing) article.append(routing);
  article.append(body);
  if (a.attachments && a.attachments.length) article.append(renderAttachments(a.attachments));
  if (config.can_post) {
    const receipt = renderReceipt(a);
    const controls = renderControls(a);
    controls.prepend(receipt.toggle);
    article.append(controls, receipt.panel);
  }
  li.append(article);
  return li;
}

/** 下发: the branch a copy came from, or the branches below the original also went to. */
function renderRouting(a) {
  if (a.sent_from) {
    const line = el("p", "announcement-routing small");
    line.append(el("span", "tag", interpolate(t.sent_from, { name: a.sent_from.name })));
    return line;
  }
  if (a.sent_to && a.sent_to.length) {
    const names = listNames(a.sent_to.map((branch) => branch.name), lang);
    return el("p", "announcement-routing muted small", interpolate(t.sent_to, { names }));
  }
  return null;
}

/** Sizes as the server's pages show them (Django's filesizeformat): 1.2 MB. */
function renderAttachments(files) {
  const ul = el("ul", "attachments");
  ul.setAttribute("aria-label", t.attachments);
  for (const f of files) {
    const link = el("a", "", f.name);
    link.href = f.url;
    const li = el("li");
    if (String(f.content_type).startsWith("image/")) {
      // A picture (a poster, a photo of a notice) is shown, not only named.
      const picture = el("a", "attachment-picture");
      picture.href = f.url;
      const img = el("img");
      img.src = f.preview_url || f.url; // the smaller copy, when the server made one
      img.alt = f.name;
      img.loading = "lazy";
      picture.append(img);
      li.append(picture);
    }
    li.append(link, " ", el("span", "muted small", formatSize(f.size, t)));
    ul.append(li);
  }
  return ul;
}

function replaceItem(a) {
  const old = list.querySelector(`.announcement[data-id="${a.id}"]`);
  if (!old || editing.has(a.id)) return;
  const li = renderItem(a);
  li.classList.toggle("is-unread", old.classList.contains("is-unread"));
  old.replaceWith(li);
}

function removeItem(id) {
  state.items.delete(id);
  editing.delete(id);
  openReceipts.delete(id);
  list.querySelector(`.announcement[data-id="${id}"]`)?.remove();
  if (!list.querySelector(".announcement")) renderList();
}

// -- secretaries' corrections: edit in place, withdraw (撤回) with a confirming click ------

function renderControls(a) {
  const bar = el("p", "announcement-actions");
  const edit = el("button", "link-button", t.edit);
  edit.type = "button";
  edit.addEventListener("click", () => startEditing(a.id));
  const withdraw = el("button", "link-button danger", t.withdraw);
  withdraw.type = "button";
  confirmTwice(withdraw, {
    label: t.withdraw,
    // 下发: the copies in the branches below go with it
    confirmLabel: a.sent_to && a.sent_to.length ? t.confirm_withdraw_below : t.confirm_withdraw,
    act: async () => {
      withdraw.disabled = true;
      try {
        await conn.write("announcements.withdraw", { announcement: a.id });
        removeItem(a.id);
        showPageError("");
      } catch (error) {
        withdraw.disabled = false;
        showPageError(`${t.withdraw_failed} ${describeError(error, rt)}`);
      }
    },
  });
  const pin = el("button", "link-button", a.pinned_at ? t.unpin : t.pin);
  pin.type = "button";
  const setPin = async (args) => {
    try {
      const reply = await conn.write("announcements.pin", { announcement: a.id, ...args });
      updateItem(reply.announcement);
      renderList();
      showPageError("");
    } catch (error) {
      pin.disabled = false;
      showPageError(`${t.pin_failed} ${describeError(error, rt)}`);
    }
  };
  pin.addEventListener("click", () => {
    pin.disabled = true;
    if (a.pinned_at) setPin({ pinned: false });
    else pin.replaceWith(pinChooser(pin, setPin)); // 置顶至: for how long
  });
  // 下发: a copy sent from above is corrected or withdrawn by the sender's secretaries;
  // the branch's own still pin it and remind its readers.
  const mayChange = !a.sent_from || (config.changes_from || []).includes(a.sent_from.id);
  if (mayChange) bar.append(edit, pin, withdraw);
  else bar.append(pin);
  return bar;
}

// -- secretaries: who has read it (loaded when asked for; the counts come with the list) --

const openReceipts = new Set(); // ids whose reader list is open: kept open across re-renders

// 置顶: how long, then pin (or go back). The time it ends goes as UTC; the server keeps
// it and unpins by itself then.
const PIN_DAYS = [0, 1, 3, 7, 30];

function pinChooser(pin, setPin) {
  const box = el("span", "pin-chooser");
  const select = el("select");
  select.setAttribute("aria-label", t.pin_for);
  const label = { 0: t.pin_forever, 1: t.pin_day, 7: t.pin_week, 30: t.pin_month };
  for (const days of PIN_DAYS) {
    const option = el("option", "", label[days] || interpolate(t.pin_days, { days }));
    option.value = String(days);
    select.append(option);
  }
  const go = el("button", "link-button", t.pin);
  go.type = "button";
  const back = el("button", "link-button", t.cancel);
  back.type = "button";
  back.addEventListener("click", () => {
    pin.disabled = false;
    box.replaceWith(pin);
  });
  go.addEventListener("click", () => {
    go.disabled = true;
    const days = Number(select.value);
    box.replaceWith(pin);
    setPin({ pinned: true, ...(days ? { until: new Date(Date.now() + days * 86_400_000).toISOString() } : {}) });
  });
  box.append(select, go, back);
  setTimeout(() => select.focus());
  return box;
}

function receiptLabel(a) {
  return a.receipt ? interpolate(t.receipt, a.receipt) : t.readers;
}

function renderReceipt(a) {
  const toggle = el("button", "link-button receipt-toggle", receiptLabel(a));
  toggle.type = "button";
  const panel = el("div", "receipt-panel");
  panel.id = `receipt-${a.id}`;
  toggle.setAttribute("aria-controls", panel.id);
  const show = (open) => {
    toggle.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    if (open) openReceipts.add(a.id);
    else openReceipts.delete(a.id);
  };
  toggle.addEventListener("click", () => {
    const open = panel.hidden;
    show(open);
    if (open) loadReaders(a.id, panel);
  });
  show(openReceipts.has(a.id));
  if (!panel.hidden) loadReaders(a.id, panel);
  return { toggle, panel };
}

// 下发: on an original, each reader comes with the branches below they read it in.
function nameList(people) {
  const label = (person) => (person.branches
    ? interpolate(t.reader_in, { name: person.name, branches: listNames(person.branches, lang) })
    : person.name);
  return people.length ? listNames(people.map(label), lang) : t.nobody;
}

// Ask who has read it; the count it gives is kept and shown on the item's toggle.
async function askReaders(id) {
  const reply = await conn.request("announcements.readers", { announcement: id });
  const receipt = { read: reply.read.length, of: reply.read.length + reply.unread.length };
  const a = state.items.get(id);
  if (a) a.receipt = receipt;
  const toggle = list.querySelector(`.announcement[data-id="${id}"] .receipt-toggle`);
  if (toggle) toggle.textContent = interpolate(t.receipt, receipt);
  return reply;
}

// A new announcement arrives without a count (events carry none): ask once.
async function fetchReceipt(id) {
  try {
    await askReaders(id);
  } catch {
    // The label stays "who has read it"; opening it asks again.
  }
}

async function loadReaders(id, panel) {
  const refresh = el("button", "link-button", t.refresh);
  refresh.type = "button";
  refresh.addEventListener("click", () => loadReaders(id, panel));
  panel.setAttribute("aria-busy", "true");
  panel.replaceChildren(el("p", "muted small", t.loading));
  try {
    const reply = await askReaders(id);
    const group = (label, people, className) => {
      const line = el("p", className);
      line.append(el("strong", "", interpolate(label, { count: people.length })), " ", nameList(people));
      return line;
    };
    panel.replaceChildren(
      group(t.not_read_by, reply.unread, "receipt-unread"),
      group(t.read_by, reply.read, "receipt-read"),
      el("p", "muted small", t.receipt_hint),
    );
    if (reply.unread.length) panel.append(renderRemind(id, reply.reminded_at));
    panel.append(refresh);
  } catch (error) {
    panel.replaceChildren(el("p", "field-error", `${t.readers_failed} ${describeError(error, rt)}`), refresh);
  }
  panel.removeAttribute("aria-busy");
}

// 提醒未读: each member who has not read it gets a notification (and a mail if they take
// announcements by e-mail); the server allows one reminder every half hour.
function renderRemind(id, remindedAt) {
  const box = el("p", "receipt-remind");
  const button = el("button", "button small", t.remind);
  button.type = "button";
  const status = el("span", "muted small");
  status.setAttribute("role", "status");
  if (remindedAt) status.textContent = interpolate(t.reminded_at, { time: formatTime(remindedAt) });
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = t.reminding;
    try {
      const reply = await conn.write("announcements.remind", { announcement: id });
      status.textContent = `${interpolate(t.reminded, { count: reply.reminded })} ${interpolate(t.reminded_at, {
        time: formatTime(reply.reminded_at),
      })}`;
    } catch (error) {
      status.textContent = `${t.remind_failed} ${describeError(error, rt)}`;
      button.disabled = false;
    }
  });
  box.append(button, " ", status);
  return box;
}

let editForms = 0;

function startEditing(id) {
  const a = state.items.get(id);
  const old = list.querySelector(`.announcement[data-id="${id}"]`);
  if (!a || !old || editing.has(id)) return;
  const n = ++editForms;
  const li = el("li", "announcement is-editing");
  li.dataset.id = a.id;
  li.dataset.seq = a.seq;
  li.dataset.mine = old.dataset.mine;
  const files = editAttachments(a.attachments, `edit-${n}`, uploadContext);
  const extra = [files.wrap];
  if (a.sent_to && a.sent_to.length) extra.push(el("p", "muted small", t.corrects_below));
  const { form, formError, statusLine, cancel, title, body } = textForm(`edit-${n}`, a, { t, config }, extra);
  const [titleInput, bodyInput] = [title.input, body.input];
  li.append(form);

  const finish = (latest) => {
    editing.delete(id);
    const fresh = renderItem(latest || state.items.get(id) || a);
    fresh.classList.toggle("is-unread", old.classList.contains("is-unread"));
    li.replaceWith(fresh);
  };
  cancel.addEventListener("click", () => {
    files.uploads.discard(); // uploads made for this correction are not wanted now
    finish();
  });
  bindWriteForm(form, {
    fields: {
      title: { input: titleInput, error: title.error },
      body: { input: bodyInput, error: body.error },
      attachments: { input: files.input, error: files.error },
    },
    validate: () => files.uploads.problem(),
    statusLine,
    formError,
    conn,
    rt,
    strings: { sending: t.saving, queued: t.queued_change, failed: t.edit_failed, fixFields: t.fix_fields },
    send: () =>
      conn.write("announcements.edit", {
        announcement: id,
        title: titleInput.value,
        body: bodyInput.value,
        attachments: [...files.kept.keys(), ...files.uploads.ids()],
      }),
    onSuccess: (reply) => {
      finish(updateItem(reply.announcement) || reply.announcement);
    },
  });
  editing.set(id, li);
  old.replaceWith(li);
  titleInput.focus();
}

// Pinned ones first (the latest pinned first), then newest first.
function sortedItems() {
  const pinnedAt = (a) => (a.pinned_at ? Date.parse(a.pinned_at) : 0);
  return [...state.items.values()].sort((x, y) => pinnedAt(y) - pinnedAt(x) || y.seq - x.seq || y.id - x.id);
}

// An announcement as it is now (an edit, a pin), keeping the secretary's read count.
function updateItem(a) {
  const known = state.items.get(a.id);
  if (!known) return null;
  const latest = { ...a, receipt: known.receipt };
  state.items.set(a.id, latest);
  return latest;
}

// Older pages go by seq among the unpinned (a pinned one is listed once, at the top).
function unpinnedSeqs() {
  return [...state.items.values()].filter((a) => !a.pinned_at).map((a) => a.seq);
}

function renderList() {
  for (const li of list.querySelectorAll(".announcement[data-watched='true']")) stopWatching(li);
  const items = sortedItems();
  if (items.length === 0) list.replaceChildren(el("li", "empty", t.empty));
  else list.replaceChildren(...items.map(renderItem));
  olderButton.hidden = !state.hasMore;
}

function insertItem(a) {
  const li = renderItem(a);
  li.classList.add("is-arriving");
  list.querySelector(".empty")?.remove();
  const after = [...list.children].find((node) => !node.classList.contains("is-pinned") && Number(node.dataset.seq) < a.seq);
  list.insertBefore(li, after || null);
}

function renderUnread() {
  const online = conn.status === Status.ONLINE;
  badge.dataset.count = String(state.unread);
  badge.textContent = interpolate(t.unread, { count: state.unread });
  badge.hidden = state.unread === 0;
  markAllButton.disabled = state.unread === 0 || !online || !state.synced;
  document.title = state.unread ? `(${state.unread}) ${baseTitle}` : baseTitle;
  for (const li of list.querySelectorAll(".announcement")) {
    const a = state.items.get(Number(li.dataset.id));
    const unread = a ? isUnread(a) : li.classList.contains("is-unread");
    li.classList.toggle("is-unread", unread);
    if (unread) watchForReading(li);
    else stopWatching(li);
  }
}

function renderPresence() {
  const me = `u:${config.me}`;
  const { people, count } = state.present;
  const others = people ? [...people].filter(([key]) => key !== me).map(([, name]) => name) : [];
  let text = t.nobody_here;
  if (!people) {
    text = interpolate(t.people_here, { count: count.toLocaleString(lang) });
  } else if (others.length) {
    text = listNames(others, lang);
  }
  presenceNames.textContent = text;
  presenceLine.hidden = conn.status !== Status.ONLINE;
}

function announce(text) {
  // Re-set so screen readers announce repeated identical messages too.
  announcer.textContent = "";
  requestAnimationFrame(() => {
    announcer.textContent = text;
  });
}

function showPageError(text, link) {
  pageError.textContent = text;
  if (link) {
    const a = el("a", "", link.text);
    a.href = link.href;
    pageError.append(" ", a);
  }
  pageError.hidden = !text;
}

// -- read on view (已读) -----------------------------------------------------------------
// An unread announcement counts as read once most of it (or, a long one, most of the
// screen) has been in view for READ_AFTER_MS while this tab is visible. The ids seen
// go to the server together; the marker does not move, so older ones not yet seen stay
// unread.

const READ_AFTER_MS = 1500;
const readTimers = new Map(); // id -> timer, while it is in view
const seenIds = new Set(); // seen, not yet acknowledged by the server
let sendingSeen = false;

function noteRead(readSeq, ids, unread) {
  if (readSeq > state.readSeq) state.readSeq = readSeq;
  for (const id of ids) {
    const a = state.items.get(id);
    if (a) a.read = true;
  }
  if (typeof unread === "number") state.unread = unread;
  renderUnread();
}

function inViewEnough(entry) {
  const shown = entry.intersectionRect.height;
  return entry.isIntersecting && shown >= Math.min(entry.boundingClientRect.height * 0.6, window.innerHeight * 0.5);
}

function stopTimer(id) {
  clearTimeout(readTimers.get(id));
  readTimers.delete(id);
}

const readingObserver =
  "IntersectionObserver" in window
    ? new IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            const id = Number(entry.target.dataset.id);
            if (inViewEnough(entry) && document.visibilityState === "visible") {
              if (!readTimers.has(id)) readTimers.set(id, setTimeout(() => sawIt(id), READ_AFTER_MS));
            } else {
              stopTimer(id);
            }
          }
        },
        { threshold: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] },
      )
    : null;

function watchForReading(li) {
  if (!readingObserver || li.dataset.watched === "true") return;
  li.dataset.watched = "true";
  readingObserver.observe(li);
}

function stopWatching(li) {
  if (!readingObserver || li.dataset.watched !== "true") return;
  delete li.dataset.watched;
  readingObserver.unobserve(li);
  stopTimer(Number(li.dataset.id));
}

function sawIt(id) {
  readTimers.delete(id);
  const a = state.items.get(id);
  if (!a || !isUnread(a)) return;
  seenIds.add(id);
  sendSeen();
}

async function sendSeen() {
  if (sendingSeen || !seenIds.size || conn.status !== Status.ONLINE || !state.synced) return;
  sendingSeen = true;
  const ids = [...seenIds].slice(0, 100);
  try {
    const reply = await conn.request("announcements.mark_read", { branch: config.branch, announcements: ids });
    for (const id of ids) seenIds.delete(id);
    noteRead(reply.read_seq, ids, reply.unread);
  } catch (error) {
    // Offline, or the connection dropped: sent again once it is back. Refused (the
    // list changed under it): forgotten; the snapshot that follows says what is read.
    if (!["offline", "disconnected"].includes(error.code)) for (const id of ids) seenIds.delete(id);
  }
  sendingSeen = false;
  if (seenIds.size && conn.status === Status.ONLINE) sendSeen();
}

// A tab in the background reads nothing: timers stop, and start again from its return.
document.addEventListener("visibilitychange", () => {
  for (const id of [...readTimers.keys()]) stopTimer(id);
  if (document.visibilityState !== "visible") return;
  for (const li of list.querySelectorAll(".announcement[data-watched='true']")) {
    stopWatching(li);
    watchForReading(li); // observed anew: its first report says whether it is in view
  }
});

// -- the stream -------------------------------------------------------------------------

conn.subscribe(config.stream, {
  snapshot(snapshot) {
    if (!snapshot) return;
    state.items = new Map(snapshot.announcements.map((a) => [a.id, a]));
    state.readSeq = snapshot.read_seq;
    state.unread = snapshot.unread;
    state.hasMore = snapshot.announcements.filter((a) => !a.pinned_at).length >= config.page_size;
    state.synced = true;
    list.dataset.synced = "true"; // the live state has replaced the server-rendered list
    renderList();
    renderUnread();
  },
  event(frame) {
    if (frame.type === "announcement.edited") {
      // Carries the announcement's own seq: its place and unread state do not change.
      // A secretary's read count is not in events: it stays what the list said.
      const a = updateItem(frame.data);
      if (!a) return; // on a page not loaded here
      replaceItem(a);
      announce(interpolate(t.edited_live, { title: a.title }));
      return;
    }
    if (frame.type === "announcement.pinned") {
      const before = state.items.get(frame.data.id);
      const a = updateItem(frame.data);
      if (!a) {
        // Pinned from further down than this page has loaded: it now belongs at the top.
        if (frame.data.pinned_at) state.items.set(frame.data.id, frame.data);
      } else if (Boolean(before.pinned_at) === Boolean(a.pinned_at)) {
        return;
      }
      renderList();
      renderUnread();
      announce(interpolate(frame.data.pinned_at ? t.pinned_live : t.unpinned_live, { title: frame.data.title }));
      return;
    }
    if (frame.type === "announcement.withdrawn") {
      const gone = frame.data;
      // It no longer counts as unread (the server's count leaves it out too).
      const known = state.items.get(gone.id);
      if (isUnread(known || gone) && state.unread > 0) state.unread -= 1;
      if (state.items.has(gone.id)) announce(t.withdrawn_live);
      removeItem(gone.id);
      renderUnread();
      return;
    }
    if (frame.type !== "announcement.posted") return;
    // The stream's seq is the announcement's seq (unread counting uses it).
    const a = { ...frame.data, seq: frame.seq };
    if (state.items.has(a.id)) return;
    state.items.set(a.id, a);
    insertItem(a);
    if (config.can_post) fetchReceipt(a.id);
    if (isUnread(a)) state.unread += 1;
    renderUnread();
    announce(interpolate(t.posted_live, { title: a.title }));
  },
  presence(here) {
    state.present = here;
    renderPresence();
  },
  error(error) {
    showPageError(describeError(error, rt));
  },
});

// The reader's own stream: marking read in another tab or on another device updates
// this page too.
conn.subscribe(`inbox:${config.me}`, {
  event(frame) {
    if (frame.type !== "announcements.read" || frame.data.branch !== config.branch) return;
    const ones = frame.data.announcements || [];
    if (frame.data.read_seq <= state.readSeq && !ones.length) return;
    noteRead(frame.data.read_seq, ones, frame.data.unread);
  },
});

// Secretaries: read counts move as members read (ephemeral frames, secretaries only).
if (config.can_post) {
  conn.subscribe(`receipts:${config.branch}`, {
    ephemeral(frame) {
      if (frame.op !== "receipts") return;
      for (const [key, receipt] of Object.entries(frame.counts)) {
        const id = Number(key);
        const a = state.items.get(id);
        if (!a) continue;
        a.receipt = receipt;
        const item = list.querySelector(`.announcement[data-id="${id}"]`);
        const toggle = item && item.querySelector(".receipt-toggle");
        if (toggle) toggle.textContent = interpolate(t.receipt, receipt);
        // An open list of names is asked for again.
        const panel = item && item.querySelector(".receipt-panel");
        if (panel && openReceipts.has(id)) loadReaders(id, panel);
      }
    },
  });
}

conn.onStatus((status) => {
  olderButton.disabled = status !== Status.ONLINE;
  if (status === Status.ONLINE) sendSeen();
  renderUnread();
  renderPresence();
  if (status === Status.ENDED) {
    const next = encodeURIComponent(location.pathname);
    showPageError(rt.error_unauthenticated, { text: t.log_in, href: `${config.login_url}?next=${next}` });
  }
});

// A post still waiting for the connection lives only in this page: warn before leaving.
window.addEventListener("beforeunload", (event) => {
  if (conn.unacknowledgedWrites > 0) {
    event.preventDefault();
    event.returnValue = "";
  }
});

markAllButton.addEventListener("click", async () => {
  const seqs = [...state.items.values()].map((a) => a.seq);
  const seq = Math.max(conn.lastSeq(config.stream) || 0, ...seqs, 0);
  markAllButton.disabled = true;
  try {
    const reply = await conn.request("announcements.mark_read", { branch: config.branch, seq });
    noteRead(reply.read_seq, [], reply.unread);
    showPageError("");
  } catch (error) {
    showPageError(`${t.mark_read_failed} ${describeError(error, rt)}`);
  }
  renderUnread();
});

olderButton.addEventListener("click", async () => {
  const seqs = unpinnedSeqs();
  if (!seqs.length) return;
  olderButton.disabled = true;
  try {
    const reply = await conn.request("announcements.list", {
      branch: config.branch,
      before: Math.min(...seqs),
      limit: config.page_size,
    });
    for (const a of reply.announcements) state.items.set(a.id, a);
    state.hasMore = reply.announcements.length >= config.page_size; // older pages hold no pinned ones
    renderList();
    renderUnread();
    showPageError("");
  } catch (error) {
    showPageError(`${t.load_older_failed} ${describeError(error, rt)}`);
  }
  olderButton.disabled = conn.status !== Status.ONLINE;
});

// -- compose (secretaries only) ---------------------------------------------------------

const form = $("compose");
if (form) {
  const statusLine = $("compose-status");
  const scheduled = bindScheduled({ conn, config, t, rt });
  const clock = branchClock(config.time_zone);
  // 定时发布: "Publish later" shows the time to publish at and turns the button into "Schedule".
  const later = $("compose-later");
  const laterFields = $("compose-later-fields");
  const publishAt = $("compose-publish-at");
  const writeStrings = { sending: t.publishing, queued: t.queued, failed: t.publish_failed, fixFields: t.fix_fields };
  const showLater = () => {
    laterFields.hidden = !later.checked;
    writeStrings.sending = later.checked ? t.scheduling : t.publishing;
    writeStrings.failed = later.checked ? t.schedule_failed : t.publish_failed;
    $("compose-submit").textContent = later.checked ? t.schedule : t.publish;
    if (later.checked) publishAt.min = clock.now();
  };
  later.addEventListener("change", () => {
    showLater();
    if (later.checked) publishAt.focus();
  });
  // 下发: the branches below a post may go to as well (only where there are some).
  const alsoField = form.querySelector(".also-field");
  const also = alsoField && alsoChoice(alsoField);
  const preview = bindPreview("compose", { conn, rt, strings: t.preview });
  const uploads = bindUploads($("compose-files"), $("compose-uploads"), $("compose-attachments-error"), uploadContext);
  const draft = keepDraft(form, `announcement:${config.branch}`, {
    title: $("compose-title"), body: $("compose-body"), ...(also ? { also: also.field } : {}),
  }, rt, conn);
  bindWriteForm(form, {
    fields: {
      title: { input: $("compose-title"), error: $("compose-title-error") },
      body: { input: $("compose-body"), error: $("compose-body-error") },
      attachments: { input: $("compose-files"), error: $("compose-attachments-error") },
      publish_at: { input: publishAt, error: $("compose-publish-at-error") },
      ...(also ? { also: { input: also.boxes[0], error: $("compose-also-error") } } : {}),
    },
    validate: () =>
      uploads.problem() || (later.checked && !publishAt.value ? { field: "publish_at", message: t.publish_at_required } : null),
    statusLine,
    formError: $("compose-error"),
    conn,
    rt,
    strings: writeStrings,
    send: () => {
      const args = {
        branch: config.branch,
        title: $("compose-title").value,
        body: $("compose-body").value,
        attachments: uploads.ids(),
      };
      if (also && also.chosen().length) args.also = also.chosen();
      if (!later.checked) return conn.write("announcements.post", args);
      // A time on the branch's clock, as the input shows it; the server reads it so.
      return conn.write("announcements.schedule", { ...args, publish_at: publishAt.value });
    },
    onFieldError: (name) => {
      if (name === "body") preview.reset();
    },
    onSuccess: (reply) => {
      draft.clear();
      preview.reset();
      uploads.clear();
      showLater(); // the form was reset: "Publish later" is unticked again
      if (reply.scheduled) {
        scheduled.added(reply.scheduled);
        statusLine.textContent = reply.replayed
          ? t.scheduled_replayed
          : interpolate(t.scheduled_ok, { time: clock.show(reply.scheduled.publish_at) });
        return;
      }
      statusLine.textContent = reply.replayed ? t.published_replayed : t.published;
    },
  });
}
