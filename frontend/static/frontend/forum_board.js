// A board (版块): its topics, pinned first then by latest post, kept live from the
// board's stream; and the form that starts a new topic.
import { Status, connection, describeError, interpolate, readJSON } from "./realtime.js";
import { announcer, el, setAlert, timeElement, timeFormatter } from "./forum_common.js";
import { keepDraft } from "./drafts.js";
import { bindPreview, bindWriteForm } from "./write_form.js";

const config = readJSON("forum-config");
const t = readJSON("forum-strings");
const rt = readJSON("bl-realtime-strings");
const conn = connection();
const formatTime = timeFormatter(config.time_zone);
const announce = announcer(document.getElementById("live-announcer"));

const $ = (id) => document.getElementById(id);
const list = $("topic-list");
const pageError = $("page-error");

const state = {
  topics: new Map(),
  // How far this reader has read each topic; a topic whose last number is past it is
  // unread (forum.boards counts the same way).
  read: new Map(Object.entries(config.read || {}).map(([id, number]) => [Number(id), number])),
  discussions: new Set(config.discussions || []),
  next: config.next || null, // cursor of the next page of topics (null: all loaded)
  loadingMore: false,
};

function renderMore() {
  const button = $("topics-more");
  if (!button) return;
  button.hidden = !state.next;
  button.disabled = state.loadingMore;
}

async function loadMoreTopics() {
  if (!state.next || state.loadingMore) return;
  state.loadingMore = true;
  renderMore();
  try {
    const reply = await conn.request("forum.topics", { board: config.board, before: state.next });
    for (const topic of reply.topics || []) {
      // A topic bumped to the top meanwhile is already here: keep the fresher copy.
      if (!state.topics.has(topic.id)) state.topics.set(topic.id, topic);
    }
    state.next = reply.next || null;
    setAlert(pageError, "");
    renderList();
  } catch (error) {
    setAlert(pageError, `${t.load_more_failed} ${describeError(error, rt)}`);
  } finally {
    state.loadingMore = false;
    renderMore();
  }
}

$("topics-more")?.addEventListener("click", loadMoreTopics);

function isUnread(topic) {
  return Boolean(config.signed_in) && topic.last_number > (state.read.get(topic.id) || 0);
}

function order(a, b) {
  // As forum.models.Topic.Meta.ordering: pinned first, then the latest post, then newest.
  if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
  const la = a.last_post_at || "";
  const lb = b.last_post_at || "";
  if (la !== lb) return la < lb ? 1 : -1;
  return b.id - a.id;
}

function renderTopic(topic) {
  const unread = isUnread(topic);
  const li = el("li", {
    className: `topic-row${unread ? " is-unread" : ""}${topic.pinned ? " is-pinned" : ""}`,
    dataset: { id: topic.id },
  });
  const tags = el(
    "span",
    "topic-tags",
    topic.pinned ? el("span", "tag tag-pinned", t.pinned) : null,
    topic.closed ? el("span", "tag tag-closed", t.closed) : null,
    state.discussions.has(topic.id) ? el("span", "tag tag-discussion", t.discussion) : null,
    unread ? el("span", "tag tag-unread", t.unread) : null,
  );
  li.append(
    el("div", "topic-main", el("a", { className: "topic-title", href: `/forum/topics/${Number(topic.id)}/`, text: topic.title }), tags),
    el(
      "p",
      "topic-meta muted small",
      el("span", "author", topic.author ? topic.author.name : ""),
      el("span", { className: "sep", "aria-hidden": "true", text: " · " }),
      el("span", "topic-posts", interpolate(topic.post_count === 1 ? t.posts_one : t.posts_other, { count: topic.post_count })),
      topic.last_post_at ? el("span", { className: "sep", "aria-hidden": "true", text: " · " }) : null,
      topic.last_post_at ? timeElement(topic.last_post_at, formatTime) : null,
    ),
  );
  return li;
}

function renderList() {
  const topics = [...state.topics.values()].filter((topic) => !topic.deleted).sort(order);
  if (!topics.length) list.replaceChildren(el("li", "empty", t.no_topics));
  else list.replaceChildren(...topics.map(renderTopic));
  list.dataset.synced = "true";
}

function upsert(topic, { live }) {
  const old = state.topics.get(topic.id);
  if (topic.discussion) state.discussions.add(topic.id); // a discussion's topic says so
  state.topics.set(topic.id, { ...(old || {}), ...topic });
  renderList();
  const node = list.querySelector(`[data-id="${topic.id}"]`);
  if (node && live && !old) {
    node.classList.add("is-arriving");
    announce(topic.title);
  }
}

conn.subscribe(config.stream, {
  snapshot(snapshot) {
    state.topics = new Map((snapshot.topics || []).map((topic) => [topic.id, topic]));
    state.next = snapshot.next || null;
    renderList();
    renderMore();
  },
  event(frame) {
    if (frame.type === "topic.created" || frame.type === "topic.updated") upsert(frame.data, { live: true });
    else if (frame.type === "topic.removed") {
      state.topics.delete(frame.data.id);
      renderList();
    }
  },
  error(error) {
    setAlert(pageError, describeError(error, rt));
  },
});

// Reading in another tab (or on the topic page) moves the marker: unread follows.
if (config.me_id) {
  conn.subscribe(`inbox:${config.me_id}`, {
    event(frame) {
      if (frame.type !== "topic.read" || frame.data.board !== config.board) return;
      const number = frame.data.last_read_number;
      if (number > (state.read.get(frame.data.topic) || 0)) {
        state.read.set(frame.data.topic, number);
        renderList();
      }
    },
  });
}

conn.onStatus((status) => {
  if (status === Status.ENDED && config.signed_in) setAlert(pageError, rt.error_unauthenticated);
});

// -- new topic ----------------------------------------------------------------------------

const form = $("topic-form");
if (form) {
  const statusLine = $("topic-form-status");
  const body = $("topic-body");
  const preview = bindPreview("topic", { conn, rt, strings: t.preview });
  const draft = keepDraft(form, `topic:${config.board}`, { title: $("topic-title"), body }, rt, conn);

  bindWriteForm(form, {
    fields: {
      title: { input: $("topic-title"), error: $("topic-title-error") },
      body: { input: body, error: $("topic-body-error") },
    },
    statusLine,
    formError: $("topic-form-error"),
    conn,
    rt,
    strings: { sending: t.posting, queued: t.queued_offline, failed: t.post_failed, fixFields: t.fix_fields },
    send: () => conn.write("forum.create_topic", { board: config.board, title: $("topic-title").value, body: body.value }),
    onFieldError: (name) => {
      if (name === "body") preview.reset();
    },
    onSuccess: (reply) => {
      draft.clear();
      statusLine.textContent = reply.post && reply.post.status === "pending" ? t.created_topic_pending : t.posted;
      // The new topic's page: its author sees it there even while it awaits review.
      location.assign(`/forum/topics/${Number(reply.topic.id)}/`);
    },
  });
}

// -- topic discussion (moderators) ---------------------------------------------------------

const discussionForm = $("discussion-form");
if (discussionForm) {
  const opens = $("discussion-opens");
  const syncWhen = () => {
    const later = discussionForm.querySelector("input[name=when]:checked").value === "later";
    opens.disabled = !later;
    opens.hidden = !later; // "now" needs no time
  };
  for (const radio of discussionForm.querySelectorAll("input[name=when]")) radio.addEventListener("change", syncWhen);
  const prompt = { input: $("discussion-prompt"), error: $("discussion-prompt-error") };
  const statusLine = $("discussion-form-status");
  bindWriteForm(discussionForm, {
    fields: {
      title: { input: $("discussion-title"), error: $("discussion-title-error") },
      prompt,
      body: prompt, // the prompt is the topic's first post: its errors name "body"
      opens_at: { input: opens, error: $("discussion-opens-error") },
      closes_at: { input: $("discussion-closes"), error: $("discussion-closes-error") },
    },
    statusLine,
    formError: $("discussion-form-error"),
    conn,
    rt,
    strings: { sending: t.opening_discussion, queued: t.queued_offline, failed: t.discussion_failed, fixFields: t.fix_fields },
    send: () => {
      // Wall-clock times as typed, without an offset: the server reads them in the
      // branch's zone (shown under the form), whatever this browser's zone is.
      const args = {
        board: config.board,
        title: $("discussion-title").value,
        prompt: prompt.input.value,
        closes_at: $("discussion-closes").value,
      };
      if (!opens.disabled) args.opens_at = opens.value;
      return conn.write("forum.open_discussion", args);
    },
    onSuccess: (reply) => {
      syncWhen();
      statusLine.textContent = t.discussion_opened;
      location.assign(`/forum/topics/${Number(reply.discussion.topic)}/`);
    },
  });
}
