// The review queue (审核队列), live for every moderator of the branch.
//
// Decisions are made on the item's version as this page last saw it; when another
// moderator acted first the server answers `conflict` with the item as it now is,
// and the page shows that state and says so instead of guessing.
import { Status, connection, describeError, interpolate, localMessage, readJSON } from "./realtime.js";
import { announcer, el, setAlert, timeElement, timeFormatter } from "./forum_common.js";

const config = readJSON("review-config");
const t = readJSON("review-strings");
const rt = readJSON("bl-realtime-strings");
const conn = connection();
const formatTime = timeFormatter(config.time_zone);
const announce = announcer(document.getElementById("live-announcer"));

const $ = (id) => document.getElementById(id);
const list = $("review-list");
const pageError = $("page-error");

const items = new Map((config.items || []).map((item) => [item.id, item]));
// Paging: the oldest items first; `next` continues after the last one loaded. Items
// that arrive while older ones are still unloaded wait behind "load more".
const paging = { next: config.next || null, pages: 1, loading: false, waiting: 0 };

const statusArg = () => (config.status === "all" ? null : config.status);

function renderMore() {
  const button = $("queue-more");
  if (!button) return;
  button.hidden = !paging.next;
  button.disabled = paging.loading;
  button.textContent = paging.waiting ? interpolate(t.load_more_new_items, { count: paging.waiting }) : t.load_more_items;
}

async function loadMoreItems() {
  if (!paging.next || paging.loading) return;
  paging.loading = true;
  renderMore();
  try {
    const reply = await conn.request("moderation.queue", { branch: config.branch, status: statusArg(), after: paging.next });
    for (const fresh of reply.items || []) {
      const old = items.get(fresh.id);
      if (old && fresh.version < old.version) continue;
      items.set(fresh.id, { ...(old || {}), ...fresh });
      rerender(fresh.id);
    }
    paging.next = reply.next || null;
    paging.pages += 1;
    if (!paging.next) paging.waiting = 0;
    setAlert(pageError, "");
  } catch (error) {
    setAlert(pageError, `${t.load_more_failed} ${describeError(error, rt)}`);
  } finally {
    paging.loading = false;
    renderMore();
  }
}

$("queue-more")?.addEventListener("click", loadMoreItems);
const messages = new Map(); // item id -> {text, kind}
const openPanels = new Map(); // item id -> decision whose form is open

// What a decision does to the post (forum/review.py), to show the new state at once.
const TARGET_AFTER = {
  approve: { pending: "visible", hidden: "visible" },
  edit_approve: { pending: "visible", hidden: "visible" },
  restore: { hidden: "visible", deleted: "visible" },
  reject: { pending: "rejected", visible: "hidden" },
  silence: { pending: "rejected", visible: "hidden" },
  hide: { visible: "hidden" },
  delete: { pending: "deleted", visible: "deleted", hidden: "deleted", rejected: "deleted" },
  ignore: {},
};

// Which decisions make sense for the post's state; the server accepts any of them.
function decisionsFor(item) {
  const status = item.target ? item.target.status : null;
  switch (status) {
    case "pending":
      return ["approve", "edit_approve", "reject", "delete", "silence"];
    case "visible":
      return ["ignore", "hide", "edit_approve", "delete", "silence"];
    case "hidden":
      return ["restore", "delete", "ignore", "silence"];
    case "deleted":
      return ["restore", "ignore"];
    case "rejected":
      return ["ignore"];
    default:
      return ["approve", "reject", "ignore", "delete"];
  }
}

const NEEDS_REASON = new Set(["reject", "silence"]);
const TAKES_REASON = new Set(["reject", "silence", "hide", "delete"]);

function reasonLine(reason) {
  const key = reason.reason in t.reasons ? reason.reason : "other";
  let text = interpolate(t.reasons[key], {
    words: (reason.words || []).join("、"),
    by: reason.by || "",
    flag: t.flag_reasons[reason.flag] || reason.flag || "",
  });
  if (key === "flag" && reason.note) text = `${text} · ${reason.note}`;
  if (reason.edit) text = `${text} · ${t.reasons.after_edit}`;
  return text;
}

function lastActor(item) {
  const history = item.history || [];
  return history.length ? history[history.length - 1] : null;
}

function renderItem(item) {
  const li = el("li", {
    className: `review-item status-${item.status}`,
    dataset: { id: item.id, version: item.version, status: item.status },
  });
  const card = el("article", "card");
  const target = item.target;
  const head = el(
    "header",
    "review-head",
    el("span", `tag tag-status-${item.status} item-status`, t.item_status[item.status] || item.status),
    target
      ? el("a", {
          className: "review-target",
          href: `/forum/topics/${Number(target.topic)}/#post-${Number(target.number)}`,
          text: `${target.title || ""} #${target.number}`,
        })
      : null,
    target && target.author ? el("span", "muted small", interpolate(t.author_label, { name: target.author.name })) : null,
    target && target.created_at ? timeElement(target.created_at, formatTime) : null,
    el("span", "muted small", interpolate(t.score, { score: Math.round((item.score || 0) * 10) / 10 })),
  );
  card.append(head);
  card.append(el("ul", "review-reasons small", (item.reasons || []).map((r) => el("li", null, reasonLine(r)))));
  if (target) {
    card.append(el("p", `post-state small state-${target.status}`, interpolate(t.post_is, { status: t.post_status[target.status] || target.status })));
    const body = el("div", "post-body review-body");
    body.innerHTML = target.html || ""; // sanitised by the server (forum/rendering.py)
    card.append(body);
  } else if (target === null) {
    card.append(el("p", "muted small", t.target_missing));
  } // undefined: still loading (an item that just arrived)
  const history = item.history || [];
  if (history.length) {
    const details = el("details", "review-history small", el("summary", null, `${t.history} (${history.length})`));
    const ol = el("ol");
    for (const h of history) {
      const done = interpolate(t.decisions_done[h.decision] || h.decision, { name: h.name || h.by || "" });
      ol.append(el("li", null, timeElement(h.at, formatTime), " ", done, h.reason ? ` · ${h.reason}` : ""));
    }
    details.append(ol);
    card.append(details);
  }
  const message = messages.get(item.id);
  card.append(el("p", { className: `item-message${message ? ` is-${message.kind}` : ""}`, role: "status", hidden: !message, text: message ? message.text : "" }));
  card.append(renderActions(item));
  const panel = openPanels.get(item.id);
  if (panel) card.append(renderPanel(item, panel));
  li.append(card);
  return li;
}

function renderActions(item) {
  const bar = el("div", "review-actions");
  for (const decision of decisionsFor(item)) {
    const primary = decision === "approve" || decision === "restore";
    bar.append(
      el("button", {
        type: "button",
        className: `button${primary ? " button-primary" : ""}${decision === "delete" || decision === "silence" ? " button-danger" : ""}`,
        dataset: { decision },
        text: t.decisions[decision] || decision,
        onclick: () => {
          if (decision === "edit_approve" || TAKES_REASON.has(decision)) {
            openPanels.set(item.id, openPanels.get(item.id) === decision ? null : decision);
            if (!openPanels.get(item.id)) openPanels.delete(item.id);
            rerender(item.id);
            list.querySelector(`[data-id="${item.id}"] .review-panel textarea`)?.focus();
          } else {
            decide(item.id, decision, {});
          }
        },
      }),
    );
  }
  return bar;
}

function renderPanel(item, decision) {
  const form = el("form", { className: "review-panel stack", dataset: { decision } });
  const error = el("p", { className: "field-error", hidden: true });
  let textarea;
  let days;
  if (decision === "edit_approve") {
    textarea = el("textarea", { rows: 5, name: "body", "aria-label": t.edit_label });
    textarea.value = item.target ? item.target.source || "" : "";
    form.append(el("label", { className: "small" }, t.edit_label), textarea);
  } else {
    textarea = el("textarea", { rows: 2, name: "reason", maxlength: 300, "aria-label": NEEDS_REASON.has(decision) ? t.reason_label : t.reason_optional_label });
    form.append(el("label", { className: "small" }, NEEDS_REASON.has(decision) ? t.reason_label : t.reason_optional_label), textarea);
    if (decision === "silence") {
      days = el("input", { type: "number", min: 1, max: 365, value: 7, name: "days", className: "days-input", "aria-label": t.silence_days });
      form.append(el("label", { className: "small inline-label" }, `${t.silence_days} `, days));
    }
  }
  form.append(
    error,
    el(
      "div",
      "form-actions",
      el("button", { type: "submit", className: "button button-primary", text: `${t.confirm}: ${t.decisions[decision]}` }),
      el("button", {
        type: "button",
        className: "button",
        text: t.cancel,
        onclick: () => {
          openPanels.delete(item.id);
          rerender(item.id);
        },
      }),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = textarea.value.trim();
    if (NEEDS_REASON.has(decision) && !value) {
      error.textContent = t.reason_required;
      error.hidden = false;
      textarea.focus();
      return;
    }
    const extra = decision === "edit_approve" ? { body: textarea.value } : { reason: value };
    if (days) extra.silence_days = Number(days.value) || 1;
    decide(item.id, decision, extra, error);
  });
  return form;
}

function rerender(id) {
  const item = items.get(id);
  const old = list.querySelector(`:scope > li[data-id="${id}"]`);
  if (!item) {
    old?.remove();
    return;
  }
  const node = renderItem(item);
  if (old) old.replaceWith(node);
  else {
    list.querySelector(":scope > .empty")?.remove();
    list.append(node);
  }
}

function renderAll() {
  if (!items.size) list.replaceChildren(el("li", "empty", t.empty_queue));
  else list.replaceChildren(...[...items.values()].map(renderItem));
  list.dataset.synced = "true";
}

// -- counts in the filter tabs and the navigation ------------------------------------------

function bump(status, delta) {
  const tab = document.querySelector(`.filter-tabs a[data-status="${status}"] .count`);
  if (tab) tab.textContent = String(Math.max(0, Number(tab.textContent) + delta));
  if (status === "pending") {
    const nav = $("nav-pending-count");
    if (nav) {
      const count = Math.max(0, Number(nav.textContent) + delta);
      nav.textContent = String(count);
      nav.hidden = count === 0;
    }
  }
}

function countTransition(before, after) {
  if (before === after) return;
  if (before) bump(before, -1);
  if (after) bump(after, 1);
}

// -- decisions -----------------------------------------------------------------------------

function mergeItem(fresh, { keepTarget = true } = {}) {
  const old = items.get(fresh.id);
  const merged = { ...(old || {}), ...fresh };
  if (keepTarget && old && !("target" in fresh)) merged.target = old.target;
  items.set(fresh.id, merged);
  return { old, merged };
}

async function decide(id, decision, extra, errorLine) {
  const item = items.get(id);
  if (!item) return;
  const buttons = list.querySelectorAll(`[data-id="${id}"] button`);
  buttons.forEach((b) => {
    b.disabled = true;
  });
  try {
    const reply = await conn.write("moderation.review", { item: id, version: item.version, decision, ...extra });
    const { old, merged } = mergeItem(reply.item);
    if (merged.target) {
      const after = (TARGET_AFTER[decision] || {})[merged.target.status];
      merged.target = { ...merged.target, status: after || merged.target.status };
      if (decision === "edit_approve" && extra.body) merged.target.source = extra.body;
    }
    if (old && old.version < reply.item.version) countTransition(old.status, merged.status);
    openPanels.delete(id);
    messages.set(id, { kind: "ok", text: interpolate(t.decided, { decision: t.decisions[decision] || decision }) });
    rerender(id);
    refreshTargets(merged.status); // the post's own state (e.g. its new text) from the server
  } catch (error) {
    if (error.code === "conflict" && error.details && error.details.item) {
      const { old, merged } = mergeItem(error.details.item);
      if (old) countTransition(old.status, merged.status);
      const last = lastActor(merged);
      messages.set(id, {
        kind: "conflict",
        text: interpolate(t.conflict, {
          status: t.item_status[merged.status] || merged.status,
          by: last ? interpolate(t.conflict_by, { name: last.name || last.by }) : "",
        }),
      });
      openPanels.delete(id);
      rerender(id);
      refreshTargets(merged.status);
      return;
    }
    const text = error.code === "bad_request" ? localMessage(error.message) : describeError(error, rt);
    if (errorLine) {
      errorLine.textContent = text;
      errorLine.hidden = false;
    } else {
      messages.set(id, { kind: "error", text });
      rerender(id);
    }
    buttons.forEach((b) => {
      b.disabled = false;
    });
  }
}

// The queue's items with their posts, fresh from the server: an item that arrived
// live needs its post, a decision changes the post, and items may have come in
// between rendering the page and subscribing.
async function refreshTargets(status = statusArg()) {
  try {
    // As many pages as this page has loaded (others stay behind "load more").
    const fetched = [];
    let after = null;
    for (let page = 0; page < paging.pages; page += 1) {
      const reply = await conn.request("moderation.queue", { branch: config.branch, status, after });
      fetched.push(...(reply.items || []));
      after = reply.next;
      if (!after) break;
    }
    for (const fresh of fetched) {
      const old = items.get(fresh.id);
      if (!old) {
        if (!matchesFilter(fresh)) continue;
        items.set(fresh.id, fresh);
        rerender(fresh.id);
        continue;
      }
      // Never step back to an older version than the page already shows.
      if (fresh.version < old.version) continue;
      items.set(fresh.id, { ...old, ...fresh });
      if (!openPanels.has(fresh.id)) rerender(fresh.id);
    }
  } catch (error) {
    if (error.code !== "offline" && error.code !== "disconnected") setAlert(pageError, describeError(error, rt));
  }
}

// -- the stream ------------------------------------------------------------------------------

function matchesFilter(item) {
  return config.status === "all" || item.status === config.status;
}

conn.subscribe(config.stream, {
  event(frame) {
    if (frame.type !== "review.updated") return;
    const fresh = frame.data;
    const known = items.get(fresh.id);
    if (known && fresh.version <= known.version) return; // our own decision, already shown
    if (!known) {
      if (!matchesFilter(fresh)) {
        countTransition(null, fresh.status);
        return;
      }
      if (paging.next) {
        // Older items are not loaded yet: it comes in its place with "load more".
        countTransition(null, fresh.status);
        paging.waiting += 1;
        renderMore();
        announce(t.new_item);
        return;
      }
      items.set(fresh.id, { ...fresh }); // its post follows from moderation.queue
      countTransition(null, fresh.status);
      rerender(fresh.id);
      const node = list.querySelector(`:scope > li[data-id="${fresh.id}"]`);
      node?.classList.add("is-arriving");
      announce(t.new_item);
      refreshTargets();
      return;
    }
    const { old, merged } = mergeItem(fresh);
    countTransition(old.status, merged.status);
    const last = lastActor(merged);
    if (last && last.by !== config.me && (merged.history || []).length > (old.history || []).length) {
      // Someone else decided: say who, and close any half-filled form of ours.
      messages.set(fresh.id, { kind: "info", text: interpolate(t.updated_by_other, { name: last.name || last.by }) });
      openPanels.delete(fresh.id);
    }
    rerender(fresh.id);
    refreshTargets(merged.status);
  },
  error(error) {
    setAlert(pageError, describeError(error, rt));
  },
});

conn.onStatus((status) => {
  if (status === Status.ONLINE) refreshTargets();
});

renderAll();
