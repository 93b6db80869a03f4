// A branch's board list (微论坛): topic and unread counts, kept live.
//
// Each board's stream says when its topics change, and the reader's inbox says when
// they read further (in another tab too); the counts themselves come from
// `forum.boards`, the server's answer for this reader, since unread is per person.
import { connection, describeError, interpolate, readJSON } from "./realtime.js";
import { debounce, setAlert } from "./forum_common.js";

const config = readJSON("forum-config");
const t = readJSON("forum-strings");
const rt = readJSON("bl-realtime-strings");
const conn = connection();
const pageError = document.getElementById("page-error");
const list = document.getElementById("board-list");

function render(board) {
  const card = list.querySelector(`.board-card[data-board="${Number(board.id)}"]`);
  if (!card) return;
  const topics = card.querySelector(".board-topics");
  topics.dataset.count = String(board.topics);
  topics.textContent = interpolate(board.topics === 1 ? t.topics_one : t.topics_other, { count: board.topics });
  const badge = card.querySelector(".board-unread");
  badge.dataset.count = String(board.unread_topics);
  badge.textContent = interpolate(t.unread_topics, { count: board.unread_topics });
  badge.hidden = board.unread_topics === 0;
  card.classList.toggle("has-unread", board.unread_topics > 0);
}

const refresh = debounce(async () => {
  try {
    const reply = await conn.request("forum.boards", { branch: config.branch });
    for (const board of reply.boards || []) render(board);
    list.dataset.synced = "true";
    setAlert(pageError, "");
  } catch (error) {
    if (error.code !== "offline" && error.code !== "disconnected") setAlert(pageError, describeError(error, rt));
  }
}, 250);

for (const board of config.boards || []) {
  conn.subscribe(`board:${board.id}`, {
    // A (re)subscription or any change of topics: ask for this reader's counts.
    snapshot: refresh,
    event: refresh,
    error(error) {
      setAlert(pageError, describeError(error, rt));
    },
  });
}

if (config.me_id) {
  conn.subscribe(`inbox:${config.me_id}`, {
    event(frame) {
      if (frame.type === "topic.read") refresh();
    },
  });
}
