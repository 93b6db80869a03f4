// Watched words (敏感词): the list, adding one with its action, removing one. An
// invalid pattern shows the server's own reason under the field.
import { Status, connection, describeError, interpolate, localMessage, readJSON } from "./realtime.js";
import { announcer, el, setAlert } from "./forum_common.js";
import { confirmTwice } from "./write_form.js";

const config = readJSON("words-config");
const t = readJSON("words-strings");
const rt = readJSON("bl-realtime-strings");
const conn = connection();
const announce = announcer(document.getElementById("live-announcer"));

const $ = (id) => document.getElementById(id);
const list = $("word-list");
const pageError = $("page-error");
let words = config.words || [];

function renderWord(word) {
  const li = el(
    "li",
    { className: "word-row", dataset: { id: word.id } },
    el("span", "word-pattern", word.pattern),
    el("span", `tag tag-action-${word.action}`, t.actions[word.action] || word.action),
    word.case_sensitive ? el("span", "muted small", t.case_sensitive) : null,
    word.global ? el("span", "muted small", t.global) : null,
  );
  if (!word.global) {
    const remove = el("button", { type: "button", className: "link-button danger word-remove", text: t.remove });
    confirmTwice(remove, {
      label: t.remove,
      confirmLabel: t.confirm_remove,
      act: async () => {
        remove.disabled = true;
        try {
          await conn.write("moderation.watched_words.remove", { id: word.id });
          words = words.filter((w) => w.id !== word.id);
          render();
          announce(interpolate(t.removed, { pattern: word.pattern }));
          setAlert(pageError, "");
        } catch (error) {
          remove.disabled = false;
          setAlert(pageError, `${t.failed} ${describeError(error, rt)}`);
        }
      },
    });
    li.append(remove);
  }
  return li;
}

function render() {
  list.replaceChildren(...(words.length ? words.map(renderWord) : [el("li", "empty", t.empty)]));
  list.dataset.synced = "true";
}

async function reload() {
  try {
    const reply = await conn.request("moderation.watched_words.list", { branch: config.branch });
    words = reply.words || [];
    render();
  } catch (error) {
    if (error.code !== "offline" && error.code !== "disconnected") setAlert(pageError, describeError(error, rt));
  }
}

render();
conn.onStatus((status) => {
  if (status === Status.ONLINE) reload(); // another moderator may have changed the list
});

const form = $("word-form");
const pattern = $("word-pattern");
const patternError = $("word-pattern-error");
const formError = $("word-form-error");
const statusLine = $("word-form-status");
const submit = form.querySelector("button[type=submit]");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (submit.disabled) return;
  setAlert(formError, "");
  patternError.hidden = true;
  pattern.removeAttribute("aria-invalid");
  pattern.closest(".field").classList.remove("has-error");
  const data = new FormData(form);
  submit.disabled = true;
  statusLine.textContent = t.adding;
  try {
    const reply = await conn.write("moderation.watched_words.add", {
      branch: config.branch,
      pattern: pattern.value,
      action: String(data.get("action")),
      case_sensitive: $("word-case").checked,
    });
    statusLine.textContent = interpolate(t.added, { pattern: reply.word.pattern });
    form.reset();
    words = [...words.filter((w) => w.id !== reply.word.id), { ...reply.word, global: false }];
    render();
    reload();
  } catch (error) {
    statusLine.textContent = "";
    if (error.code === "bad_request" && error.details && error.details.field === "pattern") {
      patternError.textContent = localMessage(error.message);
      patternError.hidden = false;
      pattern.setAttribute("aria-invalid", "true");
      pattern.closest(".field").classList.add("has-error");
      setAlert(formError, t.fix_fields);
      pattern.focus();
    } else {
      setAlert(formError, `${t.failed} ${describeError(error, rt)}`);
    }
  } finally {
    submit.disabled = false;
  }
});
