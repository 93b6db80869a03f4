"""Meeting reads and exports over HTTP: details, calendar, attendance CSV, minutes, transcript."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.security import django_auth

from accounts.api import request_identity
from realtime.errors import BadRequest, Forbidden
from realtime.models import Event
from realtime.selectors import stream_head

from . import minutes, selectors
from .models import Meeting
from .streams import _time, attendance_for

router = Router(tags=["meetings"])


def _minutes_meeting(request: HttpRequest, meeting_id: int) -> Meeting:
    identity = request_identity(request)
    meeting = selectors.meeting_for(identity, meeting_id)
    if not (
        meeting.status == Meeting.Status.ENDED
        or selectors.is_host(identity, meeting)
        or selectors.is_minute_taker(identity, meeting)
    ):
        raise Forbidden(_("The minutes are for the hosts until the meeting has ended."))
    return meeting


@router.get("/branches/{branch_id}/meetings", auth=django_auth, summary="A branch's meeting calendar")
def calendar(request: HttpRequest, branch_id: int, start: str | None = None, end: str | None = None,
             status: str | None = None):
    identity = request_identity(request)
    return {"meetings": selectors.meetings_in_branch(identity, branch_id, start=_time("start", start),
                                                     end=_time("end", end), status=status)}


@router.get("/branches/{branch_id}/meetings/register", auth=django_auth,
            summary="会议台账: a year's meetings with their attendance counts (secretaries)")
def register(request: HttpRequest, branch_id: int, year: int | None = None):
    if year is not None and not 1900 <= year <= 9999:
        raise BadRequest(_("Give the year as four digits, like 2026."))
    rows = selectors.register(request_identity(request), branch_id, year)
    return {"meetings": [{**row["meeting"].to_dict(), "counts": row["counts"], "attendance_rate": row["rate"]}
                         for row in rows]}


@router.get("/meetings/{meeting_id}", auth=django_auth, summary="One meeting (as the meetings.get op)")
def meeting_detail(request: HttpRequest, meeting_id: int):
    identity = request_identity(request)
    return selectors.meeting_details(identity, selectors.meeting_for(identity, meeting_id))


@router.get("/meetings/{meeting_id}/attendance.csv", auth=django_auth, summary="Attendance as CSV")
def attendance_csv(request: HttpRequest, meeting_id: int):
    meeting, _report = attendance_for(request_identity(request), meeting_id)
    response = HttpResponse(minutes.attendance_csv(meeting), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}-attendance.csv"'
    return response


@router.get("/meetings/{meeting_id}/minutes", auth=django_auth, summary="The minutes as JSON")
def minutes_json(request: HttpRequest, meeting_id: int):
    return minutes.build_minutes(_minutes_meeting(request, meeting_id))


@router.get("/meetings/{meeting_id}/minutes.md", auth=django_auth, summary="The minutes as Markdown")
def minutes_markdown(request: HttpRequest, meeting_id: int):
    meeting = _minutes_meeting(request, meeting_id)
    response = HttpResponse(minutes.render_markdown(minutes.build_minutes(meeting)),
                            content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}-minutes.md"'
    return response


@router.get("/meetings/{meeting_id}/transcript", auth=django_auth, summary="The meeting stream's events in order")
def transcript(request: HttpRequest, meeting_id: int, after: int = 0, limit: int = 1000):
    identity = request_identity(request)
    meeting = selectors.meeting_for(identity, meeting_id)
    if not selectors.can_subscribe(identity, meeting):
        raise Forbidden(_("You may not read this meeting's transcript."))
    if not 1 <= limit <= 5000:
        raise BadRequest("limit must be between 1 and 5000", details={"field": "limit"})
    stream = meeting.stream
    head = stream_head(stream)
    rows = Event.objects.filter(stream_id=stream, seq__gt=after).order_by("seq")[:limit]
    return {
        "stream": stream,
        "head": head.last_seq,
        "trimmed_through": head.trimmed_through,
        "events": [{"seq": e.seq, "type": e.type, "data": e.data, "at": e.created_at.isoformat()} for e in rows],
    }
