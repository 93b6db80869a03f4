"""Every action the code writes into the audit log (操作日志) has words for the page: an
entry the page could only show by its code would say nothing to a secretary."""

from __future__ import annotations

import re
from pathlib import Path

from frontend.forum_text import audit_action_strings

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "announcements", "forum", "meetings", "moderation")


def written_actions() -> set[str]:
    found: set[str] = set()
    for app in APPS:
        for source in (ROOT / app).rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            found |= set(re.findall(r'\baction="([a-z_]+\.[a-z_.]+)"', text))
            for call in re.findall(r"_audit\(identity, meeting, ([^\n]*)", text):  # meetings/actions.py
                head = call.split(",")[0]
                found |= {f"meeting.{name}" for name in re.findall(r'"([a-z_.]+)"', head)}
            for call in re.findall(r"_audit\(identity, branch_id, ([^\n]*)", text):  # accounts/members.py
                found |= {f"member.{name}" for name in re.findall(r'"([a-z_.]+)"', call.split(",")[0])}
    return found


def test_every_audited_action_has_a_label():
    actions = written_actions()
    assert {"meeting.check_in", "meeting.check_in_after", "member.joined_party", "member.roles"} <= actions
    assert len(actions) >= 30
    missing = sorted(actions - set(audit_action_strings()))
    assert not missing, f"audit actions without words for the log page: {missing}"
