// Drafts (草稿): what a member types into a compose form is kept in this browser until it
// is posted, so a reload, a closed tab or a crashed browser loses nothing, and on the
// server (accounts/drafts.py), so it follows the member to their other devices. One
// draft per member and place (a branch's announcements, a board, a topic). This
// browser's copy comes first (nothing typed waits on the network) and lasts a week;
// the server's copy a month. Logging out here removes every draft in this browser (a
// shared computer keeps none); the server's copies stay the member's. After a login
// ticked as on a shared computer (data-shared-computer), the browser's copy is kept
// for the tab alone (sessionStorage), so closing it leaves nothing behind even when
// the member forgot to log out.
import { Status, readJSON } from "./realtime.js";

const PREFIX = "bl-draft:";
const KEEP_MS = 7 * 24 * 3600 * 1000;
const SAVE_AFTER_MS = 400;
const PUSH_AFTER_MS = 1500; // to the server, once typing has paused a little longer

function store() {
  try {
    return document.body.dataset.sharedComputer ? window.sessionStorage : window.localStorage;
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
 * keepDraft(form, place, inputs, rt, conn) -> {clear(), save()}
 *   place    where the text belongs, e.g. "announcement:3", "reply:17"
 *   inputs   {name: input or textarea}: the fields kept
 *   rt       the page's realtime strings (draft_restored, draft_elsewhere, …)
 *   conn     the page's connection (realtime.js); without it, this browser only
 * Restores a kept draft into empty fields, with a line saying so and a button to drop
 * it; saves on every change (a moment after typing stops). Whenever the page comes
 * online it asks the server: a draft saved later on another device replaces this one
 * unless something was typed here since the page opened; one posted or discarded
 * elsewhere goes here too. Each save names the server's copy it grew from: when both
 * devices changed the draft, the server refuses (`conflict`) and hands its copy back;
 * this form keeps what was typed here, and the other text is kept too, one click
 * away (and the same click swaps back). The page calls clear() once the server has the post.
 */
export function keepDraft(form, place, inputs, rt, conn = null) {
  const storage = store();
  const me = owner();
  if (me == null || (!storage && !conn)) return { clear() {}, save() {} };
  const key = `${PREFIX}${me}:${place}`;
  let timer = null;
  let pushTimer = null;
  let dirty = false; // typed since the last save here
  let typedHere = false; // typed since the page opened: a draft from elsewhere must not overwrite it
  let note = null;
  const strings = {
    restored: rt.draft_restored, elsewhere: rt.draft_elsewhere, discard: rt.draft_discard,
    changed: rt.draft_changed, swap: rt.draft_swap,
  };

  // This browser's copy: {fields, at, synced, pending, other}. `synced`: the server's
  // `updated_at` this copy grew from (null: never on the server); `pending`: changed
  // here and not on the server yet (blank fields then mean "remove it there too");
  // `other`: the text of another device that this one stood in for, kept to swap back.
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
    note.append(text, " ");
    if (kept && kept.other && !blank(kept.other)) {
      const swap = document.createElement("button");
      swap.type = "button";
      swap.className = "link-button draft-swap";
      swap.textContent = strings.swap;
      swap.addEventListener("click", () => {
        const mine = current();
        fill(kept.other);
        write({ fields: kept.other, at: Date.now(), synced: kept.synced, pending: true, other: mine });
        clearTimeout(pushTimer);
        pushTimer = setTimeout(push, PUSH_AFTER_MS);
      });
      note.append(swap, " ");
    }
    note.append(discard);
    form.prepend(note);
  };

  // Changed here: remembered at once, on the server a moment later.
  const remember = (fields, other = kept ? kept.other : undefined) => {
    const synced = kept ? kept.synced : null;
    if (blank(fields) && !synced) {
      write(null); // nothing here, nothing of ours there
      return;
    }
    write({ fields, at: Date.now(), synced, pending: true, other });
    clearTimeout(pushTimer);
    pushTimer = setTimeout(push, PUSH_AFTER_MS);
  };

  const push = async () => {
    clearTimeout(pushTimer);
    if (!conn || conn.status !== Status.ONLINE || !kept || !kept.pending) return;
    const sent = kept;
    try {
      const reply = await conn.request("drafts.save", { place, fields: sent.fields, base: sent.synced || null });
      if (kept !== sent) {
        // Changed meanwhile. Still pending: that change follows (it now replaces what
        // the server has). Cleared (posted) before the server had it: remove it there.
        if (kept) write({ ...kept, synced: reply.draft ? reply.draft.updated_at : null });
        else if (reply.draft) conn.request("drafts.discard", { place }).catch(() => {});
        return;
      }
      write(reply.draft ? { ...sent, synced: reply.draft.updated_at, pending: false } : null);
    } catch (error) {
      // Offline again: kept here, pushed when the page next comes online. Changed on
      // another device meanwhile: settled below, with both texts kept.
      if (error && error.code === "conflict" && error.details && error.details.draft) settle(error.details.draft);
    }
  };

  // The server's copy moved on elsewhere while this one was being written.
  const settle = (theirs) => {
    if (!kept || blank(kept.fields)) {
      write(null); // posted or discarded here: the other device's draft stays theirs
      return;
    }
    if (same(kept.fields, theirs.fields)) {
      write({ ...kept, synced: theirs.updated_at, pending: false });
      return;
    }
    // What was typed here stays in the form and goes up now, on top of theirs, which
    // stays here one click away.
    write({ ...kept, synced: theirs.updated_at, pending: true, other: theirs.fields });
    showNote(strings.changed);
    push();
  };

  const clear = () => {
    clearTimeout(timer);
    hideNote();
    remember(Object.fromEntries(Object.keys(inputs).map((name) => [name, ""])), undefined);
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
      // Saved later on another device: it takes the form, and what the form held stays
      // a click away.
      const mine = current();
      fill(server.fields);
      const other = blank(mine) || same(mine, server.fields) ? undefined : mine;
      write({ fields: server.fields, at: Date.now(), synced: server.updated_at, pending: false, other });
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
