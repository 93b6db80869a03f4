"""The Django side of bench/meeting.py: seeding and the database checks (not a test).

Run by bench/meeting.py as a child process with the server's environment (same database,
same settings):

    python bench/_meeting_data.py seed '<json>'        -> one JSON line on stdout
    python bench/_meeting_data.py attendance '<json>'  -> one JSON line on stdout
    python bench/_meeting_data.py chat '<json>'        -> one JSON line on stdout

What `seed` writes, and through which code:

* a branch of its own (`基准测试党支部`, under the demo 城东街道党委) with `participants`
  full members (`bench_m0000`...): User and Membership rows written with the ORM in one
  transaction (bench/_forum_data.py `_users`: one password hash for all), and one
  logged-in session per member written the way django.contrib.auth.login() writes it
  (`_forum_data._session_cookie`), so 200 sockets authenticate exactly as after a login
  without 200 PBKDF2 rounds;
* a general meeting (党员大会) of that branch, scheduled, opened and started through
  meetings.actions (schedule_meeting, open_meeting, start_meeting) by 刘委员
  (`dangwei`, secretary of the committee above: a host, not expected, the chair), with
  the default lobby policy `invited`: every member is expected (应到 = participants), so
  each one's meetings.join admits them directly.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _forum_data as FD  # noqa: E402

BRANCH_NAME = "基准测试党支部"


def seed(cfg: dict) -> dict:
    FD._setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts.identity import identity_for_user
    from accounts.models import Branch
    from meetings import actions
    from meetings.models import Meeting

    out: dict = {"timings": {}}
    t0 = time.monotonic()
    User = get_user_model()
    committee = Branch.objects.get(name="城东街道党委")
    password_hash = make_password(FD.DEMO_PASSWORD)
    with transaction.atomic():
        branch = Branch.objects.create(name=BRANCH_NAME, kind=Branch.Kind.BRANCH, parent=committee)
        members = FD._users("bench_m", cfg["participants"], "参会党员", password_hash, branch)
        out["cookies"] = [FD._session_cookie(u) for u in members]
    out["user_ids"] = [u.pk for u in members]
    out["branch"] = branch.pk
    out["timings"]["members_sessions"] = time.monotonic() - t0

    t1 = time.monotonic()
    host_user = User.objects.get(username="dangwei")
    host = identity_for_user(host_user)
    now = timezone.now()
    meeting = actions.schedule_meeting(
        identity=host, branch_id=branch.pk, kind=Meeting.Kind.GENERAL, title="基准测试：支部党员大会",
        starts_at=now, ends_at=now + timedelta(hours=3), chair_id=host_user.pk,
        agenda=["传达学习上级文件精神", "讨论本季度支部工作", "其他事项"], place="线上",
    )  # fmt: skip
    actions.open_meeting(identity=host, meeting_id=meeting.pk)
    actions.start_meeting(identity=host, meeting_id=meeting.pk)
    from meetings import selectors

    meeting.refresh_from_db()
    roll = selectors.roll_for(meeting)
    out["meeting"] = meeting.pk
    out["status"] = meeting.status
    out["expected"] = len(roll.expected)
    out["voting_expected"] = roll.voting_expected
    out["host"] = "dangwei"
    out["timings"]["meeting"] = time.monotonic() - t1
    return out


def attendance(cfg: dict) -> dict:
    """What the server recorded for the meeting: participants, open intervals, the counts."""
    FD._setup()
    from meetings import selectors
    from meetings.models import AttendanceInterval, Meeting, Participant

    meeting = Meeting.objects.select_related("branch").get(pk=cfg["meeting"])
    ids = set(cfg["user_ids"])
    admitted = set(
        Participant.objects.filter(meeting=meeting, state=Participant.State.ADMITTED).values_list("user_id", flat=True)
    )
    intervals = list(AttendanceInterval.objects.filter(meeting=meeting).values_list("user_id", "left_at"))
    open_users = {uid for uid, left in intervals if left is None}
    summary = selectors.summary(meeting)
    report = selectors.attendance_report(meeting)
    statuses: dict[str, int] = {}
    for row in report["rows"]:
        if row["user"]["id"] in ids:
            statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return {
        "admitted": len(admitted & ids),
        "intervals": len(intervals),
        "open_intervals": len(open_users & ids),
        "connected": sum(1 for row in report["rows"] if row["connected"] and row["user"]["id"] in ids),
        "counts": summary["counts"],
        "quorum": summary["quorum"],
        "statuses": statuses,
    }


def chat(cfg: dict) -> dict:
    """The acknowledged chat message ids against the rows of the meeting."""
    FD._setup()
    from meetings.models import ChatMessage

    acked = cfg["message_ids"]
    rows = dict(ChatMessage.objects.filter(meeting_id=cfg["meeting"], pk__in=acked).values_list("pk", "status"))
    marked = ChatMessage.objects.filter(meeting_id=cfg["meeting"], body__contains="BLT").count()
    return {
        "acked": len(acked),
        "unique_acked": len(set(acked)),
        "rows": len(rows),
        "visible": sum(1 for s in rows.values() if s == ChatMessage.Status.VISIBLE),
        "marked_in_meeting": marked,
    }


if __name__ == "__main__":
    what, cfg = sys.argv[1], json.loads(sys.argv[2])
    result = {"seed": seed, "attendance": attendance, "chat": chat}[what](cfg)
    print(json.dumps(result, ensure_ascii=False))
