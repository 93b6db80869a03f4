"""Things that start while Redis is down: the doorbell is optional, serving is not.

The architecture makes Redis "only the doorbell": the database log is the truth, and
a lost doorbell costs latency, never data. These tests check what happens when a
subscription or a whole process starts during an outage. The pair runs with
WS_HEAD_CHECK_SECONDS=3600, so only Redis can deliver a live event in the time the
test allows.
"""

from __future__ import annotations


import pytest

from tests.servers import STARTED, Client, Daphne, assert_exact_seqs, health_becomes

pytestmark = pytest.mark.scaled


@pytest.fixture
def pair(doorbell_pair):
    return doorbell_pair


async def test_a_stream_subscribed_during_an_outage_gets_live_events_once_redis_is_back(pair):
    one, two = pair.both
    # A stream nobody on daphne 1 has subscribed to yet in this module.
    stream = f"announcements:{one.g1}"
    sub = await Client.open(one.daphne, one.cookie("dangyuan"), label="sub@1")
    writer = await Client.open(two.daphne, two.cookie("shuji"), label="writer@2")
    try:
        pair.redis.kill()
        await health_becomes(one.daphne, 503, timeout=15)
        head = (await sub.subscribe(stream))["head"]  # group_add fails: Redis is down

        pair.redis.start()
        for server in (one, two):
            await health_becomes(server.daphne, 200, timeout=30)

        # shuji is secretary of 第一党支部, the group's parent: may post to the group.
        await writer.post(one.g1, "after the outage")
        # A doorbell takes milliseconds; the head check is an hour away.
        await sub.wait_seq(stream, head + 1, timeout=5)
        assert_exact_seqs(sub.label, sub.seqs(stream), [head + 1])
    finally:
        await sub.close()
        await writer.close()
        if not pair.redis.running:
            pair.redis.start()


async def test_a_daphne_started_during_an_outage_serves_sockets_from_the_log(pair, workdir):
    """Redis is only the doorbell: a process (re)started while it is down still serves."""
    one, two = pair.both
    stream = f"announcements:{one.b1}"
    late = Daphne(one.env, name="daphne3-started-during-outage", log_dir=workdir)
    writer = await Client.open(two.daphne, two.cookie("shuji"), label="writer@2")
    sub = None
    try:
        pair.redis.kill()
        await health_becomes(two.daphne, 503, timeout=15)
        late.start(healthy=False)
        status, body = late.healthz()
        assert status == 503 and body["database"]["ok"] is True, body

        sub = await Client.open(late, two.cookie("dangyuan"), label="sub@3")
        head = (await sub.subscribe(stream, since=0))["head"]
        await sub.wait_seq(stream, head, timeout=10)
        await writer.post(one.b1, "while redis is down")
        # Only the head check (every hour here) or Redis could deliver it live, so ask
        # again with a resume, the way a client would after a reconnect.
        await sub.close()
        sub = await Client.open(late, two.cookie("dangyuan"), label="sub@3-again")
        await sub.subscribe(stream, since=head)
        await sub.wait_seq(stream, head + 1, timeout=10)
        assert_exact_seqs(sub.label, sub.seqs(stream), [head + 1])
    finally:
        if sub is not None:
            await sub.close()
        await writer.close()
        late.stop()
        if late in STARTED:
            STARTED.remove(late)
        if not pair.redis.running:
            pair.redis.start()
