"""The forum over /ws/: subscribe to a topic, post, and see it live."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from forum import actions
from tests.realtime.conftest import connect  # noqa: F401  the real ASGI stack fixture

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_moderators_post_appears_live_for_a_reader(connect, people, identities, boards):  # noqa: F811
    topic, _ = await database_sync_to_async(actions.create_topic)(
        identity=identities["moderator"], board=boards["members"], title="支部大会讨论", body="请大家发言")
    reader = await connect(people["member"])
    reply = await reader.call("subscribe", {"stream": f"topic:{topic.pk}"})
    assert [p["number"] for p in reply["data"]["snapshot"]["posts"]] == [1]
    moderator = await connect(people["moderator"])
    sent = await moderator.call("forum.post", {"topic": topic.pk, "body": "**同意**"}, cid="forum-000001")
    assert sent["data"]["post"]["status"] == "visible"
    frames = await reader.recv_until(lambda f: f["op"] == "event")
    assert frames[-1]["type"] == "post.created"
    assert frames[-1]["data"]["html"] == "<p><strong>同意</strong></p>"


async def test_outsiders_cannot_subscribe_to_a_members_topic(connect, people, identities, boards):  # noqa: F811
    topic, _ = await database_sync_to_async(actions.create_topic)(
        identity=identities["member"], board=boards["members"], title="t", body="b")
    outsider = await connect(people["outsider"])
    assert (await outsider.call("subscribe", {"stream": f"topic:{topic.pk}"}))["code"] == "forbidden"
    anonymous = await connect()
    assert (await anonymous.call("subscribe", {"stream": f"board:{boards['public'].pk}"}))["op"] == "ok"
    assert (await anonymous.call("subscribe", {"stream": f"board:{boards['members'].pk}"}))["code"] == "forbidden"


async def test_only_moderators_read_the_review_queue(connect, people, tree):  # noqa: F811
    moderator = await connect(people["moderator"])
    assert (await moderator.call("subscribe", {"stream": f"modqueue:{tree['a'].pk}"}))["op"] == "ok"
    member = await connect(people["member"])
    assert (await member.call("subscribe", {"stream": f"modqueue:{tree['a'].pk}"}))["code"] == "forbidden"


@pytest.mark.django_db(transaction=True)
async def test_markdown_preview_renders_as_posting_would(connect, people):  # noqa: F811
    from forum.actions import BODY_MAX

    ws = await connect(people["member"])
    reply = await ws.call("markdown.preview", {"text": "**要点**\n第二行 <b>x</b> [链接](javascript:alert(1))"})
    assert reply["op"] == "ok"
    assert reply["data"]["html"] == (
        "<p><strong>要点</strong><br>\n第二行 &lt;b&gt;x&lt;/b&gt; [链接](javascript:alert(1))</p>"
    )
    too_long = await ws.call("markdown.preview", {"text": "x" * (BODY_MAX + 1)})
    assert too_long["op"] == "error" and too_long["code"] == "bad_request"
    assert too_long["details"]["field"] == "text"
    wrong = await ws.call("markdown.preview", {"text": 5})
    assert wrong["op"] == "error" and wrong["code"] == "bad_request"
    anonymous = await connect(None)
    refused = await anonymous.call("markdown.preview", {"text": "x"})
    assert refused["op"] == "error" and refused["code"] == "unauthenticated"
