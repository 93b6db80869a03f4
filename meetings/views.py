"""Meeting pages (三会一课): the branch calendar, a meeting's room, attendance, minutes,
and the calendar files: one meeting's, and a member's feed at its private address
(calendar_feed.py).

Every page is complete as HTML (times rendered in the branch's time zone); the room's
script then joins the meeting, follows `meeting:<id>` and keeps every panel live.
A meeting the reader may not see answers 404 (its existence is not revealed); the
attendance report and the minutes answer 403 to members before the meeting has ended,
as their HTTP exports do.
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_safe

from accounts.api import request_identity
from accounts.models import Branch
from accounts.selectors import branches_below, can_manage_branch
from frontend.forum_views import branch_sections, member_branch, register_rows
from realtime.errors import Conflict, Forbidden, Invalid, NotFound
from server.spreadsheets import csv_download

from . import actions, calendar_feed, room, selectors
from . import minutes as minutes_mod
from .models import Exclusion, LeaveRequest, Meeting
from .streams import attendance_for

RUNNING = (Meeting.Status.OPEN, Meeting.Status.LIVE)


def _dt(value):
    """An ISO string from a selector dict -> an aware datetime (templates localise it)."""
    return parse_datetime(value) if isinstance(value, str) else value


def _calendar_rows(identity, branch: Branch) -> dict[str, list[dict]]:
    rows = selectors.meetings_in_branch(identity, branch.pk)
    now = timezone.now()
    groups: dict[str, list[dict]] = {"live": [], "upcoming": [], "past": []}
    for m in rows:
        m = {**m, "starts_dt": _dt(m["starts_at"]), "ends_dt": _dt(m["ends_at"])}
        if m["status"] in RUNNING:
            groups["live"].append(m)
        elif m["status"] == Meeting.Status.SCHEDULED and m["ends_dt"] >= now - timedelta(hours=12):
            groups["upcoming"].append(m)
        else:
            groups["past"].append(m)
    groups["past"].reverse()  # newest first
    return groups


def _members(branch: Branch) -> list[dict]:
    """Party members of the branch, for the chair, minute-taker, candidate and exclusion pickers."""
    voting = selectors.party_members(branch.pk)
    names = selectors._names(voting)
    return sorted(
        ({"id": uid, "name": names.get(uid, ""), "voting": v} for uid, v in voting.items()),
        key=lambda p: (p["name"], p["id"]),
    )


def meeting_strings() -> dict[str, str]:
    """Strings the meeting scripts show, in the active language."""
    return {
        "status": {k: str(v) for k, v in Meeting.Status.choices},
        "kinds": {k: str(v) for k, v in Meeting.Kind.choices},
        "attendance": {k: str(v) for k, v in minutes_mod.STATUS_LABELS.items()},
        "choices": {k: str(v) for k, v in minutes_mod.CHOICE_LABELS.items()},
        "leave_status": {k: str(v) for k, v in LeaveRequest.Status.choices},
        "exclusion_reasons": {k: str(v) for k, v in Exclusion.Reason.choices},
        "waiting": _("waiting in the lobby"),
        "online_now": _("connected"),
        "offline_now": _("not connected"),
        "in_room": _("in the room"),
        "check_in": _("In the room"),
        "check_out": _("Left the room"),
        "check_in_undo": _("Not here (a mistake)"),
        "check_in_after": _("Was in the room"),
        "hand": _("hand raised"),
        "muted": _("muted"),
        "floor": _("has the floor"),
        "you": _("(you)"),
        "host": _("host"),
        "no_hands": _("No hands raised."),
        "no_participants": _("Nobody has joined yet."),
        "no_chat": _("No messages yet."),
        "no_votes": _("No votes yet."),
        "nobody_waiting": _("Nobody is waiting."),
        "quorum_line": _("Voting members present: %(present)s of %(expected)s"),
        "motion_ok": _("A motion may open (needs %(required)s)."),
        "motion_no": _("A motion may not open yet (needs %(required)s)."),
        "election_ok": _("An election may open (needs %(required)s)."),
        "election_no": _("An election may not open yet (needs %(required)s)."),
        "counts_line": _(
            "Expected %(expected)s · present %(present)s · on leave %(excused)s · absent %(absent)s · late %(late)s"
        ),
        "current": _("current"),
        "give_floor": _("Give the floor"),
        "lower_hand": _("Lower hand"),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "remove": _("Remove from the meeting"),
        "confirm_remove": _("Remove %(name)s from the meeting?"),
        "admit": _("Admit"),
        "deny": _("Deny"),
        "raise_hand": _("Raise hand"),
        "lower_my_hand": _("Lower my hand"),
        "lock": _("Lock the meeting"),
        "unlock": _("Unlock the meeting"),
        "locked": _("Locked"),
        "mute_all": _("Mute everyone"),
        "unmute_all": _("Unmute everyone"),
        "vote_kind": {"motion": _("motion"), "election": _("election")},
        "secret": _("secret ballot"),
        "open_ballot": _("open vote"),
        "vote_status": {"draft": _("prepared"), "open": _("voting now"), "closed": _("closed")},
        "cast_line": _("%(cast)s of %(of)s voting members have voted"),
        "written_line": _("(%(written)s written opinions)"),
        "hands_line": _("(%(hands)s by a show of hands in the room)"),
        "enter_hands": _("Enter a vote shown by hands in the room (for a member checked in there who did not vote "
                         "on the page):"),
        "hands_who": _("Member in the room"),
        "hands_choice": _("Their vote"),
        "hands_submit": _("Count it"),
        "hands_saved": _("%(name)s's vote is counted."),
        "entry_pick_member": _("Choose a member…"),
        "entry_pick_choice": _("Choose their vote…"),
        "entry_no_member": _("Choose the member whose vote this is."),
        "entry_no_choice": _("Choose their vote: for, against or abstain."),
        "paper_heading": _("Paper ballots in the room"),
        "print_ballots": _("Print paper ballots"),
        "paper_intro": _("Hand a paper ballot to voting members checked in in the room who vote on paper (no phone, "
                         "or a vote held on paper in the room); holding one counts as having voted. Count the box "
                         "before closing the vote."),
        "paper_whom": _("Hand paper ballots to"),
        "paper_issue": _("Hand out paper ballots"),
        "paper_holders": _("Holding a paper ballot (%(n)s):"),
        "paper_take_back": _("Take back unused"),
        "paper_alone": _("Only one paper ballot is out: whoever counts the box will see how that member voted. Another "
                         "way is for them to vote on a phone in the room."),
        "paper_count_legend": _("The count of the ballot box"),
        "paper_returned": _("Ballots back in the box"),
        "paper_invalid": _("Of them spoilt"),
        "paper_valid_choices": _("Choices on the valid ballots:"),
        "paper_count_submit": _("Enter the count"),
        "paper_recount": _("Enter a recount"),
        "paper_skipped": _("Passed over, having voted or holding one already: %(names)s."),
        "paper_scrutineers": _("Scrutineers"),
        "scrutineers_line": _("Scrutineers: %(names)s."),
        "paper_whole_numbers": _("Counts are whole numbers, none below zero."),
        "paper_void_note": _("More ballots back than were handed out voids the vote: it is to be held again."),
        "paper_counted": _("Count entered: %(returned)s back, %(invalid)s spoilt."),
        "paper_line": _("(%(issued)s on paper in the room)"),
        "paper_counted_line": _("(%(returned)s paper ballots back, %(invalid)s spoilt)"),
        "paper_mine": _("You hold a paper ballot for this vote: fill it in and put it in the ballot box."),
        "paper_result": _("Paper ballots in the room: %(issued)s handed out, %(returned)s back, %(invalid)s spoilt."),
        "void": _("Void: more ballots came back than were handed out. The vote is to be held again."),
        "open_vote": _("Open the vote"),
        "close_vote": _("Close the vote"),
        "you_voted": _("You have voted."),
        "choose_up_to": _("Choose up to %(seats)s"),
        "write_in": _("Another full member of the branch instead (另选他人)"),
        "write_in_find": _("Find a member"),
        "margin_equal": _("%(n)s candidates for %(seats)s seats: as many as there are seats (等额). Committee "
                          "members are elected with more candidates than seats (差额选举), at least a fifth more."),
        "margin_short": _("%(n)s candidates for %(seats)s seats: %(more)s more, fewer than a fifth more (at least "
                          "%(least)s candidates for committee members)."),
        "margin_ok": _("%(n)s candidates for %(seats)s seats: %(more)s more (差额选举)."),
        "again_tie": _("Vote again between those tied"),
        "again_tie_title": _("%(title)s: vote again"),
        "again_more": _("Further election (seats left: %(n)s)"),
        "again_more_title": _("%(title)s: further election"),
        "again_void": _("Hold the vote again"),
        "again_void_title": _("%(title)s: held again"),
        "again_ready": _("The new vote is filled in below: check it and prepare it."),
        "written_in": _("%(name)s (written in)"),
        "submit_ballot": _("Cast my vote"),
        "not_voting": _("You attend without a vote."),
        "passed": _("Passed"),
        "not_passed": _("Not passed"),
        "elected": _("Elected: %(names)s"),
        "nobody_elected": _("Nobody was elected."),
        "elected_of": str(minutes_mod.ELECTED_OF),
        "quorum_held": _("quorum held"),
        "quorum_not_held": _("quorum not held"),
        "ballots": _("%(ballots)s ballots"),
        "written_opinion": _("Written opinion"),
        "enter_written": _("Enter a written opinion"),
        "written_saved": _("%(name)s's written opinion is entered."),
        "sending": _("Sending…"),
        "queued": _("You are offline. It will be sent as soon as the connection is back."),
        "failed": _("Not sent:"),
        "fix_fields": _("Please correct the highlighted field."),
        "action_failed": _("That did not work:"),
        "sent_pending": _("Sent. It will be shown once a moderator approves it."),
        "lobby_wait": _("You are in the lobby. A host will let you in shortly."),
        "lobby_denied": _("A host did not let you in."),
        "removed": _("A host removed you from the meeting."),
        "not_started": _("The meeting has not started yet."),
        "ended": _("The meeting has ended."),
        "cancelled": _("The meeting was cancelled."),
        "joining": _("Joining…"),
        "started_live": _("The meeting has started."),
        "ended_live": _("The meeting has ended."),
        "hand_raised_by": _("%(name)s raised a hand"),
        "vote_opened_live": _("Voting has opened: %(title)s"),
        "vote_closed_live": _("Result: %(title)s"),
        "reaction_by": _("%(name)s: %(emoji)s"),
        "hide": _("Hide"),
        "pending": _("awaiting review"),
        "done": _("Done."),
        "reload": _("Reload the page"),
        "withdraw": _("Withdraw"),
        "log_in": _("Log in"),
        "cancel_reason": _("Cancel this meeting? Members are told. Reason (optional):"),
        "saved": _("Changes saved."),
        "agenda_saved": _("Agenda saved."),
        "agenda_blank": _("Every agenda item needs a title."),
        "move_up": _("Move up"),
        "move_down": _("Move down"),
        "remove_item": _("Remove item"),
        "item_title": _("Agenda item %(n)s"),
        "online": _("online"),
        "no_agenda": _("No agenda yet."),
    }


def _meeting_or_404(identity, meeting_id: int) -> Meeting:
    try:
        return selectors.meeting_for(identity, meeting_id)
    except NotFound:
        raise Http404("no such meeting") from None


@login_required
def calendar(request, branch_id: int):
    branch, identity = member_branch(request, branch_id)
    groups = _calendar_rows(identity, branch)
    context = {"branch": branch, "groups": groups}
    if request.GET.get("fragment") == "list":
        return render(request, "meetings/_calendar_list.html", context)
    can_schedule = can_manage_branch(identity, branch.pk)
    local_now = timezone.localtime(timezone.now(), branch.zone)
    default_start = (local_now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    config = {
        "branch": branch.pk,
        "me": identity.user_id,
        "time_zone": branch.time_zone,
        "list_url": f"{reverse('meetings:calendar', args=[branch.pk])}?fragment=list",
        "meeting_url": reverse("meetings:meeting", args=[0]),
    }
    return render(
        request,
        "meetings/calendar.html",
        {
            **branch_sections(identity, branch, "meetings"),
            **context,
            "can_schedule": can_schedule,
            "register_years": selectors.register_years(branch) if can_schedule else [],
            "members": _members(branch) if can_schedule else [],
            "kinds": Meeting.Kind.choices,
            "lobby_policies": Meeting.LobbyPolicy.choices,
            "default_start": default_start.strftime("%Y-%m-%dT%H:%M"),
            "default_end": (default_start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "page_config": config,
            "page_strings": meeting_strings(),
        },
    )


@login_required
def own_record(request, branch_id: int):
    """我的参会记录: the reader's own attendance at the meetings held in a year (on the
    branch's clock) in this branch and the groups below it, for their own records and
    the yearly appraisal (民主评议)."""
    branch, identity = member_branch(request, branch_id)
    local_now = timezone.localtime(timezone.now(), branch.zone)
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and len(raw) == 4 and 1900 <= int(raw) <= local_now.year else local_now.year
    start = local_now.replace(year=year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    branch_ids = [branch.pk, *(b.pk for b, _depth in branches_below(branch.pk))]
    rows = selectors.own_record(identity, branch_ids, start, start.replace(year=year + 1))
    labels = minutes_mod.STATUS_LABELS
    return render(request, "meetings/own_record.html", {
        **branch_sections(identity, branch, "meetings"),
        "year": year,
        "years": list(range(local_now.year, local_now.year - 5, -1)),
        "rows": [{**row, "label": labels.get(row["status"], row["status"])} for row in rows],
        "counts": selectors.own_counts(rows),
    })


@login_required
def calendar_csv(request, branch_id: int):
    """会议台账 as a spreadsheet, for the branch's records and its reports upward: every
    meeting of a year (`?year=`, on the branch's clock; all without it), oldest first,
    with who chaired and took the minutes and how many came against those expected."""
    branch, year, rows, base = register_rows(request, branch_id, selectors.register)
    name = (_("%(branch)s - meetings %(year)s.csv") % {"branch": branch.name[:80], "year": year} if year
            else _("%(branch)s - meetings.csv") % {"branch": branch.name[:80]})
    kinds, states = dict(Meeting.Kind.choices), dict(Meeting.Status.choices)
    header = [_("Starts at"), _("Ends at"), _("Kind"), pgettext("meeting register", "Title"), _("Status"), _("Chair"),
              _("Minute-taker"), _("Place"), _("Expected"), pgettext("meeting register", "Present"), _("Late"),
              _("On leave"), _("Absent"), _("Not counted"), _("Guests"), _("Attendance (%)"), _("Link")]
    lines = []
    for row in rows:
        m, c = row["meeting"], row["counts"]
        place = (_("%(place)s (online)") % {"place": m.place} if m.online else m.place) if m.place else (
            _("online") if m.online else "")
        lines.append([
            row["starts_at"].strftime("%Y-%m-%d %H:%M"), row["ends_at"].strftime("%Y-%m-%d %H:%M"),
            kinds.get(m.kind, m.kind), m.title, states.get(m.status, m.status), selectors.display_name(m.chair),
            selectors.display_name(m.minute_taker) if m.minute_taker_id else "", place,
            c["expected"], c["present"], c["late"], c["excused"], c["absent"], c["excluded"], c["guests"],
            "" if row["rate"] is None else row["rate"],
            base + reverse("meetings:meeting", args=[m.pk]),
        ])
    return csv_download(name, header, lines)


def _leave_context(identity, meeting: Meeting, details: dict) -> dict:
    you = details["you"]
    manage = selectors.can_manage(identity, meeting)
    roll = selectors.roll_for(meeting)
    before_start = meeting.status in (Meeting.Status.SCHEDULED, Meeting.Status.OPEN) and meeting.started_at is None
    leave_labels = dict(LeaveRequest.Status.choices)
    reason_labels = dict(Exclusion.Reason.choices)
    leave_requests = [
        {
            **leave,
            "status_label": leave_labels.get(leave["status"], ""),
            "submitted_dt": _dt(leave["submitted_at"]),
            "decided_dt": _dt(leave["decided_at"]),
        }
        for leave in details.get("leave_requests", [])
    ]
    exclusions = [
        {**e, "approved_dt": _dt(e["approved_at"]), "reason_label": reason_labels.get(e["reason"], "")}
        for e in details["exclusions"]
    ]
    excluded_ids = {e["user"]["id"] for e in exclusions}
    names = selectors._names(roll.everyone)
    candidates = sorted(
        ({"id": uid, "name": names.get(uid, "")} for uid in roll.everyone if uid not in excluded_ids),
        key=lambda p: (p["name"], p["id"]),
    )
    my_leave = details["my_leave"]
    if my_leave:
        my_leave = {**my_leave, "status_label": leave_labels.get(my_leave["status"], "")}
    return {
        "leave_withdrawable": bool(my_leave) and my_leave["status"] in ("pending", "approved") and before_start,
        "meeting": meeting,
        "you": you,
        "may_request_leave": you["expected"] and before_start,
        "my_leave": my_leave,
        "my_leave_decided_dt": _dt(my_leave["decided_at"]) if my_leave else None,
        "can_decide_leave": manage,
        "leave_requests": leave_requests,
        "exclusions": exclusions,
        "can_exclude": manage and meeting.status not in (Meeting.Status.ENDED, Meeting.Status.CANCELLED),
        "exclusion_candidates": candidates,
        "exclusion_reasons": Exclusion.Reason.choices,
    }


def _people_for_edit(members: list[dict], meeting: Meeting) -> list[dict]:
    """The chair and minute-taker pickers: the branch's members, plus the current chair or
    minute-taker when they are a secretary from a branch above (so the form keeps them)."""
    people = list(members)
    known = {p["id"] for p in people}
    for user in (meeting.chair, meeting.minute_taker):
        if members and user is not None and user.pk not in known:
            people.append({"id": user.pk, "name": user.get_full_name() or user.get_username(), "voting": False})
            known.add(user.pk)
    return people


@login_required
def meeting(request, meeting_id: int):
    identity = request_identity(request)
    meeting_obj = _meeting_or_404(identity, meeting_id)
    details = selectors.meeting_details(identity, meeting_obj)
    branch = meeting_obj.branch
    leave = _leave_context(identity, meeting_obj, details)
    if request.GET.get("fragment") == "leave":
        return render(request, "meetings/_leave.html", {**leave, "branch": branch})
    you = details["you"]
    may_report = meeting_obj.status == Meeting.Status.ENDED or you["host"] or you["minute_taker"]
    not_over = meeting_obj.status not in (Meeting.Status.ENDED, Meeting.Status.CANCELLED)
    can_edit = bool(you["host"]) and not_over
    can_edit_agenda = bool(you["host"] or you["minute_taker"]) and not_over
    zone = branch.zone
    config = {
        "meeting": meeting_obj.pk,
        "branch": branch.pk,
        "stream": meeting_obj.stream,
        "status": meeting_obj.status,
        "time_zone": branch.time_zone,
        "me": identity.user_id,
        "you": you,
        "meeting_data": details["meeting"],
        "agenda": details["agenda"],
        "counts": details["counts"],
        "quorum": details["quorum"],
        "members": _members(branch) if you["host"] else [],
        # Those who may stand at an election here (selectors.electable), for its form.
        "candidates": sorted(selectors.electable(meeting_obj)) if you["host"] else [],
        "correction_days": actions.CORRECTION_DAYS,  # 补登 after the end (actions.check_in)
        "minutes_final": selectors.signatures(meeting_obj)["final"],  # 记录签字: nothing more is added
        "can_edit": can_edit,
        "can_edit_agenda": can_edit_agenda,
        "leave_url": f"{reverse('meetings:meeting', args=[meeting_obj.pk])}?fragment=leave",
        "login_url": reverse("login"),
    }
    return render(
        request,
        "meetings/meeting.html",
        {
            **branch_sections(identity, branch, "meetings"),
            **leave,
            "m": meeting_obj,
            "details": details,
            "agenda": details["agenda"],
            "counts": details["counts"],
            "quorum": details["quorum"],
            "may_report": may_report,
            "can_edit": can_edit,
            "can_edit_agenda": can_edit_agenda,
            "edit_members": _people_for_edit(config["members"], meeting_obj),
            "lobby_policies": Meeting.LobbyPolicy.choices,
            # The edit form's times, typed and shown in the branch's zone (as the schedule form).
            "edit_start": timezone.localtime(meeting_obj.starts_at, zone).strftime("%Y-%m-%dT%H:%M"),
            "edit_end": timezone.localtime(meeting_obj.ends_at, zone).strftime("%Y-%m-%dT%H:%M"),
            "page_config": config,
            "page_strings": meeting_strings(),
        },
    )


@login_required
def attendance(request, meeting_id: int):
    identity = request_identity(request)
    try:
        meeting_obj, report = attendance_for(identity, meeting_id)
    except NotFound:
        raise Http404("no such meeting") from None
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    rows = [
        {
            **r,
            "first_dt": _dt(r["first_join"]),
            "last_dt": _dt(r["last_leave"]),
            "minutes": round(r["present_seconds"] / 60),
            "status_label": minutes_mod.STATUS_LABELS.get(r["status"], r["status"]),
            "exclusion_label": dict(Exclusion.Reason.choices).get(r["exclusion"]["reason"], "")
            if r["exclusion"]
            else "",
            "leave_label": dict(LeaveRequest.Status.choices).get(r["leave"]["status"], "") if r["leave"] else "",
        }
        for r in report["rows"]
    ]
    return render(
        request,
        "meetings/attendance.html",
        {
            **branch_sections(identity, meeting_obj.branch, "meetings"),
            "m": meeting_obj,
            "counts": report["counts"],
            "quorum": report["quorum"],
            "rows": rows,
        },
    )


@login_required
def minutes(request, meeting_id: int):
    identity = request_identity(request)
    meeting_obj = _meeting_or_404(identity, meeting_id)
    if not (
        meeting_obj.status == Meeting.Status.ENDED
        or selectors.is_host(identity, meeting_obj)
        or selectors.is_minute_taker(identity, meeting_obj)
    ):
        raise PermissionDenied(_("The minutes are for the hosts until the meeting has ended."))
    record = minutes_mod.build_minutes(meeting_obj)
    present = [
        {**p, "label": minutes_mod.present_label(p, record)} for p in record["present"]
    ]
    signed = record["signatures"]
    mine = {role for role, user_id in (("chair", meeting_obj.chair_id), ("minute_taker", meeting_obj.minute_taker_id))
            if user_id == identity.user_id}
    return render(
        request,
        "meetings/minutes.html",
        {
            **branch_sections(identity, meeting_obj.branch, "meetings"),
            "m": meeting_obj,
            "minutes": record,
            "present": present,
            "signed": signed,
            "may_sign": meeting_obj.status == Meeting.Status.ENDED
            and bool(mine - {row["role"] for row in signed["lines"] if row["at"]}),
            "may_reopen": any(row["at"] for row in signed["lines"]) and selectors.is_host(identity, meeting_obj),
        },
    )


@login_required
def minutes_signature(request, meeting_id: int, action: str):
    """The minutes page's two forms: 签字确认 (the chair, the minute-taker) and 撤回签字
    (the chair or the secretary, with a reason); the same actions as the socket's ops."""
    if action not in ("sign", "reopen"):
        raise Http404("no such form")
    if request.method != "POST":
        return HttpResponse(status=405)
    identity = request_identity(request)
    meeting_obj = _meeting_or_404(identity, meeting_id)
    try:
        if action == "sign":
            state = actions.sign_minutes(identity=identity, meeting_id=meeting_obj.pk)
            messages.success(request, _("You have signed the minutes; they are final.") if state["final"]
                             else _("You have signed the minutes."))
        else:
            actions.reopen_minutes(identity=identity, meeting_id=meeting_obj.pk,
                                   reason=request.POST.get("reason", ""))
            messages.success(request, _("The signatures are taken back: the record can be mended and signed again."))
    except (Conflict, Forbidden, Invalid) as refusal:
        messages.error(request, refusal.message)
    return redirect("meetings:minutes", meeting_id=meeting_obj.pk)


def _roll_keeper_or_403(identity, meeting_obj: Meeting) -> None:
    if not (selectors.is_host(identity, meeting_obj) or selectors.is_minute_taker(identity, meeting_obj)):
        raise PermissionDenied(_("This page is for the chair, the branch secretary and the minute-taker."))


SIGN_IN_BLANK_ROWS = 4  # for those who attend without being expected (列席)


@login_required
@require_safe
def sign_in_sheet(request, meeting_id: int):
    """签到表, to print before a meeting held in a room: everyone expected, with a column
    for the time they came in and one for their signature. Afterwards it is the paper
    list from which the record is mended (补登, with times)."""
    identity = request_identity(request)
    meeting_obj = _meeting_or_404(identity, meeting_id)
    _roll_keeper_or_403(identity, meeting_obj)
    report = selectors.attendance_report(meeting_obj)
    expected = sorted((r for r in report["rows"] if r["expected"]),
                      key=lambda r: (not r["voting"], r["user"]["name"]))
    notes = {LeaveRequest.Status.APPROVED: _("on leave"), LeaveRequest.Status.PENDING: _("asked for leave")}
    for row in expected:
        status = (row["leave"] or {}).get("status")
        row["on_leave"] = status == LeaveRequest.Status.APPROVED
        row["note"] = notes.get(status, "")
    reasons = dict(Exclusion.Reason.choices)
    excluded = [{"name": r["user"]["name"], "reason": reasons.get(r["exclusion"]["reason"], "")}
                for r in report["rows"] if r["exclusion"]]
    zone = meeting_obj.branch.zone
    return render(request, "meetings/sign_in_sheet.html", {
        **branch_sections(identity, meeting_obj.branch, "meetings"),
        "m": meeting_obj,
        "starts": timezone.localtime(meeting_obj.starts_at, zone),
        "ends": timezone.localtime(meeting_obj.ends_at, zone),
        "rows": expected,
        "blank_rows": range(len(expected) + 1, len(expected) + 1 + SIGN_IN_BLANK_ROWS),
        "voting": sum(1 for r in expected if r["voting"]),
        "probationary": sum(1 for r in expected if not r["voting"]),
        "on_leave": sum(1 for r in expected if r["on_leave"]),
        "excluded": excluded,
    })


BALLOT_COPIES_MAX = 300


@login_required
@require_safe
def paper_ballots(request, vote_id: int):
    """选票 to print for a secret vote (纸质选票): as many as there are voting members
    expected (or `?copies=`), two to a page, each with the vote's options and the rule for
    a valid ballot."""
    identity = request_identity(request)
    try:
        vote = selectors.vote_for(identity, vote_id)
    except NotFound:
        raise Http404("no such vote") from None
    meeting_obj = vote.meeting
    if not selectors.is_host(identity, meeting_obj):
        raise PermissionDenied(_("Paper ballots are printed by the chair and the branch secretary."))
    if not vote.secret:
        raise Http404("paper ballots are for secret votes")
    voting = sum(1 for v in selectors.roll_for(meeting_obj).expected.values() if v)
    try:
        copies = int(request.GET.get("copies", voting))
    except ValueError:
        copies = voting
    copies = max(1, min(copies, BALLOT_COPIES_MAX))
    options = [{"key": o.key, "label": minutes_mod.option_label(o.key, o.label, o.candidate_id is not None)}
               for o in vote.options.filter(write_in=False).order_by("position")]
    return render(request, "meetings/paper_ballots.html", {
        **branch_sections(identity, meeting_obj.branch, "meetings"),
        "m": meeting_obj,
        "vote": vote,
        "options": options if vote.kind == vote.Kind.MOTION else [o for o in options if o["key"] != "abstain"],
        "copies": range(copies),
        "copies_count": copies,
        "voting": voting,
        "copies_max": BALLOT_COPIES_MAX,
        "write_in_rows": range(vote.seats),  # 另选他人: a line for each seat
    })


def _calendar_response(request, body: str, *, filename: str | None = None) -> HttpResponse:
    """iCalendar text, with an ETag so that a calendar asking again for what has not
    changed gets 304."""
    tag = '"%s"' % hashlib.sha256(body.encode()).hexdigest()[:32]
    if tag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = tag
    response["Cache-Control"] = "private, no-cache"
    if filename:
        response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_safe
def feed(request, token: str):
    """日历订阅 (calendar_feed.py): a member's meetings for their calendar, by the token of
    their private address, without a login; 404 for a token that opens nothing (stopped,
    replaced, or its account closed)."""
    found = calendar_feed.find(token)
    if found is None:
        raise Http404("no such calendar")
    body = calendar_feed.feed(found.user, base=request.build_absolute_uri("/").rstrip("/"), below=found.below)
    response = _calendar_response(request, body)
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_safe
def meeting_file(request, meeting_id: int):
    """One meeting as a calendar file (添加到日历), for whoever may see it."""
    meeting_obj = _meeting_or_404(request_identity(request), meeting_id)
    body = calendar_feed.meeting_file(meeting_obj, request.user, base=request.build_absolute_uri("/").rstrip("/"))
    return _calendar_response(request, body, filename=f"{meeting_obj.title[:80]}.ics")


@login_required
@require_safe
def check_in_qr(request, meeting_id: int):
    """扫码签到 (room.py): the QR code of the moment, as SVG, for the chair, a secretary or
    the minute-taker to show in the room while the meeting runs; the page asks again
    before it changes."""
    identity = request_identity(request)
    meeting_obj = _meeting_or_404(identity, meeting_id)
    if not (selectors.is_host(identity, meeting_obj) or selectors.is_minute_taker(identity, meeting_obj)):
        raise PermissionDenied
    if meeting_obj.status not in RUNNING:
        raise Http404("the meeting is not running")
    url = request.build_absolute_uri(reverse("meetings:here", args=[meeting_obj.pk, room.code(meeting_obj,
                                                                                              timezone.now())]))
    svg = io.BytesIO()  # a document of its own (with its namespace), for an <img>
    segno.make(url, error="m").save(svg, kind="svg", scale=6, border=2, xmldecl=False, svgclass="qr",
                                    lineclass=None, title=_("Scan to check in"))
    response = HttpResponse(svg.getvalue(), content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Check-In-Url"] = url  # for the page's "open the link" and for tests
    return response


@login_required
def here(request, meeting_id: int, code: str):
    """扫码签到: where the room's QR code leads. Asks first (a link opened by a preview or
    a scanner checks in no one), then checks the member in."""
    identity = request_identity(request)
    meeting_obj = _meeting_or_404(identity, meeting_id)
    problem, status = "", 200
    if request.method == "POST":
        try:
            actions.self_check_in(identity=identity, meeting_id=meeting_obj.pk, code=code)
        except (Conflict, NotFound) as refusal:
            problem, status = refusal.message, 409
        else:
            messages.success(request, _("You are checked in: you are in the room at %(title)s.")
                             % {"title": meeting_obj.title})
            return redirect("meetings:meeting", meeting_id=meeting_obj.pk)
    elif request.method != "GET":
        return HttpResponse(status=405)
    elif meeting_obj.status not in RUNNING:
        problem, status = _("People are checked in while the meeting is open or under way."), 409
    elif not room.is_current(meeting_obj, code, timezone.now()):
        problem, status = _("This check-in code is no longer valid: scan the one shown in the room now."), 409
    return render(request, "meetings/here.html", {"m": meeting_obj, "branch": meeting_obj.branch,
                                                  "problem": problem}, status=status)

