"""会议记录: the minutes of a meeting, built from the database, rendered as Markdown; attendance as CSV.

Everything here reads the rows the actions wrote (roll, intervals, leave, exclusions,
agenda, remarks, closed votes), so the minutes say what the record says. Times are in
the branch's time zone; labels follow the active language (Chinese by default).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from server.spreadsheets import csv_text

from . import selectors
from .models import AgendaItem, Exclusion, LeaveRequest, Meeting, Remark, Vote

STATUS_LABELS = {
    "present": gettext_lazy("present"),
    "late": gettext_lazy("late"),
    "left_early": gettext_lazy("left early"),
    "late_and_left_early": gettext_lazy("late and left early"),
    "absent": gettext_lazy("absent"),
    "excused": gettext_lazy("on leave"),
    "excluded": gettext_lazy("not counted"),
    "guest": gettext_lazy("attending without a vote (guest)"),
}
IN_ROOM = gettext_lazy("in the room")
CHOICE_LABELS = {"yes": gettext_lazy("for"), "no": gettext_lazy("against"), "abstain": gettext_lazy("abstain")}


def option_label(key: str, label: str, is_candidate: bool, *, write_in: bool = False) -> str:
    """An option as the record names it: a candidate by name (someone written in, 另选他人,
    said so), a motion's choice in the reader's language."""
    if write_in:
        return _("%(name)s (written in)") % {"name": label}
    return label if is_candidate else str(CHOICE_LABELS.get(key, label))
PRESENT = ("present", "late", "left_early", "late_and_left_early")
LABELS = {
    "Branch": gettext_lazy("Branch"),
    "Kind": gettext_lazy("Kind"),
    "Time": gettext_lazy("Time"),
    "Held": gettext_lazy("Held"),
    "Place": gettext_lazy("Place"),
    "Chair": gettext_lazy("Chair"),
    "Minute-taker": gettext_lazy("Minute-taker"),
    "Attendance": gettext_lazy("Attendance"),
    "Present": gettext_lazy("Present"),
    "On leave": gettext_lazy("On leave"),
    "Absent": gettext_lazy("Absent"),
    "Not counted in the expected number": gettext_lazy("Not counted in the expected number"),
    "Guests": gettext_lazy("Guests"),
    "Agenda": gettext_lazy("Agenda"),
    "Remarks": gettext_lazy("Remarks"),
    "Resolutions": gettext_lazy("Resolutions"),
    "Passed": gettext_lazy("Passed"),
    "Not passed": gettext_lazy("Not passed"),
    "Elected": gettext_lazy("Elected"),
    "a tie at the last seat": gettext_lazy("a tie at the last seat"),
    "not given": gettext_lazy("not given"),
}


def local(value: datetime | str | None, meeting: Meeting) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = parse_datetime(value)
    return timezone.localtime(value, meeting.branch.zone).strftime("%Y-%m-%d %H:%M")


def build_minutes(meeting: Meeting) -> dict:
    report = selectors.attendance_report(meeting)
    rows = report["rows"]
    exclusion_reasons = dict(Exclusion.Reason.choices)
    items = list(AgendaItem.objects.filter(meeting=meeting).order_by("position"))
    remarks = list(Remark.objects.filter(meeting=meeting).select_related("author"))
    votes = list(Vote.objects.filter(meeting=meeting, status=Vote.Status.CLOSED).order_by("closed_at", "id"))
    resolutions = []
    for vote in votes:
        data = selectors.vote_dict(vote)
        labels = {o["key"]: option_label(o["key"], o["label"], bool(o["candidate"]), write_in=o["write_in"])
                  for o in data["options"]}
        result = vote.result or {}
        counted = result.get("counts") or {}
        ballots = selectors.open_ballots(vote)
        for b in ballots:
            b["labels"] = "、".join(labels.get(key, key) for key in b["choices"])
        resolutions.append({
            "id": vote.pk,
            "title": vote.title,
            "kind": vote.kind,
            "secret": vote.secret,
            "agenda_item": vote.agenda_item_id,
            "voting_expected": vote.voting_expected,
            "present_at_open": vote.present_at_open,
            "required_present": vote.required_present,
            "quorum_met": bool(result.get("quorum_met")),
            # In option order: a JSON column on PostgreSQL (jsonb) does not keep key order.
            # Those written in (另选他人) only when a ballot named them.
            "counts": [{"key": o["key"], "label": labels[o["key"]], "count": counted.get(o["key"], 0)}
                       for o in data["options"] if not o["write_in"] or counted.get(o["key"])],
            "ballots": result.get("ballots", 0),
            "written": result.get("written", 0),
            "paper": result.get("paper"),  # {issued, returned, invalid, scrutineers}: 纸质选票 in the room
            "scrutineers": "、".join(p["name"] for p in (result.get("paper") or {}).get("scrutineers", [])),
            "void": bool(result.get("void")),
            "passed": vote.passed,
            "elected": [labels.get(key, key) for key in result.get("elected", [])],
            "tie": bool(result.get("tie")),
            # Elections: the majority is of the voting members at the meeting.
            "voters_present": result.get("voters_present"),
            "elected_of": ELECTED_OF % {"n": result["voters_present"]} if result.get("voters_present") else "",
            "open_ballots": ballots,  # each with its choices named (`labels`)
            "closed_at": local(vote.closed_at, meeting),
        })
    return {
        "meeting": meeting.to_dict(),
        "branch": meeting.branch.name,
        "kind": str(meeting.get_kind_display()),
        "time_zone": meeting.branch.time_zone,
        "scheduled": {"start": local(meeting.starts_at, meeting), "end": local(meeting.ends_at, meeting)},
        "actual": {"start": local(meeting.started_at, meeting), "end": local(meeting.ended_at, meeting)},
        "place": meeting.place,
        "online": meeting.online,
        "chair": selectors.display_name(meeting.chair),
        "minute_taker": selectors.display_name(meeting.minute_taker) if meeting.minute_taker else "",
        "counts": report["counts"],
        "quorum": report["quorum"],
        "present": [{"name": r["user"]["name"], "status": r["status"], "voting": r["voting"],
                     "in_room": r["checked_in"]} for r in rows if r["status"] in PRESENT],
        "excused": [{"name": r["user"]["name"], "reason": (r["leave"] or {}).get("reason", "")}
                    for r in rows if r["status"] == "excused"],
        "absent": [{"name": r["user"]["name"]} for r in rows if r["status"] == "absent"],
        "excluded": [{"name": r["user"]["name"], "reason": str(exclusion_reasons.get(r["exclusion"]["reason"], "")),
                      "note": r["exclusion"]["note"], "approved_by": (r["exclusion"]["approved_by"] or {}).get("name"),
                      "approved_at": local(r["exclusion"]["approved_at"], meeting)}
                     for r in rows if r["status"] == "excluded"],
        "guests": [{"name": r["user"]["name"]} for r in rows if r["status"] == "guest"],
        "agenda": [{"id": i.pk, "position": i.position, "title": i.title, "notes": i.notes,
                    "remarks": [r.text for r in remarks if r.agenda_item_id == i.pk]} for i in items],
        "remarks": [r.text for r in remarks if r.agenda_item_id is None],
        "resolutions": resolutions,
        "attendance": rows,
        "signatures": _signature_lines(meeting),
    }


def _signature_lines(meeting: Meeting) -> dict:
    """记录签字, for the minutes: each who signs, and when they did ("" not yet)."""
    signed = selectors.signatures(meeting)
    at = {s["role"]: local(s["at"], meeting) for s in signed["signatures"]}
    names = {"chair": selectors.display_name(meeting.chair),
             "minute_taker": selectors.display_name(meeting.minute_taker) if meeting.minute_taker else ""}
    labels = {"chair": _("Chair"), "minute_taker": _("Minute-taker")}
    return {"final": signed["final"],
            "lines": [{"role": role, "label": labels[role], "name": names[role], "at": at.get(role, "")}
                      for role in signed["required"]]}


def _names(people: list[dict]) -> str:
    return "、".join(p["name"] for p in people) or _("none")


def present_label(p: dict, minutes: dict) -> str:
    """What follows a present person's name in the minutes: their status unless plainly
    present and, at a meeting held online too, that they sat in the room (现场签到; at one
    held in a room alone that goes without saying)."""
    notes = [] if p["status"] == "present" else [str(STATUS_LABELS[p["status"]])]
    if p.get("in_room") and minutes["online"]:
        notes.append(str(IN_ROOM))
    return "、".join(notes)


def render_markdown(minutes: dict) -> str:
    m = minutes["meeting"]
    c = minutes["counts"]
    lines = [f"# {m['title']}", ""]
    lines.append(f"- **{LABELS['Branch']}**: {minutes['branch']}")
    lines.append(f"- **{LABELS['Kind']}**: {minutes['kind']}")
    when = f"{minutes['scheduled']['start']} – {minutes['scheduled']['end']}"
    lines.append(f"- **{LABELS['Time']}**: {when} ({minutes['time_zone']})")
    if minutes["actual"]["start"]:
        lines.append(f"- **{LABELS['Held']}**: {minutes['actual']['start']} – {minutes['actual']['end'] or '…'}")
    where = [minutes["place"]] if minutes["place"] else []
    if minutes["online"]:
        where.append(_("online"))
    lines.append(f"- **{LABELS['Place']}**: {' / '.join(where) or LABELS['not given']}")
    lines.append(f"- **{LABELS['Chair']}**: {minutes['chair']}")
    lines.append(f"- **{LABELS['Minute-taker']}**: {minutes['minute_taker'] or LABELS['not given']}")
    lines += ["", f"## {LABELS['Attendance']}", ""]
    lines.append(
        _("Expected %(expected)d, present %(present)d, on leave %(excused)d, absent %(absent)d, "
          "not counted %(excluded)d; voting members expected %(voting)d.")
        % {**c, "voting": minutes["quorum"]["voting_expected"]}
    )
    lines.append("")
    present = [p["name"] + (f"（{label}）" if (label := present_label(p, minutes)) else "") for p in minutes["present"]]
    lines.append(f"- **{LABELS['Present']}**: {'、'.join(present) or _('none')}")
    excused = [f"{p['name']}（{p['reason']}）" if p["reason"] else p["name"] for p in minutes["excused"]]
    lines.append(f"- **{LABELS['On leave']}**: {'、'.join(excused) or _('none')}")
    lines.append(f"- **{LABELS['Absent']}**: {_names(minutes['absent'])}")
    if minutes["excluded"]:
        excluded = [
            _("%(name)s (%(reason)s; approved by %(by)s on %(at)s)")
            % {"name": p["name"], "reason": p["reason"] + (f"，{p['note']}" if p["note"] else ""),
               "by": p["approved_by"], "at": p["approved_at"]}
            for p in minutes["excluded"]
        ]
        lines.append(f"- **{LABELS['Not counted in the expected number']}**: {'；'.join(excluded)}")
    if minutes["guests"]:
        lines.append(f"- **{LABELS['Guests']}**: {_names(minutes['guests'])}")
    lines += ["", f"## {LABELS['Agenda']}", ""]
    for item in minutes["agenda"]:
        lines.append(f"{item['position']}. {item['title']}")
        for text in item["remarks"]:
            lines.append(f"   - {text}")
    if minutes["remarks"]:
        lines += ["", f"## {LABELS['Remarks']}", ""]
        lines += [f"- {text}" for text in minutes["remarks"]]
    lines += ["", f"## {LABELS['Resolutions']}", ""]
    if not minutes["resolutions"]:
        lines.append(_("No votes were taken."))
    for r in minutes["resolutions"]:
        ballot = _("secret ballot") if r["secret"] else _("open vote")
        lines.append(f"### {r['title']}（{ballot}）")
        lines.append("")
        quorum = _("quorum held") if r["quorum_met"] else _("quorum not held")
        lines.append(
            _("Voting members expected %(expected)s, present when the vote opened %(present)s (at least %(required)s "
              "needed): %(quorum)s.")
            % {"expected": r["voting_expected"], "present": r["present_at_open"], "required": r["required_present"],
               "quorum": quorum}
        )
        counts = "，".join(f"{row['label']} {row['count']}" for row in r["counts"])
        lines.append("")
        lines.append(_("Ballots %(ballots)d (written opinions %(written)d): %(counts)s.")
                     % {"ballots": r["ballots"], "written": r["written"], "counts": counts})
        if r["elected_of"]:
            lines += ["", r["elected_of"]]
        if r["paper"]:
            lines.append("")
            lines.append(_("Paper ballots in the room: %(issued)s handed out, %(returned)s back, %(invalid)s spoilt.")
                         % r["paper"])
            if r["scrutineers"]:
                lines.append("")
                lines.append(_("Scrutineers: %(names)s.") % {"names": r["scrutineers"]})
        lines.append("")
        if r["void"]:
            lines.append("**" + _("Void: more ballots came back than were handed out. The vote is to be held again.")
                         + "**")
        elif r["kind"] == "motion":
            lines.append(f"**{LABELS['Passed'] if r['passed'] else LABELS['Not passed']}**")
        else:
            elected = "、".join(r["elected"]) or _("nobody")
            lines.append(f"**{LABELS['Elected']}**: {elected}" + (f"（{LABELS['a tie at the last seat']}）" if r["tie"] else ""))
        if r["open_ballots"]:
            lines.append("")
            for b in r["open_ballots"]:
                lines.append(f"- {b['user']['name']}: {b['labels']}")
        lines.append("")
    signed = minutes.get("signatures")
    if signed:
        lines += ["", f"## {_('Signatures')}", ""]
        for row in signed["lines"]:
            state = (_("signed %(at)s") % {"at": row["at"]}) if row["at"] else _("not signed yet")
            lines.append(f"- {row['label']}：{row['name']}（{state}）")
    return "\n".join(lines).rstrip() + "\n"


# An election's majority (基层组织选举工作条例), said on the page, in the minutes and their Markdown.
ELECTED_OF = gettext_lazy("%(n)s voting members were at the meeting: more than half of them is needed to be "
                          "elected.")

CSV_HEADER = (gettext_noop("name"), gettext_noop("expected"), gettext_noop("voting"), gettext_noop("status"),
              gettext_noop("first join"), gettext_noop("last leave"), gettext_noop("minutes present"),
              gettext_noop("leave"), gettext_noop("exclusion"), gettext_noop("checked in in the room"))


def attendance_csv(meeting: Meeting) -> str:
    """UTF-8 with a BOM (spreadsheet programs then read Chinese names correctly)."""
    report = selectors.attendance_report(meeting)
    reasons = dict(Exclusion.Reason.choices)
    leave_labels = dict(LeaveRequest.Status.choices)
    rows = []
    for row in report["rows"]:
        leave = row["leave"]
        exclusion = row["exclusion"]
        rows.append([
            row["user"]["name"],
            _("yes") if row["expected"] else _("no"),
            _("yes") if row["voting"] else _("no"),
            str(STATUS_LABELS.get(row["status"], row["status"])),
            local(row["first_join"], meeting),
            local(row["last_leave"], meeting),
            round(row["present_seconds"] / 60),
            f"{leave_labels.get(leave['status'], leave['status'])}: {leave['reason']}" if leave else "",
            str(reasons.get(exclusion["reason"], "")) if exclusion else "",
            _("yes") if row["checked_in"] else "",
        ])
    return csv_text([_(h) for h in CSV_HEADER], rows)
