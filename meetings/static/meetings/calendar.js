// The branch's meeting calendar: live (re-rendered by the server when a meeting is
// scheduled, changed, opened or cancelled) and the secretary's schedule form.
import { connection, describeError, readJSON } from "../frontend/realtime.js";
import { bindWriteForm } from "../frontend/write_form.js";

const config = readJSON("meetings-config");
const t = readJSON("meetings-strings");
const rt = readJSON("bl-realtime-strings");
const conn = connection();
const $ = (id) => document.getElementById(id);
const calendar = $("meeting-calendar");
const pageError = $("page-error");

async function refreshList() {
  try {
    const response = await fetch(config.list_url, { credentials: "same-origin" });
    if (!response.ok) return;
    calendar.innerHTML = await response.text();
    calendar.dataset.refreshed = String(Date.now());
  } catch {
    // Offline: the next inbox event or reconnect refreshes it.
  }
}

// The inbox tells everyone expected when a meeting is scheduled, changed, opened or
// cancelled; the calendar then asks the server for the list again.
conn.subscribe(`inbox:${config.me}`, {
  event(frame) {
    if (String(frame.type).startsWith("meeting.")) refreshList();
  },
});

let wasOffline = false;
conn.onStatus((status) => {
  if (status === "online" && wasOffline) refreshList();
  if (status !== "online") wasOffline = true;
});

const form = $("schedule-form");
if (form) {
  const statusLine = $("schedule-status");
  const field = (name, id) => [name, { input: $(id), error: $(`${id}-error`) }];
  const fields = Object.fromEntries([
    field("title", "f-title"),
    field("kind", "f-kind"),
    field("starts_at", "f-start"),
    field("ends_at", "f-end"),
    field("place", "f-place"),
    field("chair", "f-chair"),
    field("minute_taker", "f-minute-taker"),
    field("agenda", "f-agenda"),
    field("description", "f-description"),
    field("lobby_policy", "f-lobby"),
  ]);
  bindWriteForm(form, {
    fields,
    statusLine,
    formError: $("schedule-error"),
    conn,
    rt,
    strings: { sending: t.sending, queued: t.queued, failed: t.failed, fixFields: t.fix_fields },
    send: () => {
      const minuteTaker = $("f-minute-taker").value;
      const args = {
        branch: config.branch,
        kind: $("f-kind").value,
        title: $("f-title").value,
        // No offset: the server reads these in the branch's time zone.
        starts_at: $("f-start").value,
        ends_at: $("f-end").value,
        chair: Number($("f-chair").value),
        place: $("f-place").value,
        online: $("f-online").checked,
        description: $("f-description").value,
        lobby_policy: $("f-lobby").value,
        agenda: $("f-agenda")
          .value.split("\n")
          .map((line) => line.trim())
          .filter(Boolean),
      };
      if (minuteTaker) args.minute_taker = Number(minuteTaker);
      return conn.write("meetings.schedule", args);
    },
    onSuccess: (reply) => {
      statusLine.textContent = t.done;
      refreshList();
      const link = document.createElement("a");
      link.href = config.meeting_url.replace("/0/", `/${reply.meeting.id}/`);
      link.textContent = reply.meeting.title;
      link.id = "scheduled-link";
      statusLine.append(" ", link);
    },
  });
}

conn.onError((error) => {
  pageError.textContent = describeError(error, rt);
  pageError.hidden = false;
});
