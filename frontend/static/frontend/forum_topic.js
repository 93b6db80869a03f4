// A topic (主题): live posts (created, edited, deleted, hidden, restored, reactions),
// small-action lines, compose with preview, reply and quote, reactions, the flag
// dialog, who is reading, who is typing, unread marker, and moderators' tools.
//
// Post HTML is rendered and sanitised by the server (markdown-it + nh3) and is the
// only HTML this page ever parses; everything else is set as text.
import { Status, connection, describeError, interpolate, listNames, readJSON } from "./realtime.js";
import {
  actionLine,
  announcer,
  authorKey,
  debounce,
  el,
  formatDuration,
  setAlert,
  timeElement,
  timeFormatter,
} from "./forum_common.js";
import { keepDraft } from "./drafts.js";
import { bindPreview, bindWriteForm, confirmTwice } from "./write_form.js";

const config = readJSON("forum-config");
const t = readJSON("forum-strings");
const rt = readJSON("bl-realtime-strings");
const conn = connection();
const formatTime = timeFormatter(config.time_zone);
const announce = announcer(document.getElementById("live-announcer"));

const $ = (id) => document.getElementById(id);
const list = $("post-list");
const pageError = $("page-error");
const notice = $("topic-notice");

const TYPING_SEND_EVERY = 3000; // ms between two "I am typing" frames
const TYPING_SHOWN_FOR = 6000; // ms a "typing" line stays without a new frame

const state = {
  topic: config.topic_data,
  posts: new Map(), // id -> post
  reactions: new Map(), // id -> {emoji: count}
  mine: new Map(Object.entries(config.my_reactions || {}).map(([id, list]) => [Number(id), new Set(list)])),
  replyTo: null, // post id
  present: { people: new Map(), count: 0 }, // who is reading (realtime.js presence)
  typing: new Map(), // identity key -> {name, until}
  selecting: false,
  selected: new Set(),
  merged: false,
  lastMarked: config.last_read || 0,
  // Paging: the page holds posts 1..loadedUpTo; while more follow, newer posts wait
  // behind the "load more" button instead of appearing after a gap.
  hasMore: Boolean(config.has_more),
  waiting: 0, // live posts past the loaded ones
  loadingMore: false,
  markReadAvailable: true,
};

function isMine(post) {
  return Boolean(config.me) && authorKey(post.author) === config.me;
}

function statusLabel(status) {
  return t.post_status[status] || status;
}

function showError(text) {
  setAlert(pageError, text);
}

function showNotice(text, link) {
  notice.textContent = text || "";
  if (link) notice.append(" ", el("a", { href: link.href, text: link.text }));
  notice.hidden = !text;
}

// -- rendering -------------------------------------------------------------------------

function renderReactions(post) {
  const counts = state.reactions.get(post.id) || {};
  const mine = state.mine.get(post.id) || new Set();
  const box = el("div", "reactions");
  const canReact = config.can_react && post.status === "visible";
  for (const emoji of config.emoji) {
    const count = counts[emoji] || 0;
    if (!count) continue;
    const label = interpolate(t.reaction_label, { emoji, count });
    if (canReact) {
      box.append(
        el(
          "button",
          {
            type: "button",
            className: `reaction${mine.has(emoji) ? " is-mine" : ""}`,
            "aria-pressed": mine.has(emoji) ? "true" : "false",
            "aria-label": label,
            dataset: { emoji },
            onclick: () => react(post.id, emoji),
          },
          `${emoji} ${count}`,
        ),
      );
    } else {
      box.append(el("span", { className: "reaction", "aria-label": label }, `${emoji} ${count}`));
    }
  }
  if (canReact) {
    const picker = el("span", { className: "reaction-picker", hidden: true });
    for (const emoji of config.emoji) {
      picker.append(
        el("button", {
          type: "button",
          className: "reaction-choice",
          text: emoji,
          "aria-label": emoji,
          onclick: () => {
            picker.hidden = true;
            react(post.id, emoji);
          },
        }),
      );
    }
    const toggle = el("button", {
      type: "button",
      className: "reaction-add",
      "aria-expanded": "false",
      text: `＋ ${t.react}`,
      onclick: () => {
        picker.hidden = !picker.hidden;
        toggle.setAttribute("aria-expanded", String(!picker.hidden));
      },
    });
    box.append(toggle, picker);
  }
  return box;
}

function renderSmallAction(post) {
  const li = el("li", { className: "small-action", id: `post-${post.number}`, dataset: { id: post.id, number: post.number } });
  li.append(el("span", "small-action-text", actionLine(post.action, t)), " ", timeElement(post.created_at, formatTime));
  return li;
}

function renderPost(post) {
  if (post.kind === "small_action") return renderSmallAction(post);
  const mine = isMine(post);
  const li = el("li", {
    className: `post post-${post.status}${mine ? " is-mine" : ""}`,
    id: `post-${post.number}`,
    dataset: { id: post.id, number: post.number, status: post.status },
  });
  const head = el(
    "header",
    "post-head",
    state.selecting ? selectBox(post) : null,
    el("span", "post-author", post.author ? post.author.name : ""),
    el("a", { className: "post-number", href: `#post-${post.number}`, text: `#${post.number}` }),
    timeElement(post.created_at, formatTime),
    post.edited_at ? editedMarker(post) : null,
    post.censored && config.moderator ? el("span", "post-censored muted small", t.censored) : null,
    post.status !== "visible" ? el("span", `post-status status-${post.status}`, statusLabel(post.status)) : null,
  );
  const article = el("article", null, head);
  if (post.reply_to) {
    const parent = state.posts.get(post.reply_to);
    const text = interpolate(t.reply_to, {
      number: parent ? parent.number : "?",
      name: parent && parent.author ? parent.author.name : "",
    });
    article.append(el("p", "post-reply-to small", parent ? el("a", { href: `#post-${parent.number}`, text }) : text));
  }
  if (post.status_reason && (mine || config.moderator) && post.status !== "visible") {
    article.append(el("p", "post-reason small", post.status_reason));
  }
  const body = el("div", "post-body");
  body.innerHTML = post.html || ""; // sanitised by the server (forum/rendering.py)
  markMyMentions(body);
  // One footer row: reactions first, then what the reader may do (wraps on a phone).
  article.append(body, el("footer", "post-foot", renderReactions(post), renderPostActions(post, mine)));
  li.append(article);
  return li;
}

/** "edited": for moderators a button that opens the post's earlier versions. */
function editedMarker(post) {
  if (!config.moderator) return el("span", "post-edited muted small", t.edited);
  return el("button", {
    type: "button",
    className: "post-edited link-button small",
    "aria-haspopup": "dialog",
    title: t.history_open,
    text: t.edited,
    onclick: () => openHistory(post),
  });
}

/** Mentions of the reader stand out (the server marks every member's as span.mention). */
function markMyMentions(root) {
  if (!config.me_username) return;
  for (const mention of root.querySelectorAll(".mention")) {
    mention.classList.toggle("is-me", mention.dataset.user === config.me_username);
  }
}

function selectBox(post) {
  const box = el("input", {
    type: "checkbox",
    className: "split-select",
    "aria-label": `${t.select_for_split} #${post.number}`,
    onchange: () => {
      if (box.checked) state.selected.add(post.id);
      else state.selected.delete(post.id);
      renderSplitCount();
    },
  });
  box.checked = state.selected.has(post.id);
  return box;
}

function renderPostActions(post, mine) {
  const bar = el("div", "post-actions");
  const open = !state.topic.closed || config.moderator;
  const visible = post.status === "visible";
  if (config.can_write && open && visible && !state.merged) {
    bar.append(
      el("button", { type: "button", className: "link-button", text: t.reply, onclick: () => startReply(post, false) }),
      el("button", { type: "button", className: "link-button", text: t.quote, onclick: () => startReply(post, true) }),
    );
  }
  if (config.can_flag && !mine && visible) {
    bar.append(el("button", { type: "button", className: "link-button", text: t.flag, onclick: () => openFlag(post) }));
  }
  if ((mine || config.moderator) && post.status !== "deleted" && post.status !== "rejected") {
    bar.append(el("button", { type: "button", className: "link-button", text: t.edit, onclick: () => startEdit(post) }));
    const del = el("button", { type: "button", className: "link-button danger", text: t.delete });
    confirmTwice(del, {
      label: t.delete,
      confirmLabel: t.confirm_delete,
      act: () => writeAction("forum.delete", { post: post.id }),
    });
    bar.append(del);
  }
  if (config.moderator && post.status === "deleted") {
    bar.append(el("button", { type: "button", className: "link-button", text: t.restore, onclick: () => writeAction("forum.restore", { post: post.id }) }));
  }
  return bar;
}

function loadedUpTo() {
  let top = 0;
  for (const post of state.posts.values()) top = Math.max(top, post.number);
  return top;
}

/** True for a post past the loaded window (only while more posts follow). */
function beyondLoaded(post) {
  return state.hasMore && !state.posts.has(post.id) && post.number > loadedUpTo();
}

function renderMore() {
  const button = $("posts-more");
  if (!button) return;
  button.hidden = !state.hasMore;
  button.disabled = state.loadingMore;
  button.textContent = state.waiting ? interpolate(t.load_more_new, { count: state.waiting }) : t.load_more_posts;
}

async function loadMorePosts() {
  if (state.loadingMore || !state.hasMore) return false;
  state.loadingMore = true;
  renderMore();
  try {
    const reply = await conn.request("forum.posts", { topic: config.topic, after: loadedUpTo() });
    for (const [id, counts] of Object.entries(reply.reactions || {})) state.reactions.set(Number(id), counts);
    for (const [id, list] of Object.entries(reply.my_reactions || {})) state.mine.set(Number(id), new Set(list));
    for (const post of reply.posts || []) {
      state.posts.set(post.id, post);
      placePost(post);
    }
    state.hasMore = Boolean(reply.has_more);
    if (!state.hasMore) state.waiting = 0;
    showError("");
    markRead();
    return true;
  } catch (error) {
    showError(`${t.load_more_failed} ${describeError(error, rt)}`);
    return false;
  } finally {
    state.loadingMore = false;
    renderMore();
  }
}

$("posts-more")?.addEventListener("click", loadMorePosts);

function sortedPosts() {
  return [...state.posts.values()].sort((a, b) => a.number - b.number);
}

function renderAll() {
  const posts = sortedPosts();
  if (!posts.length) list.replaceChildren(el("li", "empty", t.no_posts));
  else list.replaceChildren(...posts.map(renderPost));
  list.dataset.synced = "true";
}

/** Put one post in its place (by number), replacing its old node. */
function placePost(post, { arriving = false } = {}) {
  const node = renderPost(post);
  if (arriving) node.classList.add("is-arriving");
  const old = list.querySelector(`:scope > li[data-id="${post.id}"]`);
  if (old) {
    old.replaceWith(node);
    return;
  }
  list.querySelector(":scope > .empty")?.remove();
  const after = [...list.children].find((li) => Number(li.dataset.number) > post.number);
  list.insertBefore(node, after || null);
}

function rerenderPost(id) {
  const post = state.posts.get(id);
  if (post) placePost(post);
}

function removePost(id) {
  state.posts.delete(id);
  list.querySelector(`:scope > li[data-id="${id}"]`)?.remove();
  if (!list.children.length) list.append(el("li", "empty", t.no_posts));
}

function renderTopic() {
  const topic = state.topic;
  $("topic-title").textContent = topic.title;
  $("tag-pinned").hidden = !topic.pinned;
  $("tag-closed").hidden = !topic.closed;
  const slow = $("tag-slow");
  slow.hidden = !topic.slow_mode_seconds;
  slow.textContent = `${slow.dataset.label} · ${formatDuration(topic.slow_mode_seconds || 0, t.durations)}`;
  const form = $("reply-form");
  if (form) {
    const closedForMe = (topic.closed && !config.moderator) || state.merged;
    form.hidden = closedForMe;
    $("closed-note").hidden = !(topic.closed && !config.moderator);
  }
  const pin = $("mod-pin");
  if (pin) {
    pin.dataset.value = String(!topic.pinned);
    pin.textContent = topic.pinned ? t.unpin : t.pin;
    const close = $("mod-close");
    close.dataset.value = String(!topic.closed);
    close.textContent = topic.closed ? t.reopen : t.close;
    $("mod-slow").value = String(topic.slow_mode_seconds);
  }
}

function renderDiscussion(discussion) {
  const line = $("discussion-status");
  if (!line || !discussion) return;
  state.discussion = discussion;
  line.closest(".discussion").dataset.status = discussion.status;
  const counts = $("discussion-counts");
  const tools = $("discussion-tools");
  if (tools) tools.hidden = discussion.status !== "open";
  counts.hidden = discussion.status !== "open";
  if (discussion.status === "open") {
    line.textContent = interpolate(t.discussion_open, { time: formatTime(discussion.closes_at) });
    if (discussion.counts) renderCounts(discussion.counts);
  } else if (discussion.status === "scheduled") {
    line.textContent = interpolate(t.discussion_scheduled, { time: formatTime(discussion.opens_at) });
  } else {
    const summary = discussion.summary || {};
    line.textContent = interpolate(t.discussion_closed, { participants: summary.participants ?? 0, posts: summary.posts ?? 0 });
    const items = [];
    for (const m of summary.most_reacted || []) {
      const post = state.posts.get(m.post);
      const number = m.number || (post && post.number);
      if (!number) continue;
      const author = m.author || (post && post.author ? post.author.name : "");
      items.push(el("li", null, el("a", { href: `#post-${number}`, text: `#${number}` }), ` ${author} `, el("span", "muted", `(${m.reactions})`)));
    }
    $("discussion-top-list").replaceChildren(...items);
    $("discussion-top").hidden = items.length === 0;
  }
}

function renderCounts(counts) {
  const line = $("discussion-counts");
  if (!line) return;
  line.dataset.participants = counts.participants;
  line.dataset.posts = counts.posts;
  line.textContent = interpolate(t.discussion_counts, { participants: counts.participants, posts: counts.posts });
}

if (config.moderator && $("discussion-close")) {
  $("discussion-close").addEventListener("click", () =>
    writeAction("forum.close_discussion", { topic: config.topic }, $("discussion-close-status")),
  );
}

// -- presence and typing -------------------------------------------------------------------

function renderPresence() {
  const { people, count } = state.present;
  const others = people ? [...people].filter(([key]) => key !== config.me).map(([, name]) => name) : [];
  $("presence-names").textContent = !people
    ? interpolate(t.people_here, { count: count.toLocaleString(document.documentElement.lang) })
    : others.length
      ? listNames(others)
      : t.only_you;
  $("presence").hidden = conn.status !== Status.ONLINE;
}

let typingTimer = null;
function renderTyping() {
  const now = Date.now();
  for (const [key, who] of state.typing) if (who.until <= now) state.typing.delete(key);
  const names = [...state.typing.values()].map((who) => who.name);
  const line = $("typing");
  line.hidden = names.length === 0;
  line.textContent = names.length ? interpolate(names.length === 1 ? t.typing_one : t.typing_many, { names: listNames(names) }) : "";
  clearTimeout(typingTimer);
  if (names.length) typingTimer = setTimeout(renderTyping, 1000);
}

function onTyping(frame) {
  const who = frame.who || {};
  const key = typeof who.id === "string" ? who.id : `u:${who.id}`;
  if (!who.name || key === config.me) return;
  state.typing.set(key, { name: who.name, until: Date.now() + TYPING_SHOWN_FOR });
  renderTyping();
}

let lastTypingSent = 0;
let typingAvailable = true;
function sendTyping() {
  const now = Date.now();
  if (!typingAvailable || now - lastTypingSent < TYPING_SEND_EVERY || conn.status !== Status.ONLINE) return;
  lastTypingSent = now;
  conn.request("forum.typing", { topic: config.topic }).catch((error) => {
    if (error.code === "unknown_op") typingAvailable = false;
  });
}

// -- unread marker ------------------------------------------------------------------------

const markRead = debounce(() => {
  if (!config.signed_in || !state.markReadAvailable || document.visibilityState !== "visible") return;
  // Everything on the page has been seen, up to the topic's last number: posts this
  // reader may not see (others' pending ones) must not leave the topic unread forever.
  // While more posts follow, only as far as the page has loaded.
  const number = state.hasMore ? loadedUpTo() : Math.max(0, state.topic.last_number || 0, loadedUpTo());
  if (number <= state.lastMarked) return;
  state.lastMarked = number;
  conn.request("forum.mark_read", { topic: config.topic, number }).catch((error) => {
    if (error.code === "unknown_op") state.markReadAvailable = false;
    else state.lastMarked = 0; // try again with the next post
  });
}, 800);
document.addEventListener("visibilitychange", markRead);

// -- the stream ---------------------------------------------------------------------------

function applySnapshot(snapshot) {
  if (!snapshot) return;
  state.topic = snapshot.topic || state.topic;
  state.posts = new Map((snapshot.posts || []).map((p) => [p.id, p]));
  // A pending post of mine the snapshot already knows is replaced; nothing else is kept.
  state.reactions = new Map(Object.entries(snapshot.reactions || {}).map(([id, counts]) => [Number(id), counts]));
  state.hasMore = Boolean(snapshot.has_more);
  state.waiting = 0;
  renderMore();
  if (snapshot.my_reactions) {
    state.mine = new Map(Object.entries(snapshot.my_reactions).map(([id, list]) => [Number(id), new Set(list)]));
  }
  renderAll();
  renderTopic();
  if (snapshot.discussion) renderDiscussion(snapshot.discussion);
  markRead();
}

const handlers = {
  "post.created"(post, { live }) {
    if (beyondLoaded(post)) {
      state.waiting += 1;
      renderMore();
      return;
    }
    const had = state.posts.has(post.id);
    state.posts.set(post.id, post);
    placePost(post, { arriving: live && !had });
    if (!had && live && post.kind === "regular" && !isMine(post)) {
      announce(interpolate(t.new_post_live, { name: post.author ? post.author.name : "" }));
    }
    markRead();
  },
  "post.edited"(post) {
    if (beyondLoaded(post)) return;
    const merged = { ...(state.posts.get(post.id) || {}), ...post };
    if (!("source" in post)) delete merged.source; // never edit from a stale source
    state.posts.set(post.id, merged);
    rerenderPost(post.id);
  },
  "post.restored"(post) {
    if (beyondLoaded(post)) return;
    state.posts.set(post.id, post);
    placePost(post);
  },
  "post.deleted"(data) {
    hideOrMark(data.id, "deleted");
  },
  "post.hidden"(data) {
    // "pending": an edit brought in words that need a moderator's approval.
    hideOrMark(data.id, data.status || "hidden");
  },
  "post.reactions"(data) {
    state.reactions.set(data.id, data.reactions || {});
    if (config.me_id && data.user === config.me_id && data.emoji) setMine(data.id, data.emoji, data.added);
    rerenderPost(data.id);
  },
  "posts.moved"(data) {
    for (const id of data.ids || []) removePost(id);
    showNotice(interpolate(t.posts_moved, { count: (data.ids || []).length }), data.to ? { href: `/forum/topics/${Number(data.to)}/`, text: t.open_merged } : null);
  },
  "topic.updated"(topic) {
    state.topic = { ...state.topic, ...topic };
    renderTopic();
    for (const id of state.posts.keys()) rerenderPost(id); // reply buttons follow "closed"
  },
  "topic.merged"(data) {
    state.merged = true;
    showNotice(t.topic_merged, { href: `/forum/topics/${Number(data.into)}/`, text: t.open_merged });
    renderTopic();
  },
  "discussion.opened"(discussion) {
    handlers["topic.updated"]({ closed: false });
    renderDiscussion(discussion);
  },
  "discussion.closed"(discussion) {
    handlers["topic.updated"]({ closed: true });
    renderDiscussion(discussion);
  },
  "discussion.counts"(counts) {
    renderCounts(counts);
  },
};

/** Moderators keep seeing a removed post, marked; others see it go (authors keep theirs, marked). */
function hideOrMark(id, status) {
  const post = state.posts.get(id);
  if (!post) return;
  if (config.moderator || isMine(post)) {
    state.posts.set(id, { ...post, status });
    rerenderPost(id);
  } else {
    removePost(id);
  }
}

markMyMentions(list);

conn.subscribe(config.stream, {
  snapshot(snapshot) {
    applySnapshot(snapshot);
  },
  event(frame) {
    const handler = handlers[frame.type];
    if (handler) handler(frame.data, { live: true });
  },
  presence(here, left) {
    state.present = here;
    for (const key of left) state.typing.delete(key);
    renderPresence();
    renderTyping();
  },
  ephemeral(frame) {
    if (frame.op === "typing") onTyping(frame);
  },
  error(error) {
    showError(describeError(error, rt));
  },
});

// What moderators decided about my posts, and why (my own inbox stream).
if (config.signed_in && config.me_id) {
  conn.subscribe(`inbox:${config.me_id}`, {
    event(frame) {
      const data = frame.data || {};
      if (data.topic !== config.topic) return;
      const post = state.posts.get(data.post);
      if (frame.type === "post.rejected") {
        if (post) {
          state.posts.set(post.id, { ...post, status: "rejected", status_reason: data.reason });
          rerenderPost(post.id);
        }
        announce(interpolate(t.post_rejected, { reason: data.reason || "" }));
      } else if (frame.type === "post.hidden") {
        if (post) {
          state.posts.set(post.id, { ...post, status: "hidden", status_reason: data.reason });
          rerenderPost(post.id);
        }
        announce(interpolate(t.post_hidden, { reason: data.reason || "" }));
      } else if (frame.type === "post.approved") {
        announce(t.post_approved);
      }
    },
  });
}

conn.onStatus((status) => {
  renderPresence();
  if (status === Status.ENDED) {
    const next = encodeURIComponent(location.pathname);
    showError(rt.error_unauthenticated);
    pageError.append(" ", el("a", { href: `${config.login_url}?next=${next}`, text: t.log_in }));
  }
});

window.addEventListener("beforeunload", (event) => {
  if (conn.unacknowledgedWrites > 0) {
    event.preventDefault();
    event.returnValue = "";
  }
});

// -- writes -------------------------------------------------------------------------------

async function writeAction(op, args, statusLine) {
  try {
    const reply = await conn.write(op, args);
    showError("");
    if (statusLine) statusLine.textContent = t.done;
    return reply;
  } catch (error) {
    showError(`${t.action_failed} ${describeError(error, rt)}`);
    if (statusLine) statusLine.textContent = "";
    return null;
  }
}

async function react(postId, emoji) {
  const reply = await writeAction("forum.react", { post: postId, emoji });
  if (!reply) return;
  // forum.react toggles; the reply says which way (the stream may already have said so).
  setMine(postId, emoji, reply.added);
  state.reactions.set(postId, reply.reactions || {});
  rerenderPost(postId);
}

function setMine(postId, emoji, added) {
  const mine = state.mine.get(postId) || new Set();
  if (added) mine.add(emoji);
  else mine.delete(emoji);
  state.mine.set(postId, mine);
}

function startEdit(post) {
  const li = list.querySelector(`:scope > li[data-id="${post.id}"]`);
  if (!li) return;
  const body = li.querySelector(".post-body");
  const id = `edit-${post.id}`;
  const textarea = el("textarea", { rows: 5, id: `${id}-body`, className: "edit-body", "aria-label": t.edit, "aria-describedby": `${id}-error` });
  // Moderators have the source; authors edit from the text as shown.
  textarea.value = post.source ?? body.innerText;
  const fieldError = el("p", { className: "field-error", id: `${id}-error`, hidden: true });
  const formError = el("div", { className: "alert alert-error", role: "alert", hidden: true });
  const statusLine = el("span", { className: "form-status", role: "status", "aria-live": "polite" });
  const save = el("button", { type: "submit", className: "button button-primary", text: t.save });
  const cancel = el("button", { type: "button", className: "button", text: t.cancel, onclick: () => rerenderPost(post.id) });
  const form = el(
    "form",
    { className: "edit-form stack", novalidate: true },
    formError,
    el("div", { className: "field", dataset: { field: "body" } }, textarea, fieldError),
    el("div", "form-actions", save, cancel, statusLine),
  );
  bindWriteForm(form, {
    fields: { body: { input: textarea, error: fieldError } },
    statusLine,
    formError,
    conn,
    rt,
    strings: { sending: t.saving, queued: t.queued_offline, failed: t.action_failed, fixFields: t.fix_fields },
    send: () => conn.write("forum.edit", { post: post.id, body: textarea.value }),
    onSuccess: (reply) => {
      const current = state.posts.get(post.id);
      // The stream may have brought this edit, and what followed it, before the reply.
      if (current && current.revision >= reply.post.revision) return;
      state.posts.set(post.id, { ...current, ...reply.post });
      rerenderPost(post.id);
    },
  });
  body.replaceWith(form);
  textarea.focus();
}

// -- compose ------------------------------------------------------------------------------

const form = $("reply-form");
const textarea = $("reply-body");

function setReplyTo(post) {
  state.replyTo = post ? post.id : null;
  const line = $("reply-to-line");
  line.hidden = !post;
  if (post) $("reply-to-text").textContent = interpolate(t.replying_to, { number: post.number, name: post.author ? post.author.name : "" });
}

function startReply(post, quote) {
  if (!form) return;
  setReplyTo(post);
  if (quote) {
    const li = list.querySelector(`:scope > li[data-id="${post.id}"] .post-body`);
    const text = (li ? li.innerText : "").trim();
    const quoted = text.split("\n").map((line) => `> ${line}`).join("\n");
    const intro = interpolate(t.quote_intro, { name: post.author ? post.author.name : "" });
    const prefix = textarea.value.trim() ? `${textarea.value.trimEnd()}\n\n` : "";
    textarea.value = `${prefix}${intro}\n${quoted}\n\n`;
    replyDraft.save();
  }
  preview.reset();
  textarea.focus();
  textarea.setSelectionRange(textarea.value.length, textarea.value.length);
}

let preview = { reset() {} };
let replyDraft = { clear() {}, save() {} };
if (form) {
  replyDraft = keepDraft(form, `reply:${config.topic}`, { body: textarea }, rt, conn);
  preview = bindPreview("reply", { conn, rt, strings: t.preview });
  const statusLine = $("reply-form-status");
  $("reply-to-cancel").addEventListener("click", () => setReplyTo(null));
  textarea.addEventListener("input", sendTyping);

  bindWriteForm(form, {
    fields: { body: { input: textarea, error: $("reply-body-error") } },
    statusLine,
    formError: $("reply-form-error"),
    conn,
    rt,
    strings: { sending: t.posting, queued: t.queued_offline, failed: t.post_failed, fixFields: t.fix_fields },
    send: () => {
      const args = { topic: config.topic, body: textarea.value };
      if (state.replyTo) args.reply_to = state.replyTo;
      return conn.write("forum.post", args);
    },
    onFieldError: () => preview.reset(),
    onError: (error) => {
      if (error.code === "rate_limited" && error.details && error.details.retry_after) {
        setAlert($("reply-form-error"), interpolate(t.slow_mode_wait, { seconds: error.details.retry_after }));
        return true;
      }
      return false;
    },
    onSuccess: async (reply) => {
      const post = reply.post;
      replyDraft.clear();
      setReplyTo(null);
      preview.reset();
      statusLine.textContent = post.status === "pending" ? t.posted_pending : t.posted;
      // Past unloaded posts: load up to it rather than leave a gap before it.
      while (state.hasMore && !state.posts.has(post.id)) {
        if (!(await loadMorePosts())) break;
      }
      // A visible post also arrives on the stream; a pending one only here.
      if (!state.posts.has(post.id) || post.status === "pending") {
        state.posts.set(post.id, post);
        placePost(post);
      }
    },
  });
}

// -- flag dialog --------------------------------------------------------------------------

const flagDialog = $("flag-dialog");
let flagging = null;

function openFlag(post) {
  flagging = post;
  const flagForm = $("flag-form");
  flagForm.reset();
  setAlert($("flag-error"), "");
  for (const id of ["flag-note-error", "flag-reason-error"]) $(id).hidden = true;
  $("flag-status").textContent = "";
  $("flag-send").disabled = false;
  flagDialog.showModal();
}

if (flagDialog) {
  const note = $("flag-note");
  $("flag-cancel").addEventListener("click", () => flagDialog.close());
  const flagForm = $("flag-form");
  const reasonNow = () => String(new FormData(flagForm).get("reason") || "");
  bindWriteForm(flagForm, {
    fields: {
      note: { input: note, error: $("flag-note-error") },
      reason: { input: flagForm.querySelector("input[name=reason]"), error: $("flag-reason-error") },
    },
    statusLine: $("flag-status"),
    formError: $("flag-error"),
    conn,
    rt,
    strings: { sending: t.flag_sending, queued: t.queued_offline, failed: t.action_failed, fixFields: t.fix_fields },
    validate: () => (reasonNow() === "other" && !note.value.trim() ? { field: "note", message: t.flag_note_required } : null),
    send: () =>
      conn.write("moderation.flag", {
        target_type: "forum.post",
        target_id: flagging.id,
        reason: reasonNow(),
        note: note.value.trim(),
      }),
    onError: (error) => {
      if (error.code !== "conflict") return false;
      flagDialog.close(); // flagged before: news, not a failure
      showNotice(t.flag_already);
      return true;
    },
    onSuccess: () => {
      flagDialog.close();
      showNotice(t.flag_sent);
    },
  });
}

// -- revision history (moderators) -------------------------------------------------------

const historyDialog = $("history-dialog");

async function openHistory(post) {
  if (!historyDialog) return;
  const listNode = $("history-list");
  $("history-heading").textContent = interpolate(t.history_title, { number: post.number });
  listNode.replaceChildren(el("li", "muted", t.loading));
  setAlert($("history-error"), "");
  historyDialog.showModal();
  try {
    const reply = await conn.request("forum.revisions", { post: post.id });
    const versions = [...(reply.versions || [])].reverse(); // newest first, as the post shows now
    listNode.replaceChildren(
      ...versions.map((version) => {
        const body = el("div", "post-body history-body");
        body.innerHTML = version.html || ""; // rendered and sanitised by the server
        const replaced = version.replaced_at
          ? interpolate(t.history_replaced, { name: version.replaced_by ? version.replaced_by.name : "", time: formatTime(version.replaced_at) })
          : t.history_current;
        return el(
          "li",
          { className: "history-version", dataset: { revision: version.revision } },
          el(
            "p",
            "history-meta small",
            el("strong", null, interpolate(t.history_version, { revision: version.revision })),
            " · ",
            timeElement(version.written_at, formatTime),
            " · ",
            el("span", "muted", replaced),
          ),
          body,
        );
      }),
    );
  } catch (error) {
    listNode.replaceChildren();
    setAlert($("history-error"), describeError(error, rt));
  }
}

if (historyDialog) $("history-close").addEventListener("click", () => historyDialog.close());

// -- moderator tools ----------------------------------------------------------------------

function renderSplitCount() {
  const count = $("mod-split-count");
  if (!count) return;
  count.hidden = !state.selecting;
  count.textContent = interpolate(t.split_selected, { count: state.selected.size });
}

if (config.moderator && $("mod-tools")) {
  const status = $("mod-status");
  $("mod-pin").addEventListener("click", (e) => writeAction("forum.pin", { topic: config.topic, value: e.currentTarget.dataset.value === "true" }, status));
  $("mod-close").addEventListener("click", (e) => writeAction("forum.close", { topic: config.topic, value: e.currentTarget.dataset.value === "true" }, status));
  $("mod-slow-form").addEventListener("submit", (e) => {
    e.preventDefault();
    writeAction("forum.slow_mode", { topic: config.topic, seconds: Number($("mod-slow").value) }, status);
  });
  $("mod-move-form")?.addEventListener("submit", async (e) => {
    e.preventDefault();
    const reply = await writeAction("forum.move", { topic: config.topic, board: Number($("mod-move").value) }, status);
    if (reply && reply.topic) {
      const link = $("topic-board-link");
      const option = $("mod-move").selectedOptions[0];
      link.href = `/forum/boards/${Number(reply.topic.board)}/`;
      link.textContent = option ? option.textContent.split(" · ").pop() : link.textContent;
    }
  });
  $("mod-merge-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const target = Number($("mod-merge").value);
    if (!target) return;
    const reply = await writeAction("forum.merge", { source: config.topic, target }, status);
    if (reply && reply.topic) location.assign(`/forum/topics/${Number(reply.topic.id)}/`);
  });
  const toggle = $("mod-split-toggle");
  toggle.addEventListener("click", () => {
    state.selecting = !state.selecting;
    state.selected.clear();
    toggle.setAttribute("aria-pressed", String(state.selecting));
    $("mod-split-title").hidden = !state.selecting;
    $("mod-split-submit").hidden = !state.selecting;
    renderSplitCount();
    renderAll();
  });
  $("mod-split-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!state.selected.size) {
      status.textContent = t.split_none;
      return;
    }
    const reply = await writeAction(
      "forum.split",
      { topic: config.topic, posts: [...state.selected], title: $("mod-split-title").value },
      status,
    );
    if (reply) {
      state.selected.clear();
      state.selecting = false;
      toggle.setAttribute("aria-pressed", "false");
      $("mod-split-title").value = "";
      $("mod-split-title").hidden = true;
      $("mod-split-submit").hidden = true;
      renderSplitCount();
      renderAll();
    }
  });
}
