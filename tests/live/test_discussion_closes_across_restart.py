"""A topic discussion closes at its time even when the server was down at that moment."""

from __future__ import annotations

import time

import pytest

from tests.servers import Client, django_shell

pytestmark = pytest.mark.live


async def test_a_discussion_due_while_daphne_was_down_closes_after_the_restart(server, ensure_running):
    created = django_shell(
        server.env,
        "from datetime import timedelta\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.utils import timezone\n"
        "from accounts.identity import identity_for_user\n"
        "from forum.models import Board\n"
        "from forum.discussions import open_discussion\n"
        f"board = Board.objects.create(branch_id={server.b1}, name='重启测试')\n"
        "ident = identity_for_user(get_user_model().objects.get(username='shuji'))\n"
        "d = open_discussion(identity=ident, board=board, title='限时讨论', prompt='请发言',\n"
        "                    opens_at=None, closes_at=timezone.now() + timedelta(seconds=3))\n"
        "result = {'topic': d.topic_id, 'closes_at': d.closes_at.timestamp()}\n",
    )
    server.daphne.stop()
    time.sleep(max(0.0, created["closes_at"] - time.time()) + 0.5)  # the closing time passes while down
    server.daphne.start()

    sub = await Client.open(server.daphne, server.cookie("dangyuan"), label="discussion-sub")
    try:
        stream = f"topic:{created['topic']}"
        await sub.subscribe(stream, since=0)
        await sub.wait_for(
            lambda: any(e["type"] == "discussion.closed" for e in sub.events.get(stream, [])),
            15, "the discussion to close by itself after the restart",
        )
        closed = [e for e in sub.events[stream] if e["type"] == "discussion.closed"]
        assert len(closed) == 1
        assert closed[0]["data"]["status"] == "closed"
        assert closed[0]["data"]["summary"] == {"participants": 1, "posts": 1, "most_reacted": []}
    finally:
        await sub.close()
