"""The periodic jobs run from the moment daphne starts, with nobody connected."""

from __future__ import annotations

import time

import pytest

from tests.servers import django_shell

pytestmark = pytest.mark.live


def test_a_restarted_server_publishes_what_is_due_before_anyone_connects(server, ensure_running):
    """A scheduled announcement due while every process was down goes out within its
    10 s look after the restart, though no page is open and nobody connects: the hub,
    whose maintenance loop runs the jobs, starts with daphne, not at the first socket.
    (Mail of unread notifications, the digest and meeting reminders ride on the same loop.)"""
    server.daphne.stop()
    # Scheduled for later, then due while every process is down.
    created = django_shell(
        server.env,
        "from datetime import timedelta\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.utils import timezone\n"
        "from accounts.identity import identity_for_user\n"
        "from accounts.models import Branch\n"
        "from announcements.models import ScheduledAnnouncement\n"
        "from announcements.scheduling import schedule_announcement\n"
        f"branch = Branch.objects.get(pk={server.b1})\n"
        "ident = identity_for_user(get_user_model().objects.get(username='shuji'))\n"
        "later = timezone.localtime(timezone.now() + timedelta(hours=1), branch.zone).strftime('%Y-%m-%dT%H:%M')\n"
        "s = schedule_announcement(identity=ident, branch_id=branch.pk, title='夜里到时的公告', body='请查收。',\n"
        "                          publish_at=later)\n"
        "ScheduledAnnouncement.objects.filter(pk=s.pk).update(publish_at=timezone.now() - timedelta(minutes=1))\n"
        "result = {'id': s.pk}\n",
    )
    server.daphne.start()  # waits for /healthz: HTTP only, no WebSocket

    status = ""
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline:
        status = django_shell(server.env, "from announcements.models import ScheduledAnnouncement\n"
                                          f"result = ScheduledAnnouncement.objects.get(pk={created['id']}).status\n")
        if status == "published":
            break
        time.sleep(1)
    assert status == "published", server.daphne.log_tail()
