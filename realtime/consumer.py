"""The one WebSocket endpoint, /ws/: parse a frame, find its op, call it, reply.

Thin on purpose: permission checks and writes live in the ops' actions. This class
owns the envelope (ref, cid, args), limits (frame size, rate), subscriptions with
resume, and delivery of the hub's frames in seq order per stream.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

import asyncio
import collections
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from channels.consumer import AsyncConsumer
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from django.conf import settings
from django.utils import timezone, translation

from accounts.identity import ANONYMOUS, Identity, identity_for_citizen

from . import metrics, presence
from .errors import BadRequest, Forbidden, NotFound, OpError, RateLimited, TooLarge, UnknownOp
from .batching import get_batcher
from .frames import PROTOCOL_VERSION, dumps, error_frame, iso, ok_frame
from .hub import Hub, get_hub
from .idempotency import check_client_id, run_once
from .ops import OpContext, check_audience, get_op, parse_args
from .selectors import event_frames_after, stream_head
from .streams import parse_stream_key
from . import wire

log = logging.getLogger(__name__)

CLOSE_AUTH_ENDED = 4401
CLOSE_RECONNECT = 4012  # reconnect now: the person changed (daphne's library allows servers 1000 and 3000-4999)


@dataclass
class Subscription:
    last: int = 0
    catching_up: bool = True
    parked: list[tuple[int, str]] = field(default_factory=list)


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _language(scope) -> str:
    """The UI language the person chose (the language cookie), else the default."""
    from .auth import cookies_from_scope

    chosen = cookies_from_scope(scope).get(settings.LANGUAGE_COOKIE_NAME, "")
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _subscribe_reads(identity: Identity, stream: str, since: int | None, batch: int, known_count: int | None):
    """Everything subscribe needs from the database, in one thread hop."""
    stream_type, object_id = parse_stream_key(stream)
    if stream_type.exists is not None and not stream_type.exists(object_id):
        raise NotFound(_("There is no stream %(stream)s.") % {"stream": stream})
    if not stream_type.can_read(identity, object_id):
        raise Forbidden(_("You may not read %(stream)s.") % {"stream": stream})
    head = stream_head(stream)
    resync = since is not None and (since < head.trimmed_through or since > head.last_seq)
    snapshot = None
    frames: list[tuple[int, str]] = []
    if since is None or resync:
        if stream_type.snapshot is not None:
            snapshot = stream_type.snapshot(identity, object_id)
    else:
        frames = event_frames_after(stream, since, batch)
    present = None
    if stream_type.presence:
        present = presence.view_reads(stream, settings.BRANCHLINE_REALTIME["PRESENCE_LIST_MAX"], known_count)
    return stream_type, head, resync, snapshot, frames, present


class RealtimeConsumer(AsyncConsumer):
    # Fan-out fast path (realtime/wire.py), set once accepted: None when not served by daphne.
    writer: "wire.SocketWriter | None" = None

    async def __call__(self, scope, receive, send) -> None:
        # Replaces AsyncConsumer.__call__. A socket has no channel-layer channel of its
        # own (the hub holds one per process), so it has one source of messages and
        # awaits it directly. Channels' await_many_dispatch makes a Task for every frame
        # and waits on it through asyncio.wait; that was CPU the write burst of
        # bench/fanout.py paid on every frame (docs/realtime.md), and one pending Task
        # per idle socket.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message: dict) -> None:
        # Replaces AsyncConsumer.dispatch: an explicit table, and no
        # aclose_old_connections() thread hop per frame (ORM work happens inside
        # database_sync_to_async, which closes old connections itself).
        handler = {
            "websocket.connect": self.on_connect,
            "websocket.receive": self.on_receive,
            "websocket.disconnect": self.on_disconnect,
        }.get(message["type"])
        if handler is not None:
            await handler(message)

    # -- connection lifecycle ------------------------------------------------------

    async def on_connect(self, message: dict) -> None:
        conf = settings.BRANCHLINE_REALTIME
        self.conf = conf
        self.connection_id = uuid.uuid4().hex[:12]
        self.language = _language(self.scope)
        self.identity: Identity = self.scope.get("identity", ANONYMOUS)
        self.subscriptions: dict[str, Subscription] = {}
        self.presence_streams: set[str] = set()
        # Writes waiting for their batch, in arrival order, and replies being sent.
        self.replies: collections.deque[tuple[object, asyncio.Future]] = collections.deque()
        self.replies_sending: set[asyncio.Task] = set()
        self.bucket = TokenBucket(conf["RATE_PER_SECOND"], conf["RATE_BURST"])
        self.closed = False
        self.last_frame_at = timezone.now()
        self.hub: Hub = await get_hub()
        self.hub.connection_opened(self)
        await self.base_send({"type": "websocket.accept"})
        metrics.CONNECTIONS_OPENED.inc()
        self.writer = wire.SocketWriter.for_send(self.base_send, conf["SEND_BUFFER_MAX"])

    async def on_disconnect(self, message: dict) -> None:
        # 1006: no close frame, e.g. daphne dropped a socket that stopped answering its
        # pings. The person was last seen at their last frame, or at the last server
        # ping they must have answered (HEARTBEAT_SILENCE_SECONDS before the drop).
        lost = message.get("code") == 1006 and hasattr(self, "last_frame_at")
        at = None
        if lost:
            silence = timedelta(seconds=self.conf.get("HEARTBEAT_SILENCE_SECONDS", 50))
            at = max(self.last_frame_at, timezone.now() - silence)
        await self._leave_all(at=at, lost=lost)
        raise StopConsumer()

    async def _leave_all(self, *, at=None, lost: bool = False) -> None:
        if getattr(self, "closed", True) and not getattr(self, "subscriptions", None):
            return
        self.closed = True
        hub = getattr(self, "hub", None)
        if hub is None:
            return
        hub.connection_closed(self)
        for stream in list(self.subscriptions):
            await self._unsubscribe(stream, at=at, lost=lost)

    async def evict(self, stream: str, frame: str) -> None:
        """The stream's owner took this identity off it (e.g. removed from a meeting)."""
        if stream not in self.subscriptions:
            return
        await self._unsubscribe(stream)
        await self.send_text(frame)

    async def close_for_auth(self) -> None:
        if self.closed:
            return
        with translation.override(self.language):
            message = _("Your session has ended. Please log in again.")
        await self.send_text(dumps({"op": "closing", "code": "unauthenticated", "message": message}))
        await self.base_send({"type": "websocket.close", "code": CLOSE_AUTH_ENDED})
        await self._leave_all()

    async def close_to_refresh(self) -> None:
        """The person changed since this socket began (a secretary corrected their name):
        close with 4012, on which clients reconnect at once and resume, as the person
        they are now."""
        if self.closed:
            return
        await self.base_send({"type": "websocket.close", "code": CLOSE_RECONNECT})
        await self._leave_all()

    # -- sending -------------------------------------------------------------------

    async def send_text(self, text: str, prepared: "wire.Prepared | None" = None) -> None:
        """One frame to this socket; `prepared`: the same text already framed (one frame
        sent to many sockets is framed once)."""
        if self._sent_at_once(text, prepared):
            return
        try:
            await self.base_send({"type": "websocket.send", "text": text})
        except Exception:
            # The socket is going away; its disconnect handler cleans up.
            self.closed = True

    def _sent_at_once(self, text: str, prepared: "wire.Prepared | None" = None) -> bool:
        """Closed (nothing to send), or sent on daphne's fast path; False: use the ASGI send.

        Replies and single frames take the fast path too (realtime/wire.py): straight to
        the socket when Twisted holds nothing for it, so the order on the wire is the
        order of the calls."""
        return self.closed or (self.writer is not None and self.writer.write(prepared or wire.Prepared(text)))

    def deliver_now(self, stream: str, seq: int, prepared: "wire.Prepared") -> bool:
        """The in-order live case, synchronously, with the prepared frame; False: use deliver()."""
        sub = self.subscriptions.get(stream)
        if sub is None:
            return True
        if sub.catching_up or seq != sub.last + 1 or self.writer is None or self.closed:
            return False
        if self.replies and self.replies[0][1].done():
            self._send_replies()  # this socket's write that made the event is answered first
        if not self.writer.write(prepared):
            return False
        sub.last = seq
        return True

    async def deliver(self, stream: str, seq: int, frame: str) -> None:
        """A live event from the hub: send in order, park while catching up, fill gaps."""
        sub = self.subscriptions.get(stream)
        if sub is None:
            return
        if sub.catching_up:
            sub.parked.append((seq, frame))
        elif seq == sub.last + 1:
            sub.last = seq
            self._send_replies()
            if self.replies_sending:  # replies going the ASGI way: they go first
                await asyncio.gather(*self.replies_sending, return_exceptions=True)
            await self.send_text(frame)
            metrics.DELIVERED.inc()
        elif seq > sub.last + 1:
            sub.catching_up = True
            sub.parked.append((seq, frame))
            asyncio.create_task(self._catch_up(stream, sub))

    async def _catch_up(self, stream: str, sub: Subscription, first: list[tuple[int, str]] | None = None) -> None:
        """Send from the log everything after sub.last, then the parked live frames."""
        batch = self.conf["CATCHUP_BATCH"]
        try:
            frames = first
            for _round in range(1000):
                if frames is None:
                    head = await database_sync_to_async(stream_head)(stream)
                    if sub.last < head.trimmed_through:
                        await self._send_resync(stream, sub, head.last_seq)
                        frames = []
                    else:
                        frames = await database_sync_to_async(event_frames_after)(stream, sub.last, batch)
                for seq, frame in frames:
                    if seq == sub.last + 1:
                        await self._room_to_send()
                        sub.last = seq
                        await self.send_text(frame)
                more_in_log = len(frames) >= batch
                frames = None
                if more_in_log:
                    continue
                parked, sub.parked = sorted(sub.parked), []
                gap = False
                for seq, frame in parked:
                    if seq <= sub.last:
                        continue
                    if seq == sub.last + 1 and not gap:
                        await self._room_to_send()
                        sub.last = seq
                        await self.send_text(frame)
                    else:
                        gap = True
                        sub.parked.append((seq, frame))
                if not gap and not sub.parked:
                    sub.catching_up = False
                    return
                await asyncio.sleep(0.02)
        except Exception:
            log.exception("catch-up failed on %s", stream)
            sub.catching_up = False

    async def _room_to_send(self) -> None:
        """Catch-up is paced by the reader: it waits while half the send limit is still
        waiting for the socket, so a long backlog (500 frames a read) is never queued at
        once, which would get a reader that is slow but reading dropped (realtime/wire.py)."""
        writer = self.writer
        if writer is None:
            return
        low = writer.limit // 2
        while not self.closed and not writer.dropped and writer.queued() > low:
            await asyncio.sleep(0.01)

    async def _send_resync(self, stream: str, sub: Subscription, head: int) -> None:
        stream_type, object_id = parse_stream_key(stream)
        snapshot = None
        if stream_type.snapshot is not None:
            snapshot = await database_sync_to_async(stream_type.snapshot)(self.identity, object_id)
        sub.last = head
        metrics.RESYNCS.inc()
        await self.send_text(dumps({"op": "resync", "stream": stream, "seq": head, "snapshot": snapshot, "reason": "retention"}))

    # -- receiving -----------------------------------------------------------------

    async def on_receive(self, message: dict) -> None:
        metrics.FRAMES_IN.inc()
        self.last_frame_at = timezone.now()  # a sign of life (attendance after a lost connection)
        # Messages in replies speak the person's language; the override follows the
        # op into database_sync_to_async (translations are context-local).
        with translation.override(self.language):
            await self._handle_frame(message)

    def _parse(self, text: str | None) -> tuple[dict, object]:
        """The frame as an object and its ref, or the error that refuses it."""
        if text is None:
            raise BadRequest("frames must be JSON text, not binary")
        limit = self.conf["MAX_FRAME_BYTES"]
        if len(text) * 4 > limit and len(text.encode("utf-8")) > limit:
            raise TooLarge(_("The message is larger than %(limit)s bytes.") % {"limit": limit})
        try:
            frame = json.loads(text)
        except ValueError:
            raise BadRequest("frame is not valid JSON") from None
        if not isinstance(frame, dict):
            raise BadRequest("frame must be a JSON object")
        ref = frame.get("ref")
        if ref is not None and not (isinstance(ref, (str, int)) and len(str(ref)) <= 64):
            raise BadRequest("ref must be a string or integer of at most 64 characters")
        return frame, ref

    async def _handle_frame(self, message: dict) -> None:
        ref = None
        try:
            refused: OpError | None = None
            try:
                frame, ref = self._parse(message.get("text"))
            except OpError as exc:
                refused = exc
            # Every frame costs a token, counted after parsing (frames are at most
            # 64 KiB) so a refused request is answered with its own ref.
            if not self.bucket.take():
                raise RateLimited(
                    _("Too many messages: at most %(rate)s a second (bursts of %(burst)s).")
                    % {"rate": self.conf["RATE_PER_SECOND"], "burst": self.conf["RATE_BURST"]}
                )
            if refused is not None:
                raise refused
            op = frame.get("op")
            if not isinstance(op, str):
                raise BadRequest("missing 'op' (a string)", details={"field": "op"})
            core = self.CORE_OPS.get(op)
            if core is not None:
                args = frame.get("args") or {}
                if not isinstance(args, dict):
                    raise BadRequest("args must be a JSON object", details={"field": "args"})
                await self._settle_writes()
                data = await core(self, args, ref)
            else:
                spec, ctx, args = self._prepare(op, frame)
                if spec.writes:
                    # Pipelined: the next frame is read while this write waits for its
                    # batch (realtime/batching.py). The reply goes out when the write's
                    # future settles (no task per write), in arrival order.
                    future = get_batcher().submit(self._write_call(spec, ctx, args))
                    self.replies.append((ref, future))
                    future.add_done_callback(self._send_replies)
                    return
                # Anything else sees this connection's earlier writes done.
                await self._settle_writes()
                data = await database_sync_to_async(spec.handler)(ctx, args)
            if data is not None:  # None: the op sent its own reply (subscribe)
                await self.send_text(ok_frame(ref, data))
        except OpError as exc:
            await self.send_text(_error(ref, exc.code, exc.message, exc.details))
        except Exception:
            log.exception("op failed")
            await self.send_text(_error(ref, "internal", _("Something went wrong on the server; nothing was changed.")))

    def _prepare(self, op: str, frame: dict) -> tuple:
        spec = get_op(op)
        if spec is None:
            raise UnknownOp(f"unknown op {op[:64]!r}")
        check_audience(spec, self.identity)
        args = parse_args(spec, frame.get("args"))
        client_id = check_client_id(frame.get("cid")) if spec.writes else None
        return spec, OpContext(identity=self.identity, client_id=client_id, connection_id=self.connection_id), args

    def _write_call(self, spec, ctx: OpContext, args) -> Callable[[], dict]:
        language = self.language

        def write() -> dict:
            # Runs in the batch (on the loop or in the writer thread), outside this
            # frame's context: carry the language.
            with translation.override(language):
                return run_once(ctx.identity, ctx.client_id, spec.name, lambda: spec.handler(ctx, args))

        if spec.appends is not None:
            write.appends = spec.appends(args)  # its head moves with the batch's BEGIN
        return write

    def _send_replies(self, _settled: asyncio.Future | None = None) -> None:
        """Answer this connection's settled writes, in the order they came.

        Also called before an event goes to this socket: a batch's events are fanned
        out before its writers' replies are sent (the subscribers wait less), but on
        the writer's own socket the reply to its write still comes first."""
        replies = self.replies
        while replies and replies[0][1].done():
            ref, future = replies.popleft()
            self._reply_to_write(ref, future)

    def _reply_to_write(self, ref, future: asyncio.Future) -> None:
        if future.cancelled():
            return
        with translation.override(self.language):
            exc = future.exception()
            try:
                if exc is None:
                    text = ok_frame(ref, future.result())
                elif isinstance(exc, OpError):
                    text = _error(ref, exc.code, exc.message, exc.details)
                else:
                    raise exc
            except Exception:
                log.exception("op failed")
                text = _error(ref, "internal", _("Something went wrong on the server; nothing was changed."))
        if self._sent_at_once(text):
            return
        # Not on daphne's fast path: the ASGI send, in a task. Tasks start in the order
        # they were made and each sends in its first step, so replies keep their order.
        task = asyncio.get_running_loop().create_task(self.send_text(text))
        self.replies_sending.add(task)
        task.add_done_callback(self.replies_sending.discard)

    async def _settle_writes(self) -> None:
        """Wait until this connection's earlier writes are answered."""
        while self.replies or self.replies_sending:
            await asyncio.gather(*(f for _, f in self.replies), *self.replies_sending, return_exceptions=True)
            self._send_replies()
            # In place: the tasks' done callbacks discard from this very set.
            self.replies_sending.difference_update([task for task in self.replies_sending if task.done()])

    # -- core ops ------------------------------------------------------------------

    async def op_hello(self, args: dict, ref) -> dict:
        token = args.get("citizen_token")
        if token is not None:
            if not isinstance(token, str):
                raise BadRequest("citizen_token must be a string", details={"field": "citizen_token"})
            if self.identity.kind != "anonymous":
                raise BadRequest("already identified; citizen_token is only for anonymous sockets")
            citizen = await database_sync_to_async(_citizen_for_token)(token)
            if citizen is None:
                raise Forbidden(_("This citizen token is not known."))
            self.identity = identity_for_citizen(citizen)
        return {
            "protocol": PROTOCOL_VERSION,
            "server_time": iso(timezone.now()),
            "identity": self.identity.to_dict(),
            "connection": self.connection_id,
            "limits": {
                "max_frame_bytes": self.conf["MAX_FRAME_BYTES"],
                "rate_per_second": self.conf["RATE_PER_SECOND"],
                "rate_burst": self.conf["RATE_BURST"],
                "max_subscriptions": self.conf["MAX_SUBSCRIPTIONS"],
            },
        }

    async def op_ping(self, args: dict, ref) -> dict:
        return {"server_time": iso(timezone.now())}

    async def op_subscribe(self, args: dict, ref) -> dict | None:
        stream = args.get("stream")
        since = args.get("since")
        if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
            raise BadRequest("since must be a non-negative integer", details={"field": "since"})
        here = args.get("here", True)
        if not isinstance(here, bool):
            raise BadRequest("here must be true or false", details={"field": "here"})
        stream_type = parse_stream_key(stream)[0]  # cheap shape check before touching the database
        if not here and stream_type.presence and not stream_type.quiet_follow:
            raise BadRequest(
                f"{stream_type.name} streams cannot be followed with here=false", details={"field": "here"}
            )
        if stream not in self.subscriptions and len(self.subscriptions) >= self.conf["MAX_SUBSCRIPTIONS"]:
            raise TooLarge(_("At most %(max)s subscriptions per connection.") % {"max": self.conf["MAX_SUBSCRIPTIONS"]})
        if stream in self.subscriptions:
            await self._unsubscribe(stream)
        # Register before reading the log, so nothing committed after the read is
        # missed: it is parked and sent after the catch-up, deduplicated by seq.
        sub = Subscription(last=since or 0)
        self.subscriptions[stream] = sub
        await self.hub.add(stream, self)
        try:
            stream_type, head, resync, snapshot, frames, present = await database_sync_to_async(_subscribe_reads)(
                self.identity, stream, since, self.conf["CATCHUP_BATCH"], self.hub.known_count(stream)
            )
        except BaseException:
            self.subscriptions.pop(stream, None)
            await self.hub.remove(stream, self)
            raise
        self.hub.note_head(stream, head.last_seq)
        reply: dict = {"stream": stream, "head": head.last_seq}
        if since is None:
            sub.last = head.last_seq
            reply["seq"] = head.last_seq
            reply["snapshot"] = snapshot
        if stream_type.presence and here and self.identity.kind != "anonymous":
            self.hub.presence_join(stream, self.identity.key, self.identity.name)
            self.presence_streams.add(stream)
        if stream_type.presence:
            # Read in the same hop as the rest; this process's own people are added.
            reply["presence"], reply["presence_count"] = self.hub.presence_view(
                stream, *present, self.conf["PRESENCE_LIST_MAX"]
            )
        # The reply goes first; catch-up frames follow it, then parked live ones.
        await self.send_text(ok_frame(ref, reply))
        if resync:
            sub.last = head.last_seq
            await self.send_text(
                dumps({"op": "resync", "stream": stream, "seq": head.last_seq, "snapshot": snapshot, "reason": "retention"})
            )
        await self._catch_up(stream, sub, first=[] if since is None or resync else frames)
        return None

    async def op_presence(self, args: dict, ref) -> dict:
        """Who is on a subscribed stream now: for a client whose list lapsed while the
        stream had more people than the list limit, once presence frames list again."""
        stream = args.get("stream")
        stream_type, _object_id = parse_stream_key(stream)
        if stream not in self.subscriptions:
            raise NotFound(f"not subscribed to {stream!r}")
        if not stream_type.presence:
            raise BadRequest(f"{stream_type.name} streams have no presence", details={"field": "stream"})
        limit = self.conf["PRESENCE_LIST_MAX"]
        listed, count = await database_sync_to_async(presence.view_reads)(stream, limit, self.hub.known_count(stream))
        people, count = self.hub.presence_view(stream, listed, count, limit)
        return {"stream": stream, "presence": people, "presence_count": count}

    async def op_unsubscribe(self, args: dict, ref) -> dict:
        stream = args.get("stream")
        parse_stream_key(stream)
        if stream not in self.subscriptions:
            raise NotFound(f"not subscribed to {stream!r}")
        await self._unsubscribe(stream)
        return {"stream": stream}

    async def _unsubscribe(self, stream: str, *, at=None, lost: bool = False) -> None:
        self.subscriptions.pop(stream, None)
        if stream in self.presence_streams:
            self.presence_streams.discard(stream)
            self.hub.presence_leave(stream, self.identity.key, at=at, lost=lost)
        await self.hub.remove(stream, self)

    CORE_OPS = {
        "hello": op_hello,
        "ping": op_ping,
        "subscribe": op_subscribe,
        "unsubscribe": op_unsubscribe,
        "presence": op_presence,
    }


def _error(ref, code: str, message: str, details: dict | None = None) -> str:
    """An error frame, counted by its code (realtime/metrics.py)."""
    metrics.ERRORS.labels(code).inc()
    return error_frame(ref, code, message, details)


def _citizen_for_token(token: str):
    from accounts.selectors import citizen_for_token

    return citizen_for_token(token)
