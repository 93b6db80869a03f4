"""What meetings keep about a member, for 我的数据 (accounts/personal_data.py): per
meeting they were in or asked leave from, their attendance as the server recorded it,
their leave request, their chat messages and remarks, the minutes they signed, and the votes they took part in
(with their choice where the ballot was open; a secret ballot's choice is kept nowhere,
docs/protocol.md)."""

from __future__ import annotations

from accounts.personal_data import part, when

from .models import (
    AttendanceInterval,
    CalendarFeed,
    ChatMessage,
    LeaveRequest,
    Meeting,
    MinutesSignature,
    OpenBallot,
    Remark,
    VoteOption,
    VoteParticipation,
)


@part("meetings")
def _meetings(user) -> list:
    by_meeting: dict[int, dict] = {}

    def of(meeting_id: int) -> dict:
        return by_meeting.setdefault(meeting_id, {"attendance": [], "leave": None, "chat": [], "remarks": [],
                                                  "votes": [], "minutes_signed": []})

    for i in AttendanceInterval.objects.filter(user=user).order_by("joined_at"):
        of(i.meeting_id)["attendance"].append(
            {"joined_at": when(i.joined_at), "left_at": when(i.left_at), "why_it_ended": i.end_reason})
    for r in LeaveRequest.objects.filter(user=user):
        of(r.meeting_id)["leave"] = {"reason": r.reason, "status": r.status, "asked_at": when(r.submitted_at),
                                     "decided_at": when(r.decided_at), "note": r.decision_note}
    for m in ChatMessage.objects.filter(author=user).order_by("created_at"):
        of(m.meeting_id)["chat"].append({"text": m.body, "status": m.status, "at": when(m.created_at)})
    for r in Remark.objects.filter(author=user).order_by("created_at"):
        of(r.meeting_id)["remarks"].append({"text": r.text, "at": when(r.created_at)})
    ballots = {b.vote_id: b.choices for b in OpenBallot.objects.filter(user=user)}
    labels = {(o.vote_id, o.key): o.label for o in VoteOption.objects.filter(vote_id__in=ballots)}
    for p in VoteParticipation.objects.filter(user=user).select_related("vote"):
        of(p.vote.meeting_id)["votes"].append({"title": p.vote.title, "secret": p.vote.secret, "via": p.via,
                                               "choices": None if p.vote.secret else [
                                                   labels.get((p.vote_id, key), key)
                                                   for key in ballots.get(p.vote_id, [])]})
    for signed in MinutesSignature.objects.filter(user=user).order_by("at"):
        of(signed.meeting_id)["minutes_signed"].append({"as": signed.role, "at": when(signed.at)})
    meetings = Meeting.objects.filter(pk__in=by_meeting).select_related("branch").order_by("-starts_at")
    return [{"id": m.pk, "title": m.title, "branch": m.branch.name, "starts_at": when(m.starts_at), **by_meeting[m.pk]}
            for m in meetings]


@part("calendar_feed")
def _calendar_feed(user) -> dict | None:
    """日历订阅: whether the member has an address for their calendar (not its token)."""
    found = CalendarFeed.objects.filter(user=user).first()
    return {"made_at": when(found.created_at), "last_fetched_at": when(found.last_used_at)} if found else None

