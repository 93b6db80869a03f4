// Drafts (草稿): what a member types into a compose form is kept in this browser until it
// is posted, so a reload, a closed tab or a crashed browser loses nothing. One draft per
// member and place (a branch's announcements, a board, a topic), kept for a week.
// Logging out here removes every draft in this browser (a shared computer keeps none).
import { readJSON } from "./realtime.js";

const PREFIX = "bl-draft:";
const KEEP_MS = 7 * 24 * 3600 * 1000;
const SAVE_AFTER_MS = 400;

function store() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage switched off: forms work as before, without drafts
  }
}

function owner() {
  return document.getElementById("bell") ? readJSON("bell").me : null; // members only
}

/** Remove every draft kept in this browser (on logging out). */
export function forgetAllDrafts() {
  const storage = store();
  if (!storage) return;
  try {
    for (const key of Object.keys(storage)) if (key.startsWith(PREFIX)) storage.removeItem(key);
  } catch {
    // nothing kept, nothing to remove
  }
}

/**
 * keepDraft(form, place, inputs, strings) -> {clear(), save()}
 *   place    where the text belongs, e.g. "announcement:3", "reply:17"
 *   inputs   {name: input or textarea}: the fields kept
 *   strings  {restored, discard}
 * Restores a kept draft into empty fields, with a line saying so and a button to drop
 * it; saves on every change (a moment after typing stops). The page calls clear() once
 * the server has the post.
 */
export function keepDraft(form, place, inputs, strings) {
  const storage = store();
  const me = owner();
  if (!storage || me == null) return { clear() {}, save() {} };
  const key = `${PREFIX}${me}:${place}`;
  let timer = null;
  let dirty = false; // typed since the last save
  let note = null;

  const hideNote = () => {
    if (note) note.remove();
    note = null;
  };

  const clear = () => {
    clearTimeout(timer);
    hideNote();
    try {
      storage.removeItem(key);
    } catch {
      // gone already
    }
  };

  const save = () => {
    clearTimeout(timer);
    dirty = false;
    const fields = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.value]));
    if (!Object.values(fields).some((value) => value.trim())) {
      clear();
      return;
    }
    try {
      storage.setItem(key, JSON.stringify({ fields, at: Date.now() }));
    } catch {
      // storage full: the text stays in the form
    }
  };

  let kept = null;
  try {
    kept = JSON.parse(storage.getItem(key) || "null");
  } catch {
    kept = null;
  }
  const empty = Object.values(inputs).every((input) => !input.value.trim());
  if (kept && kept.fields && Date.now() - kept.at < KEEP_MS && empty) {
    for (const [name, input] of Object.entries(inputs)) {
      if (typeof kept.fields[name] === "string") input.value = kept.fields[name];
    }
    note = document.createElement("p");
    note.className = "draft-note";
    note.setAttribute("role", "status");
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link-button";
    discard.textContent = strings.discard;
    discard.addEventListener("click", () => {
      for (const input of Object.values(inputs)) input.value = "";
      clear();
      Object.values(inputs)[0].focus();
    });
    note.append(strings.restored, " ", discard);
    form.prepend(note);
  } else if (kept && Date.now() - kept.at >= KEEP_MS) {
    clear();
  }

  for (const input of Object.values(inputs)) {
    input.addEventListener("input", () => {
      dirty = true;
      clearTimeout(timer);
      timer = setTimeout(save, SAVE_AFTER_MS);
    });
  }
  // Leaving the page before the pause is over still keeps the last words.
  window.addEventListener("pagehide", () => {
    if (dirty) save();
  });
  return { clear, save };
}
