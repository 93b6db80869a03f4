"""realtime.js against a scripted fake socket: resume, duplicates, resync, write retries, backoff.

The live tests show the behaviour end to end; these pin the protocol details a real
server rarely provokes on demand (a reply lost after the server ran a write, a hole
in the seqs, a resync, the exact backoff schedule).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

FAKE_SOCKET = Path(__file__).with_name("fake_socket.js")
STREAM = "announcements:2"


@pytest.fixture
def page(server, open_page):
    page = open_page(server, None, "/login/")  # a page that opens no socket of its own
    # As an init script: the page's policy refuses a script tag added to it.
    page.context.add_init_script(path=str(FAKE_SOCKET))
    page.reload()
    return page


def test_resume_skips_duplicates_applies_resync_and_refills_holes(page):
    log = page.evaluate(
        """async (stream) => {
        const { Connection, Status } = await import("/static/frontend/realtime.js");
        const event = (seq) => ({ op: "event", stream, seq, type: "announcement.posted", data: {}, at: "" });
        const log = { snapshots: [], events: [] };
        const conn = new Connection({ url: "ws://fake/ws/", WebSocketImpl: FakeSocket, backoffBase: 20, random: () => 0.5 });
        conn.subscribe(stream, {
          snapshot: (snap, seq, info) => log.snapshots.push({ seq, resync: info.resync, unread: snap.unread }),
          event: (frame) => log.events.push(frame.seq),
        });
        conn.start();
        await until(() => FakeSocket.last && FakeSocket.last.sentOf("subscribe").length === 1, "subscribe");
        const s1 = FakeSocket.last;
        const sub1 = s1.sentOf("subscribe")[0];
        log.firstOps = s1.sent.map((f) => f.op);
        log.firstArgs = sub1.args;
        s1.reply(sub1, { stream, head: 5, seq: 5, snapshot: { announcements: [], read_seq: 0, unread: 5 } });
        for (const seq of [6, 6, 5, 7]) s1.push(event(seq));
        await until(() => log.events.length === 2, "events 6, 7");
        s1.drop();
        await until(() => conn.status === Status.OFFLINE, "offline");
        await until(() => FakeSocket.sockets.length === 2 && FakeSocket.last.sentOf("subscribe").length === 1, "resume");
        const s2 = FakeSocket.last;
        const sub2 = s2.sentOf("subscribe")[0];
        log.resumeOps = s2.sent.map((f) => f.op);
        log.resumeArgs = sub2.args;
        s2.reply(sub2, { stream, head: 9 });
        for (const seq of [7, 8, 9]) s2.push(event(seq));
        s2.push({ op: "resync", stream, seq: 20, snapshot: { announcements: [], read_seq: 3, unread: 1 } });
        s2.push(event(21));
        s2.push(event(23)); // 22 is missing: never applied out of order
        await until(() => s2.sentOf("subscribe").length === 2, "hole refill");
        log.holeArgs = s2.sentOf("subscribe")[1].args;
        s2.push(event(22));
        s2.push(event(23));
        await until(() => log.events.length === 7, "events after the refill");
        log.lastSeq = conn.lastSeq(stream);
        conn.stop();
        return log;
    }""",
        STREAM,
    )
    assert log["firstOps"] == ["hello", "subscribe"]
    assert log["firstArgs"] == {"stream": STREAM}  # fresh: no since, the reply carries a snapshot
    assert log["resumeOps"] == ["hello", "subscribe"]
    assert log["resumeArgs"] == {"stream": STREAM, "since": 7}
    assert log["holeArgs"] == {"stream": STREAM, "since": 21}
    assert log["events"] == [6, 7, 8, 9, 21, 22, 23]
    assert log["snapshots"] == [
        {"seq": 5, "resync": False, "unread": 5},
        {"seq": 20, "resync": True, "unread": 1},
    ]
    assert log["lastSeq"] == 23


def test_unacknowledged_write_is_retried_with_the_same_cid(page):
    result = page.evaluate(
        """async () => {
        const { Connection, Status } = await import("/static/frontend/realtime.js");
        const conn = new Connection({ url: "ws://fake/ws/", WebSocketImpl: FakeSocket, backoffBase: 20, random: () => 0.5 });
        const queue = [];
        conn.onQueue((n) => queue.push(n));
        conn.start();
        await until(() => conn.status === Status.ONLINE, "online");
        const s1 = FakeSocket.last;
        const args = { branch: 2, title: "t", body: "b" };
        const written = conn.write("announcements.post", args);
        await until(() => s1.sentOf("announcements.post").length === 1, "write sent");
        const first = s1.sentOf("announcements.post")[0];
        s1.drop(); // the server may have run it; its reply is lost
        await until(() => FakeSocket.sockets.length === 2 && FakeSocket.last.sentOf("announcements.post").length === 1, "retry");
        const s2 = FakeSocket.last;
        const second = s2.sentOf("announcements.post")[0];
        const ops = s2.sent.map((f) => f.op);
        s2.reply(second, { announcement: { id: 5 }, replayed: true });
        const data = await written;

        // A rejected write is not retried, and the caller sees code, message and details.
        const bad = conn.write("announcements.post", { branch: 2, title: " ", body: "b" });
        await until(() => s2.sentOf("announcements.post").length === 2, "bad write sent");
        s2.fail(s2.sentOf("announcements.post")[1], "bad_request", "标题不能为空 (title is required)", { field: "title" });
        const error = await bad.then(() => null, (e) => ({ name: e.name, code: e.code, message: e.message, field: e.details.field }));

        // A read in flight when the socket drops is rejected, not silently lost.
        const read = conn.request("announcements.list", { branch: 2 });
        await until(() => s2.sentOf("announcements.list").length === 1, "read sent");
        s2.drop();
        const readError = await read.then(() => null, (e) => e.code);
        const offlineError = await conn.request("ping").then(() => null, (e) => e.code);

        // A write made while offline waits, then goes out once on the next connection.
        const later = conn.write("announcements.post", { branch: 2, title: "later", body: "b" });
        const sentWhileOffline = FakeSocket.sockets.reduce((n, s) => n + s.sentOf("announcements.post").length, 0);
        await until(() => FakeSocket.sockets.length === 3 && FakeSocket.last.sentOf("announcements.post").length === 1, "queued write");
        const s3 = FakeSocket.last;
        s3.reply(s3.sentOf("announcements.post")[0], { announcement: { id: 6 } });
        await later;
        conn.stop();
        return {
          firstCid: first.cid, secondCid: second.cid, sameArgs: JSON.stringify(second.args) === JSON.stringify(args),
          refsDiffer: first.ref !== second.ref, ops, data, error, readError, offlineError, sentWhileOffline,
          queue, pending: conn.unacknowledgedWrites,
        };
    }"""
    )
    assert result["firstCid"] == result["secondCid"], "a retried write must carry the same cid"
    assert len(result["firstCid"]) >= 8
    assert result["sameArgs"] and result["refsDiffer"]
    assert result["ops"][0] == "hello" and "announcements.post" in result["ops"]
    assert result["data"] == {"announcement": {"id": 5}, "replayed": True}
    assert result["error"] == {
        "name": "RealtimeError",
        "code": "bad_request",
        "message": "标题不能为空 (title is required)",
        "field": "title",
    }
    assert result["readError"] == "disconnected"
    assert result["offlineError"] == "offline"
    assert result["sentWhileOffline"] == 3  # the first write, its retry and the bad one: not the new one
    assert result["pending"] == 0
    assert result["queue"][0] == 0 and max(result["queue"]) == 1 and result["queue"][-1] == 0


def test_backoff_grows_with_jitter_to_the_cap_and_resets_after_a_healthy_connection(page):
    delays = page.evaluate(
        """async () => {
        const { Connection, Status } = await import("/static/frontend/realtime.js");
        FakeSocket.refuse = true;
        const conn = new Connection({
          url: "ws://fake/ws/", WebSocketImpl: FakeSocket, backoffBase: 10, backoffCap: 40,
          healthyAfter: 400, random: () => 0.5,
        });
        const delays = [];
        conn.onStatus((status) => {
          if (status === Status.OFFLINE && conn.retryAt) delays.push(conn.retryDelay);
        });
        conn.start();
        await until(() => delays.length === 4, "four refused attempts");
        FakeSocket.refuse = false;
        await until(() => conn.status === Status.ONLINE, "online");
        FakeSocket.last.drop(); // dropped at once: not healthy, the backoff keeps its level
        await until(() => delays.length === 5, "fifth delay");
        await until(() => conn.status === Status.ONLINE, "online again");
        await new Promise((resolve) => setTimeout(resolve, 600)); // healthy now
        FakeSocket.last.drop();
        await until(() => delays.length === 6, "sixth delay");
        conn.stop();

        // Jitter with the real random source: within [ceiling / 2, ceiling].
        const jittered = [];
        for (let i = 0; i < 20; i++) {
          const c = new Connection({ WebSocketImpl: FakeSocket, backoffBase: 1000, backoffCap: 30000 });
          c.attempt = 3;
          c._scheduleRetry();
          jittered.push(c.retryDelay);
          c.stop();
        }
        return { delays, jittered };
    }"""
    )
    # ceilings 10, 20, 40, 40 (capped); with random() = 0.5 each delay is 3/4 of its ceiling
    assert delays["delays"][:5] == [8, 15, 30, 30, 30]
    assert delays["delays"][5] == 8, "a connection that stayed up resets the backoff"
    assert all(4000 <= d <= 8000 for d in delays["jittered"])
    assert len(set(delays["jittered"])) > 1, "delays must be jittered"


def test_session_end_stops_reconnecting_and_fails_queued_writes(page):
    result = page.evaluate(
        """async () => {
        const { Connection, Status } = await import("/static/frontend/realtime.js");
        // The server ends the session, and the one reconnect that asks again arrives
        // without a session: ended, the queued write fails, no more sockets.
        const conn = new Connection({ url: "ws://fake/ws/", WebSocketImpl: FakeSocket, backoffBase: 10, requireUser: true });
        conn.start();
        await until(() => conn.status === Status.ONLINE, "online");
        const s1 = FakeSocket.last;
        const pending = conn.write("announcements.post", { branch: 2, title: "t", body: "b" });
        await until(() => s1.sentOf("announcements.post").length === 1, "write sent");
        FakeSocket.identity = { kind: "anonymous", id: null, name: "" };
        s1.push({ op: "closing", code: "unauthenticated", message: "会话已结束" });
        await new Promise((resolve) => setTimeout(resolve, 5));
        s1.drop(4401);
        const code = await pending.then(() => null, (e) => e.code);
        await new Promise((resolve) => setTimeout(resolve, 100));
        const ended = { status: conn.status, code, sockets: FakeSocket.sockets.length };

        // A page rendered for a member whose socket arrives without a session ends at once.
        const anonymous = new Connection({ url: "ws://fake/ws/", WebSocketImpl: FakeSocket, backoffBase: 10, requireUser: true });
        anonymous.start();
        await until(() => anonymous.status === Status.ENDED, "ended for an anonymous socket");
        await new Promise((resolve) => setTimeout(resolve, 100));
        return { ended, anonymousSockets: FakeSocket.sockets.length - ended.sockets };
    }"""
    )
    assert result["ended"] == {"status": "ended", "code": "unauthenticated", "sockets": 2}, "one reconnect asks"
    assert result["anonymousSockets"] == 1, "no reconnect once the session has ended"


def test_an_ended_session_whose_browser_is_still_logged_in_carries_on(page):
    """A password change (or a new login) gives the session a new key: the server ends
    the old one's sockets, but this browser's cookie has the new key. The reconnect
    that asks again finds a member: online again, and the queued write is re-sent with
    its cid instead of failing."""
    result = page.evaluate(
        """async () => {
        const { Connection, Status } = await import("/static/frontend/realtime.js");
        const conn = new Connection({ url: "ws://fake/ws/", WebSocketImpl: FakeSocket, backoffBase: 10, requireUser: true });
        conn.start();
        await until(() => conn.status === Status.ONLINE, "online");
        const s1 = FakeSocket.last;
        const pending = conn.write("announcements.post", { branch: 2, title: "t", body: "b" });
        await until(() => s1.sentOf("announcements.post").length === 1, "write sent");
        const cid = s1.sentOf("announcements.post")[0].cid;
        s1.push({ op: "closing", code: "unauthenticated", message: "会话已结束" });
        await new Promise((resolve) => setTimeout(resolve, 5));
        s1.drop(4401);
        await until(() => FakeSocket.sockets.length === 2 && conn.status === Status.ONLINE, "back online");
        const s2 = FakeSocket.last;
        await until(() => s2.sentOf("announcements.post").length === 1, "write re-sent");
        const resent = s2.sentOf("announcements.post")[0];
        s2.reply(resent, { announcement: { id: 1 } });
        const reply = await pending;
        // A second end later on asks again, too: each one is checked once.
        s2.drop(4401);
        await until(() => FakeSocket.sockets.length === 3 && conn.status === Status.ONLINE, "online after a second end");
        return { sameCid: resent.cid === cid, reply, status: conn.status };
    }"""
    )
    assert result == {"sameCid": True, "reply": {"announcement": {"id": 1}}, "status": "online"}


def test_a_server_asking_for_a_fresh_connection_gets_one_at_once_but_not_in_a_loop(page):
    result = page.evaluate(
        """async () => {
        const { Connection, Status } = await import("/static/frontend/realtime.js");
        // 4012: the person changed (a corrected name). The client reconnects without
        // waiting out a backoff, resumes, and never shows itself offline meanwhile.
        const conn = new Connection({
          url: "ws://fake/ws/", WebSocketImpl: FakeSocket, backoffBase: 2000, healthyAfter: 300, random: () => 0.5,
        });
        const seen = [];
        conn.onStatus((status) => seen.push(status));
        conn.start();
        await until(() => conn.status === Status.ONLINE, "online");
        await new Promise((resolve) => setTimeout(resolve, 400)); // healthy
        const before = FakeSocket.sockets.length;
        const started = Date.now();
        seen.length = 0;
        FakeSocket.last.drop(4012);
        await until(() => conn.status === Status.ONLINE && FakeSocket.sockets.length === before + 1, "back");
        const first = { ms: Date.now() - started, statuses: [...seen] };
        // Asked again before the new connection proved healthy: the usual backoff.
        FakeSocket.last.drop(4012);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const second = { status: conn.status, delay: conn.retryDelay, sockets: FakeSocket.sockets.length - before };
        conn.stop();
        return { first, second };
    }"""
    )
    assert result["first"]["ms"] < 500, "reconnected at once, not after a backoff of 1-2 s"
    assert "offline" not in result["first"]["statuses"], result["first"]
    assert result["second"] == {"status": "offline", "delay": 3000, "sockets": 1}  # ceiling 4 s, its 3/4
