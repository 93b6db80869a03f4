// Drafts (草稿): what a member types into a compose form is kept in this browser until it
// is posted, so a reload, a closed tab or a crashed browser loses nothing, and on the
// server (accounts/drafts.py), so it follows the member to their other devices. One
// draft per member and place (a branch's announcements, a board, a topic). This
// browser's copy comes first (nothing typed waits on the network) and lasts a week;
// the server's copy a month. Logging out here removes every draft in this browser (a
// shared computer keeps none); the server's copies stay the member's.
import { Status, readJSON } from "./realtime.js";

const PREFIX = "bl-draft:";
const KEEP_MS = 7 * 24 * 3600 * 1000;
const SAVE_AFTER_MS = 400;
const PUSH_AFTER_MS = 1500; // to the server, once typing has paused a little longer

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
 * keepDraft(form, place, inputs, strings, conn) -> {clear(), save()}
 *   place    where the text belongs, e.g. "announcement:3", "reply:17"
 *   inputs   {name: input or textarea}: the fields kept
 *   strings  {restored, elsewhere, discard}
 *   conn     the page's connection (realtime.js); without it, this browser only
 * Restores a kept draft into empty fields, with a line saying so and a button to drop
 * it; saves on every change (a moment after typing stops). Whenever the page comes
 * online it asks the server: a draft saved later on another device replaces this one
 * unless something was typed here since the page opened; one posted or discarded
 * elsewhere goes here too. The page calls clear() once the server has the post.
 */
export function keepDraft(form, place, inputs, strings, conn = null) {
  const storage = store();
  const me = owner();
  if (me == null || (!storage && !conn)) return { clear() {}, save() {} };
  const key = `${PREFIX}${me}:${place}`;
  let timer = null;
  let pushTimer = null;
  let dirty = false; // typed since the last save here
  let typedHere = false; // typed since the page opened: a draft from elsewhere must not overwrite it
  let note = null;

  // This browser's copy: {fields, at, synced, pending}. `synced`: the server's
  // `updated_at` this copy matches (null: never on the server); `pending`: changed here
  // and not on the server yet (blank fields then mean "remove it there too").
  const read = () => {
    try {
      return JSON.parse((storage && storage.getItem(key)) || "null");
    } catch {
      return null;
    }
  };
  const write = (record) => {
    kept = record;
    if (!storage) return;
    try {
      if (record) storage.setItem(key, JSON.stringify(record));
      else storage.removeItem(key);
    } catch {
      // storage full: the text stays in the form (and goes to the server)
    }
  };
  const current = () => Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.value]));
  const blank = (fields) => !Object.values(fields || {}).some((value) => typeof value === "string" && value.trim());
  const same = (a, b) => Object.keys(inputs).every((name) => (a[name] || "") === ((b || {})[name] || ""));
  const fill = (fields) => {
    for (const [name, input] of Object.entries(inputs)) input.value = typeof fields[name] === "string" ? fields[name] : "";
  };

  const hideNote = () => {
    if (note) note.remove();
    note = null;
  };
  const showNote = (text) => {
    hideNote();
    note = document.createElement("p");
    note.className = "draft-note";
    note.setAttribute("role", "status");
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link-button";
    discard.textContent = strings.discard;
    discard.addEventListener("click", () => {
      fill({});
      clear();
      Object.values(inputs)[0].focus();
    });
    note.append(text, " ", discard);
    form.prepend(note);
  };

  // Changed here: remembered at once, on the server a moment later.
  const remember = (fields) => {
    const synced = kept ? kept.synced : null;
    if (blank(fields) && !synced) {
      write(null); // nothing here, nothing of ours there
      return;
    }
    write({ fields, at: Date.now(), synced, pending: true });
    clearTimeout(pushTimer);
    pushTimer = setTimeout(push, PUSH_AFTER_MS);
  };

  const push = async () => {
    clearTimeout(pushTimer);
    if (!conn || conn.status !== Status.ONLINE || !kept || !kept.pending) return;
    const sent = kept;
    try {
      const reply = await conn.request("drafts.save", { place, fields: sent.fields });
      if (kept !== sent) {
        // Changed meanwhile. Still pending: that change follows (it now replaces what
        // the server has). Cleared (posted) before the server had it: remove it there.
        if (kept) write({ ...kept, synced: reply.draft ? reply.draft.updated_at : null });
        else if (reply.draft) conn.request("drafts.discard", { place }).catch(() => {});
        return;
      }
      write(reply.draft ? { ...sent, synced: reply.draft.updated_at, pending: false } : null);
    } catch {
      // offline again, or refused: kept here, pushed when the page next comes online
    }
  };

  const clear = () => {
    clearTimeout(timer);
    hideNote();
    remember(Object.fromEntries(Object.keys(inputs).map((name) => [name, ""])));
    push(); // posted or discarded: gone from the server at once, not after a pause
  };

  const save = () => {
    clearTimeout(timer);
    dirty = false;
    remember(current());
  };

  // Whenever the page comes online: ours goes up, or a newer one comes down.
  const sync = async () => {
    if (kept && kept.pending) {
      push();
      return;
    }
    let server;
    try {
      server = (await conn.request("drafts.get", { place })).draft;
    } catch {
      return;
    }
    if (typedHere || (kept && kept.pending)) return; // typed meanwhile: ours wins, and is pushed
    const untouched = kept ? same(current(), kept.fields) : blank(current());
    if (!untouched) return;
    if (server && server.updated_at !== (kept && kept.synced)) {
      fill(server.fields); // saved later on another device
      write({ fields: server.fields, at: Date.now(), synced: server.updated_at, pending: false });
      showNote(strings.elsewhere);
    } else if (!server && kept && kept.synced) {
      fill({}); // posted or discarded on another device
      write(null);
      hideNote();
    }
  };

  let kept = read();
  if (kept && (!kept.fields || Date.now() - kept.at >= KEEP_MS) && !kept.pending) write(null);
  if (kept && !blank(kept.fields) && Object.values(inputs).every((input) => !input.value.trim())) {
    fill(kept.fields);
    showNote(strings.restored);
  }

  for (const input of Object.values(inputs)) {
    input.addEventListener("input", () => {
      dirty = true;
      typedHere = true;
      clearTimeout(timer);
      timer = setTimeout(save, SAVE_AFTER_MS);
    });
  }
  // Leaving the page before the pause is over still keeps the last words.
  window.addEventListener("pagehide", () => {
    if (dirty) save();
  });
  if (conn) {
    conn.onStatus((status) => {
      if (status === Status.ONLINE) sync();
    });
  }
  return { clear, save };
}
