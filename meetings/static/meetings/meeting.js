// A meeting's room (docs/protocol.md, "Meetings"): join (or wait in the lobby), follow
// `meeting:<id>`, and keep every panel live: status, quorum, participants and hands,
// agenda, votes and ballots, chat, remarks, and the chair console for the hosts.
import { Status, connection, describeError, interpolate, listNames, localMessage, readJSON } from "../frontend/realtime.js";
import { bindWriteForm } from "../frontend/write_form.js";

const config = readJSON("meeting-config");
const t = readJSON("meeting-strings");
const rt = readJSON("bl-realtime-strings");
const conn = connection();
// Clients in a meeting ping every 15 s, so a dead connection ends its stay promptly.
conn.pingEvery = 15000;

const $ = (id) => document.getElementById(id);
const lang = document.documentElement.lang || "zh-hans";
const REACTIONS = ["👍", "👏", "❤️", "😄", "🤔", "🙋"];
const RUNNING = ["open", "live"];

const initialVotes = readJSON("meeting-votes");
// The ballot box's count as typed so far, kept for this tab (sessionStorage): a reload
// or a lost connection does not make the chair count the box again.
const PAPER_DRAFTS_KEY = `bl-paper-count-${config.meeting}`;

function loadPaperDrafts() {
  try {
    return new Map(JSON.parse(window.sessionStorage.getItem(PAPER_DRAFTS_KEY) || "[]"));
  } catch {
    return new Map();
  }
}

function savePaperDrafts() {
  try {
    window.sessionStorage.setItem(PAPER_DRAFTS_KEY, JSON.stringify([...state.paperDrafts]));
  } catch {
    // storage full or refused: the draft lives on in this page only
  }
}

const state = {
  meeting: config.meeting_data,
  you: config.you,
  agenda: config.agenda,
  participants: new Map(), // user id -> participant
  rows: new Map(), // user id -> attendance row
  hands: [],
  counts: config.counts,
  quorum: config.quorum,
  votes: new Map((Array.isArray(initialVotes) ? initialVotes : []).map((v) => [v.id, v])),
  myVotes: new Set(),
  ballotPicks: new Map(), // vote id -> the keys ticked on this page's ballot, kept through redraws
  othersOpen: new Set(), // "ballot-<vote id>", "paper-<vote id>": a 另选他人 list open on this page
  othersFind: new Map(), // the same keys -> what was typed to find a name in that list
  chat: [],
  remarks: [],
  mode: "idle", // idle | joining | waiting | in | removed | denied
  subscription: null,
  voteErrors: new Map(), // vote id -> message
  paperDrafts: loadPaperDrafts(), // vote id -> what the chair has typed into the ballot box's count
  paperNotes: new Map(), // vote id -> who was passed over when paper ballots were handed out
  paperErrors: new Map(), // vote id -> the last refusal of the paper panel, until a write succeeds
  candidateOrder: [], // user ids: the candidates ticked to prepare an election, in the order ticked
  entryDrafts: new Map(), // "entry-<form>-<vote id>" -> the chair's entry of someone else's vote, kept through redraws
};

// -- formatting --------------------------------------------------------------------------

let timeParts;
try {
  timeParts = new Intl.DateTimeFormat("en-US", {
    timeZone: config.time_zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
} catch {
  timeParts = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", dateStyle: "short", timeStyle: "short" });
}

/** An ISO time in the BRANCH's zone (not the browser's): "HH:mm", or the full date. */
function formatTime(iso, withDate = false) {
  if (!iso) return "";
  const p = Object.fromEntries(timeParts.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return withDate ? `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` : `${p.hour}:${p.minute}`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function button(text, onClick, className = "button small-action") {
  const b = el("button", className, text);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function timeEl(iso, withDate = false) {
  const node = el("time", "", formatTime(iso, withDate));
  node.dateTime = iso;
  return node;
}

function announce(text) {
  const announcer = $("live-announcer");
  announcer.textContent = "";
  requestAnimationFrame(() => {
    announcer.textContent = text;
  });
}

/** The server's own words for a refusal (they name the numbers); our headline otherwise. */
function explain(error) {
  if (["conflict", "forbidden", "bad_request", "not_found"].includes(error.code) && error.message) {
    return localMessage(error.message);
  }
  return describeError(error, rt);
}

function showError(element, text) {
  if (!element) return;
  element.textContent = text || "";
  element.hidden = !text;
}

const pageError = $("page-error");
const consoleError = $("console-error");

/** Run a host control; a refusal is shown in the console (or the page) and changes nothing. */
async function control(op, args, { where = consoleError, write = true } = {}) {
  showError(where || pageError, "");
  try {
    return await (write ? conn.write(op, args) : conn.request(op, args));
  } catch (error) {
    showError(where || pageError, `${t.action_failed} ${explain(error)}`);
    throw error;
  }
}

const quiet = () => {};
const meetingArgs = (extra = {}) => ({ meeting: config.meeting, ...extra });
const isMe = (user) => user && user.id === config.me;
const nameOf = (user) => (user ? user.name : "");

// -- rendering -----------------------------------------------------------------------------

/** 扫码签到: while shown, the room's QR code is fetched again before it changes (room.py). */
let qrTimer = null;
function renderCheckIn() {
  const card = $("check-in");
  if (!card) return;
  const running = RUNNING.includes(state.meeting.status);
  card.hidden = !running;
  const details = $("check-in-details");
  const img = $("check-in-img");
  clearInterval(qrTimer);
  if (!running || !details.open) {
    img.hidden = true;
    img.removeAttribute("src");
    return;
  }
  const load = () => {
    img.src = `${card.dataset.qr}?t=${Date.now()}`;
    img.hidden = false;
  };
  load();
  qrTimer = setInterval(load, 20000);
}

function renderStatus() {
  const m = state.meeting;
  const tag = $("meeting-status");
  tag.dataset.status = m.status;
  tag.className = `tag status-${m.status}`;
  tag.textContent = t.status[m.status] || m.status;
  $("meeting-locked").hidden = !m.locked;
  const roomState = $("room-state");
  let text = "";
  if (state.mode === "waiting") text = t.lobby_wait;
  else if (state.mode === "denied") text = t.lobby_denied;
  else if (state.mode === "removed") text = t.removed;
  else if (state.mode === "joining") text = t.joining;
  else if (m.status === "scheduled") text = t.not_started;
  else if (m.status === "ended") text = t.ended;
  else if (m.status === "cancelled") text = t.cancelled;
  roomState.textContent = text;
  roomState.hidden = !text;
  roomState.dataset.mode = state.mode;
  const inRoom = state.mode === "in" && RUNNING.includes(m.status);
  $("room-actions").hidden = !inRoom;
  $("chat-section").hidden = !(state.mode === "in" || m.status === "ended");
  $("chat-form").hidden = !inRoom;
  const me = state.participants.get(config.me);
  $("my-mute").hidden = !(me && me.muted);
  const handButton = $("btn-hand");
  const raised = state.hands.some((h) => isMe(h));
  handButton.textContent = raised ? t.lower_my_hand : t.raise_hand;
  handButton.setAttribute("aria-pressed", String(raised));
  renderConsole();
  renderCheckIn();
}

function renderConsole() {
  if (!state.you.host || !$("console")) return;
  const s = state.meeting.status;
  const show = (id, visible) => {
    $(id).hidden = !visible;
  };
  show("btn-open-lobby", s === "scheduled");
  show("btn-start", s === "scheduled" || s === "open");
  show("btn-next-item", s === "live" && state.agenda.length > 0);
  show("btn-lock", RUNNING.includes(s));
  show("btn-mute-all", s === "live");
  show("btn-end", s === "live");
  show("btn-cancel", s === "scheduled" || s === "open");
  $("btn-lock").textContent = state.meeting.locked ? t.unlock : t.lock;
  $("btn-mute-all").textContent = state.meeting.all_muted ? t.unmute_all : t.mute_all;
  $("vote-create-details").hidden = ["ended", "cancelled"].includes(s);
}

const titleTail = document.title.startsWith(config.meeting_data.title)
  ? document.title.slice(config.meeting_data.title.length)
  : null;

/** The heading and details line: title, times (branch zone), place, chair, minute-taker, notes. */
function renderHeader() {
  const m = state.meeting;
  $("meeting-title").textContent = m.title;
  if (titleTail !== null) document.title = `${m.title}${titleTail}`;
  const starts = $("meeting-starts");
  starts.dateTime = m.starts_at;
  starts.textContent = formatTime(m.starts_at, true);
  const ends = $("meeting-ends");
  ends.dateTime = m.ends_at;
  ends.textContent = formatTime(m.ends_at);
  $("meeting-place").textContent = [m.place, m.online ? t.online : ""].filter(Boolean).join(" / ");
  $("meeting-chair").textContent = nameOf(m.chair);
  $("meeting-minute-taker").textContent = nameOf(m.minute_taker);
  $("meeting-minute-taker-line").hidden = !m.minute_taker;
  const description = $("meeting-description");
  description.textContent = m.description || "";
  description.hidden = !m.description;
  // Editing is for before the end: the panels go away when it ends or is cancelled.
  const over = ["ended", "cancelled"].includes(m.status);
  if ($("edit-section")) $("edit-section").hidden = over;
  if ($("agenda-edit-details")) $("agenda-edit-details").hidden = over;
}

function renderQuorum() {
  const q = state.quorum;
  const c = state.counts;
  if (q) {
    $("quorum-line").textContent = interpolate(t.quorum_line, { present: q.voting_present, expected: q.voting_expected });
    const motion = $("quorum-motion");
    motion.dataset.met = String(q.motion_met);
    motion.textContent = interpolate(q.motion_met ? t.motion_ok : t.motion_no, { required: q.motion_required });
    const election = $("quorum-election");
    election.dataset.met = String(q.election_met);
    election.textContent = interpolate(q.election_met ? t.election_ok : t.election_no, {
      required: q.election_required,
    });
    $("quorum").dataset.met = String(q.motion_met);
    $("quorum").dataset.present = String(q.voting_present);
    $("quorum").dataset.expected = String(q.voting_expected);
  }
  if (c) $("counts-line").textContent = interpolate(t.counts_line, c);
}

function renderAgenda() {
  const list = $("agenda");
  if (!agendaDraft.dirty) resetAgendaDraft();
  if (!state.agenda.length) {
    list.replaceChildren(el("li", "empty muted", t.no_agenda));
    return;
  }
  list.replaceChildren(
    ...state.agenda.map((item) => {
      const li = el("li", "", item.title);
      li.dataset.id = item.id;
      if (item.id === state.meeting.current_item) {
        li.className = "is-current";
        li.setAttribute("aria-current", "step");
        li.append(" ", el("span", "tag tag-current", t.current));
      }
      return li;
    }),
  );
  const select = $("vote-agenda-item");
  if (select) {
    // The vote form's agenda picker follows the agenda (it may have been edited).
    const chosen = select.value;
    const none = select.options[0];
    select.replaceChildren(
      none,
      ...state.agenda.map((item, index) => {
        const option = el("option", "", `${index + 1}. ${item.title}`);
        option.value = String(item.id);
        return option;
      }),
    );
    select.value = state.agenda.some((item) => String(item.id) === chosen) ? chosen : "";
  }
  if (select && state.meeting.current_item && !select.dataset.touched) {
    select.value = String(state.meeting.current_item);
  }
}

function attendanceLabel(row) {
  if (!row) return t.attendance.guest;
  return t.attendance[row.status] || row.status;
}

function renderPeople() {
  const list = $("participants");
  const people = new Map();
  for (const row of state.rows.values()) people.set(row.user.id, { user: row.user, row });
  for (const p of state.participants.values()) {
    if (p.state !== "admitted") continue;
    const entry = people.get(p.user.id) || { user: p.user, row: null };
    entry.participant = p;
    people.set(p.user.id, entry);
  }
  const entries = [...people.values()].sort(
    (a, b) =>
      Number(Boolean(b.participant && b.participant.connected)) - Number(Boolean(a.participant && a.participant.connected)) ||
      a.user.name.localeCompare(b.user.name, lang),
  );
  if (!entries.length) {
    list.replaceChildren(el("li", "empty muted", t.no_participants));
  } else {
    list.replaceChildren(...entries.map(renderPerson));
  }
  renderLobby();
  renderHands();
  renderRoomTimes();
}

/** Whether the chair, a secretary or the minute-taker may still mend the record of who
 * was in the room (补登): while the meeting runs, and for a few days after it ended. */
function mayKeepRoll() {
  if (!(state.you.host || state.you.minute_taker)) return false;
  if (RUNNING.includes(state.meeting.status)) return true;
  if (state.meeting.status !== "ended" || !state.meeting.ended_at || config.minutes_final) return false;
  return Date.now() - new Date(state.meeting.ended_at).getTime() <= config.correction_days * 86400000;
}

/** 现场签到 for the chair, a secretary or the minute-taker: in the room, out, or a mistake;
 * after the end, 补登 (was there) or a mistake. */
/** The times typed above the participants list, from the paper list: while the meeting
 * runs, when someone came in or left (empty: now); after it, the stay to record (empty:
 * the start, the end). The server reads "HH:MM" on the branch's clock. */
/** Whether anyone is, or was, checked in in the meeting's room. */
function someoneInTheRoom() {
  return [...state.rows.values()].some((row) => row.in_room || row.checked_in);
}

function renderRoomTimes() {
  const box = $("room-times");
  if (!box) return;
  const after = state.meeting.status === "ended";
  box.hidden = !mayKeepRoll() || !(state.meeting.place || someoneInTheRoom());
  $("room-times-live").hidden = after;
  $("room-times-after").hidden = !after;
}

function roomTime(id) {
  const input = $(id);
  return input && input.value ? input.value : undefined;
}

function roomTools(user, row) {
  const tools = el("span", "person-tools room-tools");
  const act = (op, extra = {}) => control(op, meetingArgs({ user: user.id, ...extra })).catch(quiet);
  if (state.meeting.status === "ended") {
    if (row.checked_in) {
      tools.append(button(t.check_in_undo, () => act("meetings.room.check_out", { mistake: true }), "button small-action"));
    } else if (["absent", "excused", "late", "left_early", "late_and_left_early"].includes(row.status)) {
      tools.append(button(t.check_in_after, () => act("meetings.room.check_in",
        { since: roomTime("room-from"), until: roomTime("room-until") }), "button small-action"));
    }
  } else if (row.in_room) {
    tools.append(
      button(t.check_out, () => act("meetings.room.check_out", { at: roomTime("room-at") }), "button small-action"),
      button(t.check_in_undo, () => act("meetings.room.check_out", { mistake: true }), "button small-action"),
    );
  } else {
    tools.append(button(t.check_in, () => act("meetings.room.check_in", { since: roomTime("room-at") }), "button small-action"));
  }
  for (const b of tools.querySelectorAll("button")) b.setAttribute("aria-label", `${b.textContent} ${user.name}`);
  return tools;
}

function renderPerson({ user, row, participant }) {
  const li = el("li", "person");
  li.dataset.user = user.id;
  const connected = participant ? participant.connected : row && row.connected;
  li.dataset.connected = String(Boolean(connected));
  const status = row ? row.status : "guest";
  li.dataset.status = status;
  const dot = el("span", "presence-dot");
  dot.title = connected ? t.online_now : t.offline_now;
  dot.setAttribute("role", "img"); // a labelled dot: a span needs a role to carry aria-label
  dot.setAttribute("aria-label", dot.title);
  const name = el("span", "person-name", user.name);
  if (isMe(user)) name.append(" ", el("span", "muted small", t.you));
  const badges = el("span", "person-badges");
  badges.append(el("span", `tag att-${status}`, attendanceLabel(row)));
  if (row && row.in_room) badges.append(el("span", "tag tag-room", t.in_room));
  if (participant && participant.hand_raised_at) badges.append(el("span", "tag tag-hand", `✋ ${t.hand}`));
  if (participant && participant.has_floor) badges.append(el("span", "tag tag-floor", `🎤 ${t.floor}`));
  if (participant && participant.muted) badges.append(el("span", "tag tag-muted", `🔇 ${t.muted}`));
  li.append(dot, name, badges);
  if (row && mayKeepRoll()) li.append(roomTools(user, row));
  if (state.you.host && participant && !isMe(user) && RUNNING.includes(state.meeting.status)) {
    const tools = el("span", "person-tools");
    if (state.meeting.status === "live") {
      tools.append(button(t.give_floor, () => control("meetings.floor.give", meetingArgs({ user: user.id })).catch(quiet)));
    }
    tools.append(
      button(participant.muted ? t.unmute : t.mute, () =>
        control("meetings.mute", meetingArgs({ user: user.id, muted: !participant.muted })).catch(quiet),
      ),
      button(
        t.remove,
        () => {
          if (window.confirm(interpolate(t.confirm_remove, { name: user.name }))) {
            control("meetings.remove", meetingArgs({ user: user.id })).catch(quiet);
          }
        },
        "button button-danger small-action",
      ),
    );
    li.append(tools);
  } else if (state.you.moderator && participant && !isMe(user) && RUNNING.includes(state.meeting.status)) {
    // Forum moderators of the branch may mute (and hide chat), nothing else.
    const tools = el("span", "person-tools");
    tools.append(
      button(participant.muted ? t.unmute : t.mute, () =>
        control("meetings.mute", meetingArgs({ user: user.id, muted: !participant.muted }), { where: pageError }).catch(quiet),
      ),
    );
    li.append(tools);
  }
  return li;
}

function renderLobby() {
  const list = $("lobby");
  if (!list) return;
  const waiting = [...state.participants.values()].filter((p) => p.state === "waiting");
  if (!waiting.length) {
    list.replaceChildren(el("li", "empty muted", t.nobody_waiting));
    return;
  }
  list.replaceChildren(
    ...waiting.map((p) => {
      const li = el("li", "person");
      li.dataset.user = p.user.id;
      li.append(el("span", "person-name", p.user.name));
      const tools = el("span", "person-tools");
      tools.append(
        button(t.admit, () => control("meetings.lobby.decide", meetingArgs({ user: p.user.id, admit: true })).catch(quiet), "button button-primary small-action"),
        button(t.deny, () => control("meetings.lobby.decide", meetingArgs({ user: p.user.id, admit: false })).catch(quiet)),
      );
      li.append(tools);
      return li;
    }),
  );
}

function renderHands() {
  const list = $("hands");
  if (!state.hands.length) {
    list.replaceChildren(el("li", "empty muted", t.no_hands));
    return;
  }
  list.replaceChildren(
    ...state.hands.map((user) => {
      const li = el("li", "person");
      li.dataset.user = user.id;
      li.append(el("span", "person-name", `✋ ${user.name}`));
      if (state.you.host && state.meeting.status === "live") {
        const tools = el("span", "person-tools");
        tools.append(
          button(t.give_floor, () => control("meetings.floor.give", meetingArgs({ user: user.id })).catch(quiet), "button button-primary small-action"),
          button(t.lower_hand, () => control("meetings.hand.lower", meetingArgs({ user: user.id })).catch(quiet)),
        );
        li.append(tools);
      }
      return li;
    }),
  );
}

function optionLabel(vote, option) {
  if (option.candidate) return option.candidate.name;
  return t.choices[option.key] || option.label;
}

function renderVotes() {
  const box = $("votes");
  const votes = [...state.votes.values()].sort((a, b) => a.id - b.id);
  if (!votes.length) {
    box.replaceChildren(el("p", "empty muted", t.no_votes));
    return;
  }
  // A redraw (someone else's ballot) keeps the chair's place in the ballot box's count,
  // and a voter's on their ballot.
  const active = document.activeElement && document.activeElement.id;
  const focused = active && /^(paper|ballot|entry)-/.test(active) ? active : null;
  box.replaceChildren(...votes.map(renderVote));
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

function renderVote(vote) {
  const card = el("article", `vote vote-${vote.status}`);
  card.dataset.id = vote.id;
  card.dataset.status = vote.status;
  const head = el("h3", "vote-title", vote.title);
  card.append(head);
  const meta = el("p", "vote-meta small");
  meta.append(
    el("span", "tag", t.vote_kind[vote.kind] || vote.kind),
    " ",
    el("span", "tag", vote.secret ? t.secret : t.open_ballot),
    " ",
    el("span", `tag vote-status-${vote.status}`, t.vote_status[vote.status] || vote.status),
  );
  card.append(meta);
  const progress = el("p", "vote-progress small");
  // A draft has no frozen number yet: show the room's current one.
  const of = vote.voting_expected ?? (state.quorum ? state.quorum.voting_expected : "");
  progress.textContent = interpolate(t.cast_line, { cast: vote.cast, of });
  if (vote.written) progress.append(" ", interpolate(t.written_line, { written: vote.written }));
  if (vote.hands) progress.append(" ", interpolate(t.hands_line, { hands: vote.hands }));
  const paper = vote.paper;
  if (paper && paper.issued && vote.status !== "closed") {
    progress.append(" ", paper.counted ? interpolate(t.paper_counted_line, paper) : interpolate(t.paper_line, paper));
  }
  card.append(progress);

  if (vote.status === "open") card.append(renderBallot(vote));
  if (vote.status === "closed" && vote.result) card.append(renderResult(vote));

  if (state.you.host) {
    const tools = el("div", "vote-tools");
    if (vote.status === "draft" && state.meeting.status === "live") {
      tools.append(
        button(t.open_vote, () => {
          // A refusal (quorum not met) is shown on the vote itself, with the numbers.
          state.voteErrors.delete(vote.id);
          conn.write("meetings.vote.open", { vote: vote.id }).catch((error) => {
            state.voteErrors.set(vote.id, `${t.action_failed} ${explain(error)}`);
            renderVotes();
          });
        }, "button button-primary small-action"),
      );
    }
    if (vote.secret && vote.status !== "closed") {
      const print = el("a", "button small-action", t.print_ballots);
      print.href = `/meetings/votes/${vote.id}/ballots/`;
      tools.append(print);
    }
    if (vote.status === "open") {
      tools.append(button(t.close_vote, () => control("meetings.vote.close", { vote: vote.id }).catch(quiet), "button button-primary small-action"));
    }
    card.append(tools);
    // Motions only: an election is secret, and voted at the meeting, never by someone absent.
    if (vote.status === "draft" && state.you.secretary && vote.kind === "motion") card.append(renderWrittenForm(vote));
    if (vote.status === "open" && !vote.secret && vote.kind === "motion") card.append(renderHandsForm(vote));
    if (vote.status === "open" && vote.secret && (vote.paper || someoneInTheRoom())) card.append(renderPaperPanel(vote));
  }
  const error = state.voteErrors.get(vote.id);
  if (error) {
    const p = el("p", "alert alert-error vote-error", error);
    p.setAttribute("role", "alert");
    card.append(p);
  }
  return card;
}

function renderBallot(vote) {
  const box = el("div", "ballot");
  if (!state.you.voting) {
    box.append(el("p", "muted small", t.not_voting));
    return box;
  }
  if (vote.paper && vote.paper.to.some(isMe)) {
    box.append(el("p", "voted paper-mine", `✉ ${t.paper_mine}`));
    return box;
  }
  if (state.myVotes.has(vote.id)) {
    box.append(el("p", "voted", `✔ ${t.you_voted}`));
    return box;
  }
  if (state.mode !== "in") return box;
  const error = el("p", "alert alert-error", "");
  error.hidden = true;
  error.setAttribute("role", "alert");
  const cast = async (args, buttons) => {
    for (const b of buttons) b.disabled = true;
    try {
      await conn.request("meetings.vote.cast", { vote: vote.id, ...args });
      state.myVotes.add(vote.id);
      state.ballotPicks.delete(vote.id);
      renderVotes();
    } catch (err) {
      if (err.code === "conflict") state.myVotes.add(vote.id); // already voted (a retry)
      showError(error, `${t.action_failed} ${explain(err)}`);
      for (const b of buttons) b.disabled = false;
    }
  };
  if (vote.kind === "motion") {
    const row = el("div", "ballot-choices");
    const buttons = vote.options.map((option) => {
      const b = button(optionLabel(vote, option), () => cast({ choice: option.key }, buttons), `button ballot-${option.key}`);
      b.dataset.choice = option.key;
      return b;
    });
    row.append(...buttons);
    box.append(row);
  } else {
    // Another member's ballot redraws the list: what this member has ticked stays.
    const picked = state.ballotPicks.get(vote.id) || new Set();
    state.ballotPicks.set(vote.id, picked);
    const fieldset = candidatePicks(vote, `ballot-${vote.id}`, picked);
    const submit = button(t.submit_ballot, () => {
      const picked = [...fieldset.querySelectorAll("input:checked")].map((i) => i.value);
      cast({ candidates: picked }, [submit]);
    }, "button button-primary");
    box.append(fieldset, submit);
  }
  box.append(error);
  return box;
}

/** An election's names to tick, up to its seats: the candidates, then any other full
 * member folded away under 另选他人 (the seats limit counts them too), then abstaining.
 * `picked` is kept by the caller through redraws; `key` names the inputs and the folded
 * list ("ballot-<vote id>"). */
function candidatePicks(vote, key, picked) {
  const fieldset = el("fieldset", "ballot-candidates");
  fieldset.append(el("legend", "", interpolate(t.choose_up_to, { seats: vote.seats })));
  const pick = (option, parent) => {
    const label = el("label", "checkbox");
    const input = el("input");
    input.type = "checkbox";
    input.id = `${key}-${option.key}`;
    input.value = option.key;
    input.checked = picked.has(option.key);
    input.addEventListener("change", () => (input.checked ? picked.add(option.key) : picked.delete(option.key)));
    label.append(input, " ", optionLabel(vote, option));
    if (option.write_in) label.dataset.name = optionLabel(vote, option).toLowerCase();
    parent.append(label);
  };
  for (const option of vote.options) if (!option.write_in && option.key !== "abstain") pick(option, fieldset);
  const others = vote.options.filter((option) => option.write_in);
  if (others.length) {
    const more = el("details", "ballot-write-in");
    keepOpen(more, key, others.some((option) => picked.has(option.key)));
    more.append(el("summary", "", t.write_in));
    for (const option of others) pick(option, more);
    findIn(more, key, others.length);
    fieldset.append(more);
  }
  for (const option of vote.options) if (option.key === "abstain") pick(option, fieldset);
  return fieldset;
}

/** After an election that did not fill its seats, the chair's way on: a vote again
 * between those tied at the last seat (再次投票), an election for the seats left
 * (另行选举: those not elected who were named, most votes first), or the whole vote
 * again when it was void. It fills in the form to prepare a vote, for the chair to
 * check; null when nothing is left to elect or the meeting is not under way. */
function voteAgain(vote) {
  const r = vote.result || {};
  if (!state.you.host || vote.kind !== "election" || state.meeting.status !== "live" || !$("vote-form")) return null;
  const counts = r.counts || {};
  const elected = new Set(r.elected || []);
  const named = vote.options.filter((o) => o.candidate && !elected.has(o.key));
  let picked;
  let seats = vote.seats - elected.size;
  let label;
  let title;
  if (r.void) {
    picked = vote.options.filter((o) => o.candidate && !o.write_in);
    seats = vote.seats;
    [label, title] = [t.again_void, t.again_void_title];
  } else if (seats <= 0) {
    return null;
  } else if (r.tie) {
    const tied = new Set(r.tied || []); // named by the server, which applied the majority rule
    picked = named.filter((o) => tied.has(o.key));
    [label, title] = [t.again_tie, t.again_tie_title];
  } else {
    picked = named.filter((o) => !o.write_in || counts[o.key]).sort((a, b) => (counts[b.key] || 0) - (counts[a.key] || 0));
    [label, title] = [interpolate(t.again_more, { n: seats }), t.again_more_title];
  }
  const ids = new Set(picked.map((o) => o.candidate.id));
  return button(label, () => {
    const details = $("vote-create-details");
    details.open = true;
    $("vote-kind").value = "election";
    $("vote-kind").dispatchEvent(new Event("change"));
    $("vote-title").value = interpolate(title, { title: vote.title });
    for (const input of $("vote-candidates").querySelectorAll("input")) input.checked = ids.has(Number(input.value));
    state.candidateOrder = [...ids]; // in the order above: those tied, or the most votes first
    showCandidateOrder();
    $("vote-seats").value = String(Math.max(1, Math.min(seats, ids.size || 1)));
    const item = $("vote-agenda-item");
    if (vote.agenda_item && [...item.options].some((o) => o.value === String(vote.agenda_item))) {
      item.value = String(vote.agenda_item);
      item.dataset.touched = "1";
    }
    $("vote-candidates").dispatchEvent(new Event("change"));
    $("vote-form-status").textContent = t.again_ready;
    $("vote-title").focus();
  }, "button small-action vote-again");
}

/** The candidates ticked in the form to prepare an election, in the order they were
 * ticked (state.candidateOrder); any ticked some other way come last, in the form's order. */
function pickedCandidates() {
  const ticked = [...$("vote-candidates").querySelectorAll("input:checked")].map((input) => Number(input.value));
  return [...state.candidateOrder.filter((id) => ticked.includes(id)), ...ticked.filter((id) => !state.candidateOrder.includes(id))];
}

function showCandidateOrder() {
  const order = pickedCandidates();
  for (const input of $("vote-candidates").querySelectorAll("input")) {
    const place = order.indexOf(Number(input.value));
    input.parentElement.querySelector(".pick-rank").textContent = place < 0 ? "" : String(place + 1);
  }
}

const FIND_FROM = 8; // a 另选他人 list this long gets a field to find a name in

/** A field that shows only the entries of `details` whose name contains what is typed;
 * what was typed stays through redraws (`key`). Only for a long list. */
function findIn(details, key, count) {
  if (count < FIND_FROM) return;
  const id = `find-${key}`;
  const label = el("label", "small", t.write_in_find);
  label.htmlFor = id;
  const input = el("input");
  input.type = "search";
  input.id = id;
  input.autocomplete = "off";
  input.value = state.othersFind.get(key) || "";
  const apply = () => {
    const text = input.value.trim().toLowerCase();
    state.othersFind.set(key, input.value);
    for (const entry of details.querySelectorAll("[data-name]")) entry.hidden = Boolean(text) && !entry.dataset.name.includes(text);
  };
  input.addEventListener("input", apply);
  const row = el("div", "write-in-find");
  row.append(label, input);
  details.querySelector("summary").after(row);
  apply();
}

/** A folded list that stays as the person left it (open or shut) through redraws; open
 * anyway when `filled` (something in it is ticked or typed). */
function keepOpen(details, key, filled) {
  details.open = filled || state.othersOpen.has(key);
  details.addEventListener("toggle", () => (details.open ? state.othersOpen.add(key) : state.othersOpen.delete(key)));
}

function renderResult(vote) {
  const box = el("div", "vote-result");
  const r = vote.result;
  const list = el("ul", "result-counts");
  for (const option of vote.options) {
    const count = (r.counts || {})[option.key] || 0;
    if (option.write_in && !count) continue; // those written in only when someone did
    const li = el("li", option.write_in ? "written-in" : "");
    li.dataset.key = option.key;
    const name = option.write_in ? interpolate(t.written_in, { name: optionLabel(vote, option) }) : optionLabel(vote, option);
    li.append(el("span", "", name), " ", el("strong", "", String(count)));
    list.append(li);
  }
  box.append(list);
  let verdict;
  if (vote.kind === "motion") {
    verdict = el("p", `verdict ${vote.passed ? "passed" : "failed"}`, vote.passed ? t.passed : t.not_passed);
  } else {
    const names = (r.elected || []).map((key) => optionLabel(vote, vote.options.find((o) => o.key === key) || { key, label: key }));
    verdict = el("p", "verdict", names.length ? interpolate(t.elected, { names: listNames(names) }) : t.nobody_elected);
  }
  if (r.void) verdict = el("p", "verdict failed void", t.void);
  box.append(verdict);
  box.append(
    el(
      "p",
      "muted small",
      `${interpolate(t.ballots, { ballots: r.ballots })} · ${r.quorum_met ? t.quorum_held : t.quorum_not_held}`,
    ),
  );
  if (r.voters_present) box.append(el("p", "muted small elected-of", interpolate(t.elected_of, { n: r.voters_present })));
  const again = voteAgain(vote);
  if (again) box.append(again);
  if (r.paper) box.append(el("p", "muted small paper-result", interpolate(t.paper_result, r.paper)));
  if (r.paper && r.paper.scrutineers && r.paper.scrutineers.length) {
    box.append(el("p", "muted small", interpolate(t.scrutineers_line, { names: listNames(r.paper.scrutineers.map((p) => p.name)) })));
  }
  return box;
}

/** A form through which the secretary or the chair enters someone else's vote: a
 * written opinion (书面意见, absent members, before the vote opens) or a hand raised in the
 * room (举手表决, an open vote under way). Motions only: an election is secret and voted at
 * the meeting. Other members' ballots redraw the vote while the chair fills it in: who was
 * chosen, the choice and the last outcome stay (state.entryDrafts); members this page has
 * entered are not offered again. Hidden when nobody may be picked. */
function renderEntryForm(vote, { css, legend, whoLabel, choiceLabel, submitLabel, people, op, saved }) {
  const key = `entry-${css}-${vote.id}`;
  if (!state.entryDrafts.has(key)) state.entryDrafts.set(key, { who: "", choice: "", entered: new Set(), status: "", error: "" });
  const draft = state.entryDrafts.get(key);
  const form = el("form", `${css} stack`);
  form.noValidate = true;
  const who = el("select", "");
  who.id = `${key}-who`;
  who.setAttribute("aria-label", whoLabel);
  // Nobody is chosen until the chair chooses: a redraw never moves the entry to someone else.
  const none = el("option", "", t.entry_pick_member);
  none.value = "";
  who.append(none);
  for (const row of people) {
    if (draft.entered.has(row.user.id)) continue;
    const opt = el("option", "", row.user.name);
    opt.value = row.user.id;
    who.append(opt);
  }
  who.value = [...who.options].some((opt) => opt.value === draft.who) ? draft.who : "";
  who.addEventListener("change", () => (draft.who = who.value));
  const choice = el("select", "");
  choice.id = `${key}-choice`;
  choice.setAttribute("aria-label", choiceLabel);
  const unset = el("option", "", t.entry_pick_choice);
  unset.value = "";
  choice.append(unset);
  for (const option of vote.options) {
    const opt = el("option", "", optionLabel(vote, option));
    opt.value = option.key;
    choice.append(opt);
  }
  choice.value = draft.choice;
  choice.addEventListener("change", () => (draft.choice = choice.value));
  const submit = el("button", "button small-action", submitLabel);
  submit.type = "submit";
  const status = el("span", "form-status small", draft.status);
  status.setAttribute("role", "status");
  const error = el("p", "alert alert-error", draft.error);
  error.hidden = !draft.error;
  form.append(el("p", "small", legend), who, choice, submit, status, error);
  form.addEventListener("change", () => {
    draft.error = ""; // the chair is correcting it
    showError(error, "");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const refuse = (text) => {
      draft.error = text;
      showError(error, text);
    };
    if (!who.value) return refuse(t.entry_no_member);
    if (!choice.value) return refuse(t.entry_no_choice);
    const user = Number(who.value);
    const name = who.selectedOptions[0].textContent;
    const args = { vote: vote.id, user, choice: choice.value };
    submit.disabled = true;
    draft.status = "";
    try {
      await control(op, args, { where: error });
      Object.assign(draft, { who: "", choice: "", status: interpolate(saved, { name }), error: "" });
      draft.entered.add(user);
      renderVotes();
    } catch {
      draft.error = error.textContent; // shown in the form, and kept through redraws
    } finally {
      submit.disabled = false;
    }
  });
  if (who.options.length === 1) form.hidden = true; // only the prompt: nobody to enter
  return form;
}

function renderWrittenForm(vote) {
  // Absent voting members: present ones (online or in the room) vote in person.
  const people = [...state.rows.values()].filter((row) => row.voting && !row.connected && !row.in_room);
  return renderEntryForm(vote, {
    css: "written-form", legend: t.enter_written, whoLabel: t.written_opinion, choiceLabel: t.written_opinion,
    submitLabel: t.written_opinion, people, op: "meetings.vote.written_opinion", saved: t.written_saved,
  });
}

function renderHandsForm(vote) {
  const people = [...state.rows.values()].filter((row) => row.voting && row.in_room);
  return renderEntryForm(vote, {
    css: "hands-form", legend: t.enter_hands, whoLabel: t.hands_who, choiceLabel: t.hands_choice,
    submitLabel: t.hands_submit, people, op: "meetings.vote.hands", saved: t.hands_saved,
  });
}

/** 纸质选票, the chair's part at a secret ballot under way: hand paper ballots to voting
 * members checked in in the room, take back one handed out by mistake, and enter the
 * count of the box (again, as a recount, until the vote closes). What is typed into the
 * count survives the redraws that other members' ballots cause (state.paperDrafts). */
/** A write of the paper panel; a refusal is kept in state.paperErrors, so that the
 * redraws other members' ballots cause do not wipe it before the chair has read it. */
async function paperWrite(vote, op, args) {
  try {
    const reply = await conn.write(op, args);
    state.paperErrors.delete(vote.id);
    renderVotes();
    return reply;
  } catch (error) {
    paperRefused(vote, `${t.action_failed} ${explain(error)}`);
    throw error;
  }
}

function paperRefused(vote, message) {
  state.paperErrors.set(vote.id, message);
  renderVotes();
}

function renderPaperPanel(vote) {
  const paper = vote.paper || { issued: 0, to: [], counted: false };
  const box = el("section", "paper-ballots stack");
  box.dataset.vote = vote.id;
  box.append(el("h4", "", t.paper_heading), el("p", "muted small", t.paper_intro));
  const error = el("p", "alert alert-error", state.paperErrors.get(vote.id) || "");
  error.hidden = !state.paperErrors.has(vote.id);
  error.setAttribute("role", "alert");
  const holding = new Set(paper.to.map((p) => p.id));

  const free = [...state.rows.values()].filter((row) => row.voting && row.in_room && !holding.has(row.user.id));
  if (!paper.counted && free.length) {
    const form = el("form", "paper-issue stack");
    form.noValidate = true;
    const list = el("fieldset", "paper-whom");
    list.append(el("legend", "small", t.paper_whom));
    for (const row of free) {
      const label = el("label", "checkbox");
      const input = el("input");
      input.type = "checkbox";
      input.value = row.user.id;
      input.checked = true;
      label.append(input, " ", row.user.name);
      list.append(label);
    }
    const submit = el("button", "button small-action", t.paper_issue);
    submit.type = "submit";
    form.append(list, submit);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const users = [...list.querySelectorAll("input:checked")].map((i) => Number(i.value));
      if (!users.length) return;
      submit.disabled = true;
      try {
        const reply = await paperWrite(vote, "meetings.vote.paper_issue", { vote: vote.id, users });
        const skipped = (reply && reply.skipped) || [];
        if (skipped.length) state.paperNotes.set(vote.id, interpolate(t.paper_skipped, { names: listNames(skipped.map((p) => p.name)) }));
        else state.paperNotes.delete(vote.id);
        renderVotes();
      } catch {
        // shown under the panel
      } finally {
        submit.disabled = false;
      }
    });
    box.append(form);
  }
  const note = state.paperNotes.get(vote.id);
  if (note) {
    const p = el("p", "small paper-skipped", note);
    p.setAttribute("role", "status");
    box.append(p);
  }

  if (paper.issued) {
    box.append(el("p", "small", interpolate(t.paper_holders, { n: paper.issued })));
    if (paper.issued === 1 && !paper.counted) {
      // A box with one ballot in it tells whoever counts it what that one says.
      box.append(el("p", "small paper-alone", t.paper_alone));
    }
    const holders = el("ul", "paper-holders");
    for (const person of paper.to) {
      const li = el("li", "", person.name);
      li.dataset.id = person.id;
      if (!paper.counted) {
        li.append(" ", button(t.paper_take_back, () => paperWrite(vote, "meetings.vote.paper_take_back",
          { vote: vote.id, user: person.id }).catch(quiet), "link-button small"));
      }
      holders.append(li);
    }
    box.append(holders);
    if (paper.counted) {
      // Entered: a recount stays folded away unless one is being typed.
      box.append(el("p", "paper-counted", interpolate(t.paper_counted, paper)));
      if (paper.scrutineers && paper.scrutineers.length) {
        box.append(el("p", "small", interpolate(t.scrutineers_line, { names: listNames(paper.scrutineers.map((p) => p.name)) })));
      }
      const recount = el("details", "paper-recount");
      recount.open = state.paperDrafts.has(vote.id);
      recount.append(el("summary", "", t.paper_recount), renderPaperCount(vote, paper));
      box.append(recount);
    } else {
      box.append(renderPaperCount(vote, paper));
    }
  }
  box.append(error);
  return box;
}

function renderPaperCount(vote, paper) {
  const draft = state.paperDrafts.get(vote.id) || {};
  const form = el("form", "paper-count stack");
  form.noValidate = true;
  const fieldset = el("fieldset", "");
  fieldset.append(el("legend", "", t.paper_count_legend));
  const number = (name, labelText, parent = fieldset) => {
    const id = `paper-${vote.id}-${name}`;
    const label = el("label", "paper-number", labelText);
    label.htmlFor = id;
    const input = el("input");
    input.type = "number";
    input.min = "0";
    input.step = "1";
    input.inputMode = "numeric";
    input.id = id;
    input.name = name;
    input.value = draft[name] ?? "";
    input.addEventListener("input", () => {
      state.paperDrafts.set(vote.id, { ...(state.paperDrafts.get(vote.id) || {}), [name]: input.value });
      savePaperDrafts();
    });
    parent.append(label, input);
    return input;
  };
  const returned = number("returned", t.paper_returned);
  const invalid = number("invalid", t.paper_invalid);
  fieldset.append(el("p", "small", t.paper_valid_choices));
  const counted = (option, parent) => [option.key, number(`count-${option.key}`, optionLabel(vote, option), parent)];
  const counts = vote.options.filter((o) => !o.write_in && o.key !== "abstain").map((o) => counted(o));
  // 另选他人: the names written on ballots, folded away unless a draft has some.
  const others = vote.options.filter((o) => o.write_in);
  if (others.length) {
    const more = el("details", "paper-write-in");
    keepOpen(more, `paper-${vote.id}`, others.some((o) => (draft[`count-${o.key}`] ?? "") !== ""));
    more.append(el("summary", "", t.write_in));
    fieldset.append(more);
    for (const option of others) {
      const entry = el("span", "paper-write-in-entry");
      entry.dataset.name = optionLabel(vote, option).toLowerCase();
      more.append(entry);
      counts.push(counted(option, entry));
    }
    findIn(more, `paper-${vote.id}`, others.length);
  }
  counts.push(...vote.options.filter((o) => o.key === "abstain").map((o) => counted(o)));
  // 监票人: voting members at the meeting who are not candidates.
  const candidates = new Set(vote.options.filter((o) => o.candidate && !o.write_in).map((o) => o.candidate.id));
  const watchers = el("fieldset", "paper-scrutineers");
  watchers.append(el("legend", "small", t.paper_scrutineers));
  const chosen = new Set(draft.scrutineers || (paper.scrutineers || []).map((p) => String(p.id)));
  for (const row of state.rows.values()) {
    if (!row.voting || candidates.has(row.user.id)) continue;
    const label = el("label", "checkbox");
    const input = el("input");
    input.type = "checkbox";
    input.value = row.user.id;
    input.checked = chosen.has(String(row.user.id));
    input.addEventListener("change", () => {
      const picked = [...watchers.querySelectorAll("input:checked")].map((i) => i.value);
      state.paperDrafts.set(vote.id, { ...(state.paperDrafts.get(vote.id) || {}), scrutineers: picked });
      savePaperDrafts();
    });
    label.append(input, " ", row.user.name);
    watchers.append(label);
  }
  const submit = el("button", "button small-action", paper.counted ? t.paper_recount : t.paper_count_submit);
  submit.type = "submit";
  form.append(fieldset, watchers, el("p", "muted small", t.paper_void_note), submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const whole = (input) => (input.value.trim() === "" ? 0 : Number(input.value));
    const args = { vote: vote.id, returned: whole(returned), invalid: whole(invalid), counts: {} };
    for (const [key, input] of counts) args.counts[key] = whole(input);
    args.scrutineers = [...watchers.querySelectorAll("input:checked")].map((i) => Number(i.value));
    if (![args.returned, args.invalid, ...Object.values(args.counts)].every((n) => Number.isInteger(n) && n >= 0)) {
      paperRefused(vote, `${t.action_failed} ${t.paper_whole_numbers}`);
      return;
    }
    submit.disabled = true;
    try {
      await paperWrite(vote, "meetings.vote.paper_count", args);
      state.paperDrafts.delete(vote.id);
      savePaperDrafts();
    } catch {
      // shown under the panel
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function renderChatMessage(message) {
  const li = el("li", `chat-message chat-${message.status}`);
  li.dataset.id = message.id;
  const head = el("p", "chat-head small");
  head.append(el("strong", "", message.author.name), " ", timeEl(message.created_at));
  if (message.status === "pending") head.append(" ", el("span", "tag tag-status-pending", t.pending));
  li.append(head, el("p", "chat-body", message.body));
  if (state.you.host || state.you.moderator) {
    li.append(button(t.hide, () => control("meetings.chat.hide", meetingArgs({ message: message.id }), { where: pageError }).catch(quiet), "link-button small"));
  }
  return li;
}

function renderChat() {
  const list = $("chat-list");
  if (!state.chat.length) {
    list.replaceChildren(el("li", "empty muted", t.no_chat));
    return;
  }
  list.replaceChildren(...state.chat.map(renderChatMessage));
  list.scrollTop = list.scrollHeight;
}

function addChat(message) {
  const i = state.chat.findIndex((m) => m.id === message.id);
  if (i >= 0) {
    state.chat[i] = message;
    renderChat();
    return;
  }
  state.chat.push(message);
  // Append only the new message, so a screen reader hears just that one.
  const list = $("chat-list");
  list.querySelector(".empty")?.remove();
  list.append(renderChatMessage(message));
  list.scrollTop = list.scrollHeight;
}

function renderRemarks() {
  const list = $("remarks");
  if (!list) return;
  const items = new Map(state.agenda.map((a) => [a.id, a]));
  list.replaceChildren(
    ...state.remarks.map((r) => {
      const li = el("li", "remark");
      const item = items.get(r.agenda_item);
      li.append(el("span", "muted small", `${formatTime(r.created_at)}${item ? ` · ${item.title}` : ""} · ${nameOf(r.author)}`), el("div", "", r.text));
      return li;
    }),
  );
}

function renderAll() {
  renderHeader();
  renderStatus();
  renderQuorum();
  renderAgenda();
  renderPeople();
  renderVotes();
  renderChat();
  renderRemarks();
}

// -- state changes ---------------------------------------------------------------------------

function applySnapshot(snap) {
  state.meeting = snap.meeting;
  state.agenda = snap.agenda;
  state.you = { ...state.you, ...snap.you };
  state.participants = new Map(snap.participants.map((p) => [p.user.id, p]));
  state.rows = new Map(snap.attendance.rows.map((r) => [r.user.id, r]));
  state.counts = snap.attendance.counts;
  state.quorum = snap.attendance.quorum;
  state.hands = snap.hands;
  state.votes = new Map(snap.votes.map((v) => [v.id, v]));
  state.myVotes = new Set(snap.my_votes || []);
  state.chat = snap.chat;
  state.remarks = snap.remarks;
  renderAll();
}

function setSummary(data) {
  if (data.counts) state.counts = data.counts;
  if (data.quorum) state.quorum = data.quorum;
  renderQuorum();
}

let refreshTimer = null;
/** Hosts and the minute-taker (and everyone once it has ended) may read the exact rows. */
function refreshAttendance() {
  const allowed = state.you.host || state.you.minute_taker || state.meeting.status === "ended";
  if (!allowed) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    try {
      const report = await conn.request("meetings.attendance", meetingArgs());
      state.rows = new Map(report.rows.map((r) => [r.user.id, r]));
      state.counts = report.counts;
      state.quorum = report.quorum;
      renderQuorum();
      renderPeople();
      renderVotes();
    } catch {
      // the approximate rows stay
    }
  }, 400);
}

/** 现场签到: someone checked in or out of the room. Their online state is untouched;
 * the rows come back from the server (hosts), or the counts alone move (others). */
function roomChanged(data, inRoom) {
  if (data.after_end) inRoom = false; // 补登: nobody is in the room of a meeting that has ended
  const row = state.rows.get(data.user.id);
  if (row) {
    row.in_room = inRoom;
    if (inRoom && ["absent", "excused"].includes(row.status)) row.status = "present";
  } else if (inRoom) {
    state.rows.set(data.user.id, { user: data.user, expected: !data.guest, voting: false, status: data.guest ? "guest" : "present", first_join: data.at, connected: false, in_room: true });
  }
  setSummary(data);
  renderPeople();
  renderVotes();
  refreshAttendance();
}

function joined(data) {
  if (data.in_room) return roomChanged(data, true);
  const id = data.user.id;
  const p = state.participants.get(id) || { user: data.user, state: "admitted", hand_raised_at: null, muted: false, has_floor: false };
  p.connected = true;
  if (p.state !== "admitted") p.state = "admitted";
  state.participants.set(id, p);
  const row = state.rows.get(id);
  if (row) {
    row.connected = true;
    if (!row.first_join) {
      row.first_join = data.at;
      const start = new Date(state.meeting.started_at || state.meeting.starts_at).getTime();
      const late = new Date(data.at).getTime() > start + state.meeting.late_grace_minutes * 60000;
      if (["absent", "excused"].includes(row.status)) row.status = late && state.meeting.status === "live" ? "late" : "present";
    }
  } else {
    state.rows.set(id, { user: data.user, expected: !data.guest, voting: false, status: data.guest ? "guest" : "present", first_join: data.at, connected: true });
  }
  setSummary(data);
  renderPeople();
  refreshAttendance();
}

function left(data) {
  if (data.in_room) return roomChanged(data, false);
  const p = state.participants.get(data.user.id);
  if (p) p.connected = false;
  const row = state.rows.get(data.user.id);
  if (row) row.connected = false;
  setSummary(data);
  renderPeople();
  renderVotes();
  refreshAttendance();
}

function setQueue(queue) {
  state.hands = queue || [];
  const raised = new Set(state.hands.map((u) => u.id));
  for (const p of state.participants.values()) {
    if (!raised.has(p.user.id)) p.hand_raised_at = null;
    else if (!p.hand_raised_at) p.hand_raised_at = new Date().toISOString();
  }
}

function onEvent(frame) {
  const d = frame.data || {};
  switch (frame.type) {
    case "meeting.updated":
      state.meeting = d.meeting;
      renderHeader();
      fillEditForm();
      renderStatus();
      break;
    case "meeting.opened":
    case "meeting.cancelled":
      state.meeting = d.meeting;
      renderHeader();
      renderStatus();
      refreshLeave();
      break;
    case "meeting.started":
      state.meeting = d.meeting;
      setSummary(d.attendance || {});
      announce(t.started_live);
      refreshLeave(); // leave requests close when the meeting starts
      if (state.mode !== "in" && state.mode !== "waiting") join();
      renderAll();
      break;
    case "meeting.ended":
      state.meeting = d.meeting;
      renderHeader();
      setSummary(d.attendance || {});
      state.hands = [];
      for (const p of state.participants.values()) {
        p.connected = false;
        p.hand_raised_at = null;
        p.has_floor = false;
      }
      announce(t.ended_live);
      renderAll();
      refreshAttendance();
      break;
    case "meeting.locked":
      state.meeting.locked = d.locked;
      renderStatus();
      break;
    case "agenda.updated":
      state.agenda = d.agenda;
      // `current` is the current item's id (null when it was removed).
      state.meeting.current_item = d.current && typeof d.current === "object" ? d.current.id : d.current || null;
      renderAgenda();
      renderConsole();
      break;
    case "agenda.advanced":
      state.meeting.current_item = d.current ? d.current.id : null;
      for (const item of state.agenda) {
        if (d.current && item.id === d.current.id) Object.assign(item, d.current);
        if (d.previous && item.id === d.previous.id) Object.assign(item, d.previous);
      }
      renderAgenda();
      renderStatus();
      break;
    case "attendance.joined":
      joined(d);
      break;
    case "attendance.left":
      left(d);
      break;
    case "lobby.waiting":
      if (state.you.host) {
        state.participants.set(d.user.id, { user: d.user, state: "waiting", hand_raised_at: null, muted: false, has_floor: false, connected: false });
        renderLobby();
      }
      break;
    case "lobby.admitted": {
      const p = state.participants.get(d.user.id) || { user: d.user, hand_raised_at: null, muted: false, has_floor: false, connected: false };
      p.state = "admitted";
      state.participants.set(d.user.id, p);
      renderPeople();
      break;
    }
    case "lobby.denied":
      state.participants.delete(d.user.id);
      renderPeople();
      break;
    case "participant.removed":
      state.participants.delete(d.user.id);
      state.hands = state.hands.filter((u) => u.id !== d.user.id);
      if (isMe(d.user)) removed();
      renderPeople();
      break;
    case "mute.requested":
      if (d.user) {
        const p = state.participants.get(d.user.id);
        if (p) p.muted = d.muted;
      } else {
        state.meeting.all_muted = d.muted;
        // Everyone but the hosts; the chair is the host every page knows.
        const chairId = state.meeting.chair ? state.meeting.chair.id : null;
        for (const p of state.participants.values()) if (p.user.id !== chairId) p.muted = d.muted;
      }
      renderPeople();
      renderStatus();
      break;
    case "hand.raised":
      setQueue(d.queue);
      if (state.you.host && !isMe(d.user)) announce(interpolate(t.hand_raised_by, { name: d.user.name }));
      renderPeople();
      renderStatus();
      break;
    case "hand.lowered":
      setQueue(d.queue);
      renderPeople();
      renderStatus();
      break;
    case "floor.given":
      setQueue(d.queue);
      for (const p of state.participants.values()) p.has_floor = p.user.id === d.user.id;
      renderPeople();
      renderStatus();
      break;
    case "chat.message":
      addChat(d);
      break;
    case "chat.hidden":
      state.chat = state.chat.filter((m) => m.id !== d.id);
      renderChat();
      break;
    case "remark.added":
      state.remarks.push(d);
      renderRemarks();
      break;
    case "minutes.signed":
    case "minutes.reopened":
      // 记录签字: once final, nothing more is added to the record, nor mended.
      config.minutes_final = d.final;
      if ($("remark-form")) $("remark-form").hidden = d.final;
      if ($("minutes-final")) $("minutes-final").hidden = !d.final;
      renderPeople();
      break;
    case "leave.requested":
    case "leave.decided":
    case "leave.withdrawn":
      refreshLeave();
      break;
    case "exclusion.added":
    case "exclusion.removed":
      setSummary(d);
      refreshLeave();
      refreshAttendance();
      break;
    case "vote.created":
    case "vote.updated":
    case "vote.opened":
    case "vote.closed":
      state.votes.set(d.id, d);
      state.voteErrors.delete(d.id);
      if (frame.type === "vote.opened") announce(interpolate(t.vote_opened_live, { title: d.title }));
      if (frame.type === "vote.closed") {
        announce(interpolate(t.vote_closed_live, { title: d.title }));
        if (state.paperDrafts.delete(d.id)) savePaperDrafts();
      }
      renderVotes();
      break;
    case "vote.progress": {
      const v = state.votes.get(d.vote);
      if (v) {
        v.cast = d.cast;
        if (d.hands !== undefined) v.hands = d.hands; // an open ballot's show of hands
        renderVotes();
      }
      break;
    }
    default:
      break;
  }
}

function onEphemeral(frame) {
  if (frame.op === "unsubscribed" && frame.reason === "removed") {
    removed();
    return;
  }
  if (frame.op === "reaction") {
    const toast = $("reaction-toast");
    toast.textContent = interpolate(t.reaction_by, { name: nameOf(frame.who), emoji: frame.emoji });
    toast.hidden = false;
    clearTimeout(onEphemeral.timer);
    onEphemeral.timer = setTimeout(() => {
      toast.hidden = true;
    }, 4000);
  }
}

function removed() {
  state.mode = "removed";
  if (state.subscription) {
    state.subscription.unsubscribe();
    state.subscription = null;
  }
  renderStatus();
}

// -- joining and following -----------------------------------------------------------------------

function follow() {
  if (state.subscription) return;
  state.subscription = conn.subscribe(config.stream, {
    snapshot: (snap) => {
      if (snap) applySnapshot(snap);
    },
    event: onEvent,
    ephemeral: onEphemeral,
    error: (error) => {
      state.subscription = null;
      showError(pageError, explain(error));
    },
  });
}

async function join() {
  if (["joining", "in", "removed"].includes(state.mode)) return;
  state.mode = "joining";
  renderStatus();
  try {
    const reply = await conn.write("meetings.join", meetingArgs());
    state.meeting = reply.meeting || state.meeting;
    if (reply.state === "admitted") {
      state.mode = "in";
      follow();
    } else {
      state.mode = "waiting";
    }
  } catch (error) {
    state.mode = error.code === "forbidden" ? "denied" : "idle";
    if (error.code !== "forbidden") showError(pageError, explain(error));
  }
  renderStatus();
}

function begin() {
  const s = config.status;
  if (RUNNING.includes(s)) join();
  else if (s === "ended" || s === "cancelled" || state.you.host) follow();
}

// The person's own inbox: the lobby's answer, and "the meeting is open, join now".
conn.subscribe(`inbox:${config.me}`, {
  event(frame) {
    const d = frame.data || {};
    // Meeting events carry the meeting; leave events carry its id.
    const about = d.meeting && typeof d.meeting === "object" ? d.meeting.id : d.meeting;
    const mine = about === config.meeting;
    if (!mine) return;
    if (frame.type === "meeting.admitted") {
      state.mode = "in";
      follow();
      renderStatus();
    } else if (frame.type === "meeting.denied") {
      state.mode = "denied";
      renderStatus();
    } else if (frame.type === "meeting.opened" && state.mode === "idle") {
      state.meeting = d.meeting;
      join();
    } else if ((frame.type === "meeting.cancelled" || frame.type === "meeting.changed") && !state.subscription) {
      // Followers of the stream learn this from it; others from their inbox.
      state.meeting = d.meeting;
      renderHeader();
      fillEditForm();
      renderStatus();
      refreshLeave();
      if (frame.type === "meeting.changed") refreshDetails();
    } else if (frame.type === "meeting.removed") {
      removed();
    } else if (frame.type === "leave.decided") {
      refreshLeave();
    }
  },
});

// -- the chair console ---------------------------------------------------------------------

if (state.you.host && $("console")) {
  $("btn-open-lobby").addEventListener("click", () => control("meetings.open", meetingArgs()).catch(quiet));
  $("btn-start").addEventListener("click", () => control("meetings.start", meetingArgs()).catch(quiet));
  $("btn-end").addEventListener("click", () => control("meetings.end", meetingArgs()).catch(quiet));
  $("btn-cancel").addEventListener("click", () => {
    const reason = window.prompt(t.cancel_reason);
    if (reason !== null) control("meetings.cancel", meetingArgs({ reason })).catch(quiet);
  });
  $("btn-next-item").addEventListener("click", () => control("meetings.agenda.advance", meetingArgs()).catch(quiet));
  $("btn-lock").addEventListener("click", () =>
    control("meetings.lock", meetingArgs({ locked: !state.meeting.locked })).catch(quiet),
  );
  $("btn-mute-all").addEventListener("click", () =>
    control("meetings.mute", meetingArgs({ user: null, muted: !state.meeting.all_muted })).catch(quiet),
  );

  const kind = $("vote-kind");
  const candidatesField = $("vote-candidates-field");
  const picks = $("vote-candidates");
  // Full members with their rights (预备党员 cannot be elected); at a committee meeting, its members.
  const electable = new Set(config.candidates);
  for (const member of config.members.filter((m) => electable.has(m.id))) {
    const label = el("label", "checkbox");
    const input = el("input");
    input.type = "checkbox";
    input.value = member.id;
    const rank = el("span", "pick-rank");
    label.append(input, " ", member.name, rank);
    picks.append(label);
  }
  // The ballot lists the candidates in the order they were ticked (the election rules
  // decide it, usually by the strokes of the surname, 姓氏笔画): each shows its place.
  picks.addEventListener("change", (event) => {
    const input = event.target;
    if (input.type !== "checkbox") return;
    const id = Number(input.value);
    state.candidateOrder = state.candidateOrder.filter((other) => other !== id);
    if (input.checked) state.candidateOrder.push(id);
    showCandidateOrder();
  });
  // 选举一律采用无记名投票: an election is always secret; a motion may be either.
  const secret = $("vote-secret");
  let motionSecret = secret.checked;
  kind.addEventListener("change", () => {
    const election = kind.value === "election";
    candidatesField.hidden = !election;
    if (election && !secret.disabled) motionSecret = secret.checked;
    secret.checked = election || motionSecret;
    secret.disabled = election;
    $("vote-secret-help").hidden = !election;
  });
  // 差额选举: how many more candidates than seats, said as they are picked (guidance:
  // committee members are elected with at least a fifth more candidates than seats).
  const margin = () => {
    const n = picks.querySelectorAll("input:checked").length;
    const seats = Number($("vote-seats").value) || 1;
    const least = seats + Math.ceil(seats / 5);
    let text = "";
    if (n && n <= seats) text = interpolate(t.margin_equal, { n, seats });
    else if (n && n < least) text = interpolate(t.margin_short, { n, seats, more: n - seats, least });
    else if (n) text = interpolate(t.margin_ok, { n, seats, more: n - seats });
    $("vote-margin").textContent = text;
  };
  picks.addEventListener("change", margin);
  $("vote-seats").addEventListener("input", margin);
  $("vote-agenda-item").addEventListener("change", (event) => {
    event.target.dataset.touched = "1";
  });
  const field = (input, error) => ({ input: $(input), error: $(error) });
  bindWriteForm($("vote-form"), {
    fields: {
      title: field("vote-title", "vote-title-error"),
      kind: field("vote-kind", "vote-kind-error"),
      agenda_item: field("vote-agenda-item", "vote-agenda-item-error"),
      candidates: field("vote-seats", "vote-candidates-error"),
      seats: field("vote-seats", "vote-candidates-error"),
    },
    statusLine: $("vote-form-status"),
    formError: $("vote-form-error"),
    conn,
    rt,
    strings: { sending: t.sending, queued: t.queued, failed: t.failed, fixFields: t.fix_fields },
    send: () => {
      const args = meetingArgs({ kind: kind.value, title: $("vote-title").value, secret: $("vote-secret").checked });
      const item = $("vote-agenda-item").value;
      if (item) args.agenda_item = Number(item);
      if (kind.value === "election") {
        args.candidates = pickedCandidates();
        args.seats = Number($("vote-seats").value || 1);
      }
      return conn.write("meetings.vote.create", args);
    },
    onSuccess: (reply) => {
      $("vote-form-status").textContent = t.done;
      candidatesField.hidden = true;
      state.votes.set(reply.vote.id, reply.vote);
      renderVotes();
    },
  });
}

// -- editing the meeting and its agenda (hosts; the minute-taker edits the agenda) ----------

/** The agenda as it is now (meetings.get), for a page that does not follow the stream. */
async function refreshDetails() {
  try {
    const details = await conn.request("meetings.get", meetingArgs());
    state.meeting = details.meeting;
    state.agenda = details.agenda;
    renderHeader();
    renderAgenda();
  } catch {
    // the page keeps what it shows; the next notice refreshes it
  }
}

const editForm = $("edit-form");
let editDirty = false;
const localInput = (iso) => (iso ? iso.slice(0, 16) : ""); // "2026-11-28T09:00" from the branch-local ISO time

/** Put the meeting's current values in the form (unless the host is in the middle of editing). */
function fillEditForm(force = false) {
  if (!editForm || (editDirty && !force)) return;
  const m = state.meeting;
  const set = (id, value) => {
    const input = $(id);
    input.value = value;
    input.defaultValue = value; // form.reset() goes back to these
  };
  set("e-title", m.title);
  set("e-start", localInput(m.starts_local));
  set("e-end", localInput(m.ends_local));
  set("e-place", m.place || "");
  set("e-description", m.description || "");
  set("e-grace", String(m.late_grace_minutes));
  $("e-online").checked = m.online;
  $("e-online").defaultChecked = m.online;
  const choose = (id, value) => {
    for (const option of $(id).options) {
      option.defaultSelected = option.value === value;
      option.selected = option.value === value;
    }
  };
  choose("e-chair", m.chair ? String(m.chair.id) : "");
  choose("e-minute-taker", m.minute_taker ? String(m.minute_taker.id) : "");
  choose("e-lobby", m.lobby_policy);
  editDirty = false;
}

if (editForm) {
  editForm.addEventListener("input", () => {
    editDirty = true;
  });
  const field = (input) => ({ input: $(input), error: $(`${input}-error`) });
  bindWriteForm(editForm, {
    fields: {
      title: field("e-title"),
      starts_at: field("e-start"),
      ends_at: field("e-end"),
      place: field("e-place"),
      online: field("e-place"),
      chair: field("e-chair"),
      minute_taker: field("e-minute-taker"),
      description: field("e-description"),
      lobby_policy: field("e-lobby"),
      late_grace_minutes: field("e-grace"),
    },
    statusLine: $("edit-status"),
    formError: $("edit-error"),
    conn,
    rt,
    strings: { sending: t.sending, queued: t.queued, failed: t.failed, fixFields: t.fix_fields },
    send: () => {
      const minuteTaker = $("e-minute-taker").value;
      const grace = $("e-grace").value.trim();
      return conn.write(
        "meetings.update",
        meetingArgs({
          title: $("e-title").value,
          // No offset: the server reads these in the branch's time zone.
          starts_at: $("e-start").value,
          ends_at: $("e-end").value,
          place: $("e-place").value,
          online: $("e-online").checked,
          chair: Number($("e-chair").value),
          minute_taker: minuteTaker ? Number(minuteTaker) : null,
          description: $("e-description").value,
          lobby_policy: $("e-lobby").value,
          late_grace_minutes: /^\d+$/.test(grace) ? Number(grace) : -1,
        }),
      );
    },
    onSuccess: (reply) => {
      state.meeting = reply.meeting;
      fillEditForm(true);
      renderHeader();
      renderStatus();
      $("edit-status").textContent = t.saved;
    },
  });
}

// The agenda editor works on a draft: rows with an id are kept (renamed, moved), rows
// without one are added, and missing ones are removed when it is saved.
const agendaDraft = { items: [], dirty: false };
const agendaForm = $("agenda-form");

function resetAgendaDraft() {
  agendaDraft.items = state.agenda.map((item) => ({ id: item.id, title: item.title, notes: item.notes || "" }));
  agendaDraft.dirty = false;
  renderAgendaEditor();
}

/** A change after the last save: the draft is unsaved again, so "saved" no longer holds. */
function markAgendaDirty() {
  agendaDraft.dirty = true;
  const status = $("agenda-status");
  if (status && status.textContent === t.agenda_saved) status.textContent = "";
}

function renderAgendaEditor() {
  const list = $("agenda-editor");
  if (!list) return;
  const rows = agendaDraft.items.map((item, index) => {
    const li = el("li", "agenda-edit-row");
    if (item.id) li.dataset.id = item.id;
    const input = el("input");
    input.type = "text";
    input.maxLength = 200;
    input.value = item.title;
    input.setAttribute("aria-label", interpolate(t.item_title, { n: index + 1 }));
    input.addEventListener("input", () => {
      item.title = input.value;
      markAgendaDirty();
    });
    const move = (delta) => () => {
      const to = index + delta;
      [agendaDraft.items[index], agendaDraft.items[to]] = [agendaDraft.items[to], agendaDraft.items[index]];
      markAgendaDirty();
      renderAgendaEditor();
      list.children[to].querySelector(delta < 0 ? "[data-move=up]" : "[data-move=down]")?.focus();
    };
    const up = button("↑", move(-1), "button small-action");
    up.dataset.move = "up";
    up.setAttribute("aria-label", t.move_up);
    up.title = t.move_up;
    up.disabled = index === 0;
    const down = button("↓", move(1), "button small-action");
    down.dataset.move = "down";
    down.setAttribute("aria-label", t.move_down);
    down.title = t.move_down;
    down.disabled = index === agendaDraft.items.length - 1;
    const remove = button(t.remove_item, () => {
      agendaDraft.items.splice(index, 1);
      markAgendaDirty();
      renderAgendaEditor();
    });
    remove.dataset.remove = "1";
    li.append(input, el("span", "agenda-edit-buttons"));
    li.lastChild.append(up, down, remove);
    return li;
  });
  list.replaceChildren(...rows);
}

if (agendaForm) {
  const addItem = () => {
    const input = $("agenda-new");
    const title = input.value.trim();
    if (!title) return;
    agendaDraft.items.push({ id: null, title, notes: "" });
    markAgendaDirty();
    input.value = "";
    renderAgendaEditor();
    input.focus();
  };
  $("agenda-add").addEventListener("click", addItem);
  $("agenda-new").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      addItem();
    }
  });
  const itemsField = { input: $("agenda-new"), error: $("agenda-items-error") };
  bindWriteForm(agendaForm, {
    fields: { items: itemsField, title: itemsField, notes: itemsField },
    statusLine: $("agenda-status"),
    formError: $("agenda-form-error"),
    conn,
    rt,
    strings: { sending: t.sending, queued: t.queued, failed: t.failed, fixFields: t.fix_fields },
    validate: () => {
      const blank = agendaDraft.items.findIndex((item) => !item.title.trim());
      if (blank < 0) return null;
      $("agenda-editor").children[blank].querySelector("input").focus();
      return { field: "items", message: t.agenda_blank };
    },
    send: () =>
      conn.write(
        "meetings.agenda.set",
        meetingArgs({
          items: agendaDraft.items.map((item) => (item.id ? { id: item.id, title: item.title, notes: item.notes } : { title: item.title })),
        }),
      ),
    onSuccess: (reply) => {
      state.agenda = reply.agenda;
      if (!reply.agenda.some((item) => item.id === state.meeting.current_item)) state.meeting.current_item = null;
      agendaDraft.dirty = false;
      renderAgenda();
      renderConsole();
      $("agenda-status").textContent = t.agenda_saved;
    },
  });
}

// -- chat, hand, reactions, remarks ------------------------------------------------------------

bindWriteForm($("chat-form"), {
  fields: { body: { input: $("chat-body"), error: $("chat-body-error") } },
  statusLine: $("chat-status"),
  formError: $("chat-error"),
  conn,
  rt,
  strings: { sending: t.sending, queued: t.queued, failed: t.failed, fixFields: t.fix_fields },
  send: () => conn.write("meetings.chat.send", meetingArgs({ body: $("chat-body").value })),
  onSuccess: (reply) => {
    const pending = reply.message && reply.message.status === "pending";
    $("chat-status").textContent = pending ? t.sent_pending : "";
    if (reply.message && (reply.message.status === "visible" || state.you.host || state.you.moderator)) addChat(reply.message);
  },
});

$("chat-body").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("chat-form").requestSubmit();
  }
});

$("btn-hand").addEventListener("click", () => {
  const raised = state.hands.some((h) => isMe(h));
  control(raised ? "meetings.hand.lower" : "meetings.hand.raise", meetingArgs(), { where: pageError }).catch(quiet);
});

const reactions = $("reactions");
for (const emoji of REACTIONS) {
  const b = button(emoji, () => conn.request("meetings.react", meetingArgs({ emoji })).catch(quiet), "reaction");
  b.setAttribute("aria-label", emoji);
  reactions.append(b);
}

if ($("remark-form")) {
  bindWriteForm($("remark-form"), {
    fields: { text: { input: $("remark-text"), error: $("remark-text-error") } },
    statusLine: $("remark-status"),
    formError: $("remark-error"),
    conn,
    rt,
    strings: { sending: t.sending, queued: t.queued, failed: t.failed, fixFields: t.fix_fields },
    send: () => {
      const args = meetingArgs({ text: $("remark-text").value });
      if (state.meeting.current_item) args.agenda_item = state.meeting.current_item;
      return conn.write("meetings.remark.add", args);
    },
    onSuccess: () => {
      $("remark-status").textContent = t.done;
    },
  });
}

// -- leave requests and exclusions (server-rendered panel, re-fetched on change) ---------------

async function refreshLeave() {
  try {
    const response = await fetch(config.leave_url, { credentials: "same-origin" });
    if (!response.ok) return;
    $("leave-panel").innerHTML = await response.text();
    $("leave-panel").dataset.refreshed = String(Date.now());
    bindLeave();
  } catch {
    // offline: the next change refreshes it
  }
}

function bindLeave() {
  const panel = $("leave-panel");
  const form = $("leave-form");
  if (form) {
    bindWriteForm(form, {
      fields: { reason: { input: $("leave-reason"), error: $("leave-reason-error") } },
      statusLine: $("leave-status"),
      formError: $("leave-error"),
      conn,
      rt,
      strings: { sending: t.sending, queued: t.queued, failed: t.failed, fixFields: t.fix_fields },
      send: () => conn.write("meetings.leave.request", meetingArgs({ reason: $("leave-reason").value })),
      onSuccess: () => refreshLeave(),
    });
  }
  const withdraw = $("leave-withdraw");
  if (withdraw) {
    withdraw.addEventListener("click", () =>
      control("meetings.leave.withdraw", meetingArgs(), { where: pageError }).then(refreshLeave, quiet),
    );
  }
  for (const b of panel.querySelectorAll("[data-leave-decide]")) {
    b.addEventListener("click", () => {
      const item = b.closest(".leave-item");
      const note = item.querySelector(".leave-note");
      control(
        "meetings.leave.decide",
        { leave: Number(item.dataset.id), approve: b.dataset.leaveDecide === "approve", note: note ? note.value : "" },
        { where: pageError },
      ).then(refreshLeave, quiet);
    });
  }
  for (const b of panel.querySelectorAll("[data-exclusion-remove]")) {
    b.addEventListener("click", () =>
      control("meetings.exclusion.remove", meetingArgs({ user: Number(b.dataset.exclusionRemove) }), { where: pageError }).then(refreshLeave, quiet),
    );
  }
  const exclusionForm = $("exclusion-form");
  if (exclusionForm) {
    bindWriteForm(exclusionForm, {
      fields: {
        user: { input: $("exclusion-user"), error: $("exclusion-user-error") },
        reason: { input: $("exclusion-reason"), error: $("exclusion-reason-error") },
        note: { input: $("exclusion-note"), error: $("exclusion-note-error") },
      },
      statusLine: $("exclusion-status"),
      formError: $("exclusion-error"),
      conn,
      rt,
      strings: { sending: t.sending, queued: t.queued, failed: t.failed, fixFields: t.fix_fields },
      send: () =>
        conn.write(
          "meetings.exclusion.add",
          meetingArgs({ user: Number($("exclusion-user").value), reason: $("exclusion-reason").value, note: $("exclusion-note").value }),
        ),
      onSuccess: () => refreshLeave(),
    });
  }
}

// -- start ------------------------------------------------------------------------------------

conn.onStatus((status) => {
  if (status === Status.ENDED) showError(pageError, rt.error_unauthenticated);
});

window.addEventListener("beforeunload", (event) => {
  if (conn.unacknowledgedWrites > 0) {
    event.preventDefault();
    event.returnValue = "";
  }
});

bindLeave();
if ($("check-in-details")) {
  $("check-in-details").addEventListener("toggle", renderCheckIn);
  const full = $("check-in-full");
  full.hidden = !document.fullscreenEnabled;
  full.addEventListener("click", () => $("check-in-img").requestFullscreen().catch(quiet));
}
renderAll();
begin();
