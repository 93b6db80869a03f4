// One behaviour for every form that sends a write over the socket: field errors from the
// server shown at their field, "queued" while offline (the write goes out on reconnect,
// with the same cid), and nothing the person typed lost on failure.
import { Status, describeError, localMessage } from "./realtime.js";

/**
 * bindWriteForm(form, options)
 *   fields: {name: {input, error}}    error lines per field, matched to details.field
 *   statusLine, formError             elements for progress and form-level errors
 *   conn, rt                          the connection and realtime.js's strings
 *   strings: {sending, queued, failed, fixFields}
 *   send: () => Promise<reply>        the conn.write(...) call
 *   onSuccess(reply)                  after the form is reset
 *   onFieldError(name)                before a field error is shown (e.g. leave preview)
 *   validate()                        optional: {field, message} to stop before sending
 *   onError(error)                    optional: return true when it handled the error
 *                                     (e.g. a conflict that is news, not a failure)
 */
export function bindWriteForm(form, options) {
  const { fields, statusLine, formError, conn, rt, strings, send, onSuccess, onFieldError, validate, onError } = options;
  const submit = form.querySelector("button[type=submit]");

  const showFormError = (text) => {
    formError.textContent = text || "";
    formError.hidden = !text;
  };

  const clearErrors = () => {
    showFormError("");
    for (const { input, error } of Object.values(fields)) {
      input.removeAttribute("aria-invalid");
      input.closest(".field").classList.remove("has-error");
      error.hidden = true;
      error.textContent = "";
    }
  };

  const showFieldError = (name, message) => {
    if (onFieldError) onFieldError(name);
    const { input, error } = fields[name];
    input.setAttribute("aria-invalid", "true");
    input.closest(".field").classList.add("has-error");
    error.textContent = message;
    error.hidden = false;
    input.focus();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    clearErrors();
    const problem = validate ? validate() : null;
    if (problem) {
      showFieldError(problem.field, problem.message);
      return;
    }
    submit.disabled = true;
    // While the write waits for the connection, say so; it goes out on reconnect.
    const stopWatching = conn.onStatus((status) => {
      statusLine.textContent = status === Status.ONLINE ? strings.sending : strings.queued;
    });
    try {
      const reply = await send();
      stopWatching();
      form.reset();
      onSuccess(reply);
    } catch (error) {
      stopWatching();
      statusLine.textContent = "";
      const field = error.details && error.details.field;
      if (onError && onError(error)) {
        // handled by the page
      } else if (error.code === "bad_request" && field in fields) {
        showFieldError(field, localMessage(error.message));
        showFormError(strings.fixFields);
      } else {
        showFormError(`${strings.failed} ${describeError(error, rt)}`);
      }
    } finally {
      submit.disabled = false;
    }
  });
}

/**
 * formField(prefix, name, label, control) -> {wrap, input, error}: a labelled field of a
 * form built in the page (a correction), with its error line, as bindWriteForm wants it.
 * The control gets the id `${prefix}-${name}`.
 */
export function formField(prefix, name, label, control) {
  const wrap = document.createElement("div");
  wrap.className = "field";
  wrap.dataset.field = name;
  control.id = `${prefix}-${name}`;
  control.name = name;
  const lab = document.createElement("label");
  lab.textContent = label;
  lab.htmlFor = control.id;
  const error = document.createElement("p");
  error.className = "field-error";
  error.id = `${control.id}-error`;
  error.hidden = true;
  control.setAttribute("aria-describedby", error.id);
  wrap.append(lab, control, error);
  return { wrap, input: control, error };
}

/**
 * textForm(prefix, {title, body}, {t, config}, extra) -> {form, formError, statusLine,
 * cancel, title, body}: the form that changes a title and a text in place (a
 * correction, a waiting announcement): the two filled in, then `extra` (more fields'
 * wraps, in order), Save and Cancel, and a status line. `title` and `body` are
 * formField()s; the caller binds it with bindWriteForm.
 */
export function textForm(prefix, values, { t, config }, extra = []) {
  const make = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const form = make("form", "stack edit-form");
  form.noValidate = true;
  const formError = make("div", "alert alert-error");
  formError.setAttribute("role", "alert");
  formError.hidden = true;
  const titleInput = make("input");
  titleInput.type = "text";
  titleInput.maxLength = config.title_max;
  titleInput.value = values.title;
  const bodyInput = make("textarea");
  bodyInput.rows = 5;
  bodyInput.maxLength = config.body_max;
  bodyInput.value = values.body;
  const title = formField(prefix, "title", t.title, titleInput);
  const body = formField(prefix, "body", t.text, bodyInput);
  const actions = make("div", "form-actions");
  const save = make("button", "button button-primary", t.save);
  save.type = "submit";
  const cancel = make("button", "button", t.cancel);
  cancel.type = "button";
  const statusLine = make("span", "form-status");
  statusLine.setAttribute("role", "status");
  actions.append(save, cancel, statusLine);
  form.append(formError, title.wrap, body.wrap, ...extra, actions);
  return { form, formError, statusLine, cancel, title, body };
}

/**
 * A destructive button pressed twice, not a modal confirm() (nothing blocks the live
 * page): the first press shows `confirmLabel` for a few seconds, a second one within
 * them runs `act()`.
 */
export function confirmTwice(button, { label, confirmLabel, act, ms = 4000 }) {
  let armed = null;
  const disarm = () => {
    clearTimeout(armed);
    armed = null;
    button.textContent = label;
  };
  button.addEventListener("click", () => {
    if (!armed) {
      button.textContent = confirmLabel;
      armed = setTimeout(disarm, ms);
      return;
    }
    disarm();
    act();
  });
}

/**
 * bindPreview(prefix, {conn, rt, strings}) for the Write / Preview tabs of
 * _compose_body.html: the preview is the server's rendering of the text (the same as
 * when it is posted). Offline, the text is shown as typed, and said so.
 *   strings: {empty, offline, failed}
 * Returns {reset()}: back to writing.
 */
export function bindPreview(prefix, { conn, rt, strings }) {
  const $ = (suffix) => document.getElementById(`${prefix}-${suffix}`);
  const writeTab = $("tab-write");
  const previewTab = $("tab-preview");
  const wrap = $("body-wrap");
  const preview = $("preview");
  const textarea = $("body");
  let asked = 0; // a slow answer to an earlier look does not replace a later one

  const asText = (text, note) => {
    preview.classList.remove("is-rendered");
    preview.textContent = text;
    if (note) {
      const line = document.createElement("p");
      line.className = "muted small preview-note";
      line.textContent = note;
      preview.prepend(line);
    }
  };

  const show = async (previewing) => {
    writeTab.setAttribute("aria-selected", String(!previewing));
    previewTab.setAttribute("aria-selected", String(previewing));
    wrap.hidden = previewing;
    preview.hidden = !previewing;
    if (!previewing) return;
    const n = ++asked;
    const text = textarea.value;
    if (!text.trim()) {
      asText("", strings.empty);
      return;
    }
    if (conn.status !== Status.ONLINE) {
      asText(text, strings.offline);
      return;
    }
    preview.setAttribute("aria-busy", "true");
    try {
      const reply = await conn.request("markdown.preview", { text });
      if (n !== asked) return;
      preview.classList.add("is-rendered");
      preview.innerHTML = reply.html; // rendered and sanitised by the server
    } catch (error) {
      if (n !== asked) return;
      asText(text, error.code === "offline" ? strings.offline : `${strings.failed} ${describeError(error, rt)}`);
    } finally {
      if (n === asked) preview.removeAttribute("aria-busy");
    }
  };
  writeTab.addEventListener("click", () => show(false));
  previewTab.addEventListener("click", () => show(true));
  return { reset: () => show(false) };
}
