// 定时发布 on the announcements page (secretaries): the list of announcements waiting
// to be published, kept current from `scheduled:<branch>` (each frame holds the whole
// list) and asked for again whenever the page comes online; each can be changed (its
// text, time, files and the branches below it also goes to), published at once or
// cancelled. The compose form's "Publish
// later" is in announcements.js; both use branchClock() for times on the branch's clock.
import { Status, describeError, interpolate, listNames } from "./realtime.js";
import { timeFormatter } from "./forum_common.js";
import { editAttachments } from "./uploads.js";
import { bindWriteForm, confirmTwice, formField, textForm } from "./write_form.js";

/**
 * branchClock(timeZone) -> {show(iso), local(iso), now()}
 *   show   "YYYY-MM-DD HH:mm" on the branch's clock (as the server renders times)
 *   local  "YYYY-MM-DDTHH:mm", the value of a datetime-local input on that clock
 *   now    the current time as `local` gives it (an input's `min`)
 */
export function branchClock(timeZone) {
  const show = timeFormatter(timeZone);
  const local = (iso) => show(iso).replace(" ", "T");
  return { show, local, now: () => local(new Date().toISOString()) };
}

/**
 * alsoChoice(fieldset) -> {boxes, chosen(), set(ids), field}: 下发, the "also send to the
 * branches below" checkboxes of a fieldset (the compose form's, or a copy of it).
 * "All of them" ticks or clears every box and shows a partial choice as indeterminate.
 * `field` stands for the choice as one text field ("3,5"), for keepDraft.
 */
export function alsoChoice(fieldset) {
  const boxes = [...fieldset.querySelectorAll("input[name=also]")];
  const all = fieldset.querySelector(".also-all input");
  const showAll = () => {
    const ticked = boxes.filter((box) => box.checked).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  };
  all.addEventListener("change", () => {
    for (const box of boxes) box.checked = all.checked;
  });
  for (const box of boxes) box.addEventListener("change", showAll);
  fieldset.form?.addEventListener("reset", () => setTimeout(showAll));
  const chosen = () => boxes.filter((box) => box.checked).map((box) => Number(box.value));
  const set = (ids) => {
    for (const box of boxes) box.checked = ids.includes(Number(box.value));
    showAll();
  };
  const field = {
    get value() {
      return chosen().join(",");
    },
    set value(text) {
      set(String(text).split(",").filter(Boolean).map(Number));
    },
    addEventListener: (type, listener) => fieldset.addEventListener(type, listener),
  };
  return { boxes, chosen, set, field };
}

/** A copy of the compose form's 下发 fieldset for another form: its ids prefixed. */
function copyOfAlso(prefix) {
  const original = document.querySelector("#compose .also-field");
  if (!original) return null;
  const copy = original.cloneNode(true);
  const rename = (value) => value.split(" ").map((id) => `${prefix}-${id}`).join(" ");
  for (const node of copy.querySelectorAll("[id]")) node.id = rename(node.id);
  for (const node of [copy, ...copy.querySelectorAll("[aria-describedby]")]) {
    if (node.hasAttribute("aria-describedby")) node.setAttribute("aria-describedby", rename(node.getAttribute("aria-describedby")));
  }
  for (const box of copy.querySelectorAll("input")) box.checked = false;
  return copy;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** bindScheduled({conn, config, t, rt}): the "To be published" card, if the page has one. */
export function bindScheduled({ conn, config, t, rt }) {
  const section = document.getElementById("scheduled-section");
  if (!section || !config.scheduled_stream) return;
  const list = document.getElementById("scheduled-list");
  const count = document.getElementById("scheduled-count");
  const errorLine = document.getElementById("scheduled-error");
  const clock = branchClock(config.time_zone);
  const editing = new Map(); // id -> its form, kept while the list is redrawn around it
  let items = [];
  let forms = 0;

  const showError = (text) => {
    errorLine.textContent = text || "";
    errorLine.hidden = !text;
  };

  function render(next) {
    items = next;
    for (const id of [...editing.keys()]) if (!items.some((s) => s.id === id)) editing.delete(id);
    list.replaceChildren(...items.map((s) => editing.get(s.id) || renderItem(s)));
    count.textContent = String(items.length);
    section.hidden = items.length === 0;
  }

  function renderItem(s) {
    const li = el("li", `scheduled-item${s.status === "failed" ? " is-failed" : ""}`);
    li.dataset.id = s.id;
    const when = el("p", "scheduled-when");
    const time = el("time", "", interpolate(t.publishes_at, { time: clock.show(s.publish_at) }));
    time.dateTime = s.publish_at;
    when.append(time);
    const meta = el("p", "muted small", interpolate(t.written_by, { name: s.author.name }));
    for (const f of s.attachments) {
      const link = el("a", "", f.name);
      link.href = f.url; // its secretaries may open what will go out
      meta.append(" · ", link);
    }
    if (s.also && s.also.length) meta.append(" · ", interpolate(t.sent_to, { names: listNames(s.also.map((b) => b.name)) }));
    li.append(when, el("h3", "scheduled-title", s.title), meta);
    if (s.status === "failed") li.append(el("p", "alert alert-error", interpolate(t.not_published, { problem: s.problem })));
    li.append(el("p", "scheduled-body", s.body));

    const actions = el("p", "announcement-actions scheduled-actions");
    const now = el("button", "link-button", t.publish_now);
    now.type = "button";
    confirmTwice(now, { label: t.publish_now, confirmLabel: t.confirm_publish_now, act: () => act(now, "announcements.publish_scheduled", s.id) });
    const change = el("button", "link-button", t.change);
    change.type = "button";
    change.addEventListener("click", () => startChanging(s));
    const cancel = el("button", "link-button danger", t.cancel_scheduled);
    cancel.type = "button";
    confirmTwice(cancel, {
      label: t.cancel_scheduled,
      confirmLabel: t.confirm_cancel_scheduled,
      act: () => act(cancel, "announcements.cancel_scheduled", s.id),
    });
    actions.append(now, change, cancel);
    li.append(actions);
    return li;
  }

  async function act(button, op, id) {
    button.disabled = true;
    try {
      await conn.write(op, { scheduled: id });
      showError("");
      // The list's frame follows; this socket may be a moment ahead of it.
      render(items.filter((s) => s.id !== id));
    } catch (error) {
      showError(`${t.scheduled_action_failed} ${describeError(error, rt)}`);
      button.disabled = false;
    }
  }

  function startChanging(s) {
    const n = ++forms;
    const li = el("li", "scheduled-item is-editing");
    li.dataset.id = s.id;
    const whenInput = el("input");
    whenInput.type = "datetime-local";
    whenInput.value = clock.local(s.publish_at);
    whenInput.min = clock.now();
    const when = formField(`scheduled-${n}`, "publish_at", t.publish_at, whenInput);
    const files = editAttachments(s.attachments, `scheduled-${n}`, { config, t, rt });
    // 下发: the branches below it goes to, changed with the same tree as the compose form's.
    const alsoField = copyOfAlso(`scheduled-${n}`);
    const also = alsoField && alsoChoice(alsoField);
    if (also) also.set((s.also || []).map((branch) => branch.id));
    const { form, formError, statusLine, cancel: back, title, body } = textForm(
      `scheduled-${n}`, s, { t, config }, [when.wrap, files.wrap, ...(alsoField ? [alsoField] : [])]);
    const [titleInput, bodyInput] = [title.input, body.input];
    li.append(form);

    const finish = () => {
      editing.delete(s.id);
      render(items);
    };
    back.addEventListener("click", () => {
      files.uploads.discard(); // uploads made for this change are not wanted now
      finish();
    });
    bindWriteForm(form, {
      fields: {
        title: { input: titleInput, error: title.error },
        body: { input: bodyInput, error: body.error },
        publish_at: { input: whenInput, error: when.error },
        attachments: { input: files.input, error: files.error },
        ...(also ? { also: { input: also.boxes[0], error: alsoField.querySelector(".field-error") } } : {}),
      },
      validate: () =>
        files.uploads.problem() || (whenInput.value ? null : { field: "publish_at", message: t.publish_at_required }),
      statusLine,
      formError,
      conn,
      rt,
      strings: { sending: t.saving, queued: t.queued_change, failed: t.edit_failed, fixFields: t.fix_fields },
      send: () =>
        conn.write("announcements.change_scheduled", {
          scheduled: s.id,
          title: titleInput.value,
          body: bodyInput.value,
          publish_at: whenInput.value,
          attachments: [...files.kept.keys(), ...files.uploads.ids()],
          ...(also ? { also: also.chosen() } : {}), // without the tree here, the branches stay
        }),
      onSuccess: (reply) => {
        editing.delete(s.id);
        render(items.map((x) => (x.id === s.id ? reply.scheduled : x)).sort(bySoonest));
      },
    });
    editing.set(s.id, li);
    list.querySelector(`.scheduled-item[data-id="${s.id}"]`)?.replaceWith(li);
    titleInput.focus();
  }

  const bySoonest = (a, b) => Date.parse(a.publish_at) - Date.parse(b.publish_at) || a.id - b.id;

  async function refresh() {
    try {
      const reply = await conn.request("announcements.scheduled", { branch: config.branch });
      render(reply.scheduled);
      showError("");
    } catch (error) {
      if (error.code !== "disconnected") showError(`${t.scheduled_action_failed} ${describeError(error, rt)}`);
    }
  }

  conn.subscribe(config.scheduled_stream, {
    ephemeral(frame) {
      if (frame.op === "scheduled") render(frame.scheduled);
    },
  });
  // Nothing of this stream is logged: whatever changed while offline is asked for.
  conn.onStatus((status) => {
    if (status === Status.ONLINE) refresh();
  });

  return {
    /** A reply to announcements.schedule: shown at once, before the list's frame. */
    added(s) {
      if (!items.some((x) => x.id === s.id)) render([...items, s].sort(bySoonest));
    },
  };
}
