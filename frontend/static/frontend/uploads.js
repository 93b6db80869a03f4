// Files attached to announcements (secretaries): chosen files go up over HTTP at once,
// each with its progress (POST /api/branches/{id}/attachments), and the post, the
// correction or the scheduled announcement then names them; one taken out of the form
// is deleted on the server. `context`: {config, t, rt} of the page (announcements.js).
import { interpolate } from "./realtime.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function formatSize(bytes, t) {
  if (bytes < 1024) return interpolate(t.size_bytes, { size: bytes });
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The files of an announcement being changed: each can be taken off, and new ones added. */
export function editAttachments(files, prefix, context) {
  const { config, t } = context;
  const wrap = el("div", "field attachments-field");
  wrap.dataset.field = "attachments";
  const kept = new Map((files || []).map((f) => [f.id, f]));
  const keptList = el("ul", "upload-list");
  for (const f of kept.values()) {
    const li = el("li", "upload is-ready");
    const drop = el("button", "link-button", t.remove);
    drop.type = "button";
    drop.setAttribute("aria-label", `${t.remove} ${f.name}`);
    drop.addEventListener("click", () => {
      kept.delete(f.id);
      li.remove();
    });
    li.append(el("span", "upload-name", f.name), " ", el("span", "muted small", formatSize(f.size, t)), drop);
    keptList.append(li);
  }
  const input = el("input", "file-input");
  input.type = "file";
  input.multiple = true;
  input.accept = config.attachment_accept;
  input.id = `${prefix}-files`;
  const button = el("label", "button file-button", t.add_files);
  button.htmlFor = input.id;
  const uploadList = el("ul", "upload-list");
  const error = el("p", "field-error");
  error.id = `${input.id}-error`;
  error.hidden = true;
  input.setAttribute("aria-describedby", error.id);
  wrap.append(el("span", "field-label", t.attachments), keptList, input, button, uploadList, error);
  const uploads = bindUploads(input, uploadList, error, context, () => kept.size);
  return { wrap, input, error, kept, uploads };
}

// Files go up over HTTP as soon as they are chosen, each with its progress; the post
// then names them. One taken out of the form before posting is deleted on the server.
export function bindUploads(input, listNode, errorNode, context, alreadyAttached = () => 0) {
  const { config, t, rt } = context;
  const items = []; // {file, li, id, state: "uploading" | "ready" | "failed", xhr}

  const showError = (text) => {
    errorNode.textContent = text || "";
    errorNode.hidden = !text;
  };

  function remove(item) {
    if (item.state === "uploading") item.xhr.abort();
    if (item.state === "ready") {
      fetch(`/api/attachments/${Number(item.id)}`, {
        method: "DELETE",
        headers: { "X-CSRFToken": config.csrf },
        credentials: "same-origin",
      }).catch(() => {}); // else removed a day later anyway
    }
    items.splice(items.indexOf(item), 1);
    item.li.remove();
    showError("");
  }

  function start(file) {
    const li = el("li", "upload is-uploading");
    const status = el("span", "upload-status muted small", interpolate(t.uploading, { done: "0%" }));
    const bar = el("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    const drop = el("button", "link-button", t.remove);
    drop.type = "button";
    drop.setAttribute("aria-label", `${t.remove} ${file.name}`);
    li.append(el("span", "upload-name", file.name), " ", el("span", "muted small", formatSize(file.size, t)), bar, status, drop);
    listNode.append(li);
    const item = { file, li, id: null, state: "uploading", xhr: null };
    items.push(item);
    drop.addEventListener("click", () => remove(item));

    const fail = (text) => {
      item.state = "failed";
      li.className = "upload is-failed";
      bar.remove();
      status.textContent = `${t.upload_failed} ${text}`;
    };
    if (file.size > config.attachment_max_bytes) {
      fail(interpolate(t.file_too_large, { mb: Math.floor(config.attachment_max_bytes / 1048576) }));
      return;
    }
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    xhr.open("POST", `/api/branches/${Number(config.branch)}/attachments`);
    xhr.setRequestHeader("X-CSRFToken", config.csrf);
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.floor((event.loaded / event.total) * 100);
      bar.value = percent;
      status.textContent = interpolate(t.uploading, { done: `${percent}%` });
    });
    xhr.addEventListener("load", () => {
      let reply = {};
      try {
        reply = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON: a proxy's page */
      }
      if (xhr.status === 201 && reply.attachment) {
        item.id = reply.attachment.id;
        item.state = "ready";
        li.className = "upload is-ready";
        bar.remove();
        status.textContent = t.uploaded;
      } else if (reply.message) {
        fail(reply.message); // the server's own words, in the page's language
      } else {
        fail(xhr.status === 413 ? interpolate(t.file_too_large, { mb: Math.floor(config.attachment_max_bytes / 1048576) }) : rt.error_unknown);
      }
    });
    xhr.addEventListener("error", () => fail(rt.error_disconnected));
    const data = new FormData();
    data.append("file", file);
    xhr.send(data);
  }

  input.addEventListener("change", () => {
    showError("");
    for (const file of input.files) {
      if (alreadyAttached() + items.length >= config.attachments_max) {
        showError(interpolate(t.too_many_files, { max: config.attachments_max }));
        break;
      }
      start(file);
    }
    input.value = "";
  });

  return {
    ids: () => items.filter((item) => item.state === "ready").map((item) => item.id),
    problem() {
      if (items.some((item) => item.state === "uploading")) return { field: "attachments", message: t.uploads_pending };
      if (items.some((item) => item.state === "failed")) return { field: "attachments", message: t.uploads_failed };
      return null;
    },
    clear() {
      items.length = 0;
      listNode.replaceChildren();
    },
    discard() {
      for (const item of [...items]) remove(item);
    },
  };
}
