"""The per-process hub: one channel-layer channel per process, fanning out to sockets.

Why: Channels' default fan-out sends one channel-layer message per subscriber and
takes a thread hop per consumer dispatch; on this 2-core machine that delivers only a
few thousand frames a second to a 1,000-member group. Here each process subscribes
its single hub channel to a stream's group once, an event costs one channel-layer
message per process, the frame text was serialised once by the writer, and the hub
writes it to each local socket directly on the event loop.

The hub also keeps a stream's events in order per process (filling a gap from the
log when a doorbell arrives early or is lost), checks stream heads periodically so a
doorbell lost while Redis was down is noticed, keeps presence, and closes sockets
whose session ended or whose user was deactivated.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import socket
import uuid
import weakref
from typing import TYPE_CHECKING

from datetime import datetime

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from . import metrics, processes, wire
from .frames import dumps
from .streams import group_name

if TYPE_CHECKING:
    from .consumer import RealtimeConsumer

log = logging.getLogger(__name__)

PRESENCE_FLUSH_SECONDS = 1.0
PRESENCE_HEARTBEAT_SECONDS = 30
FILL_ATTEMPTS = 40


class Hub:
    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.process_id = f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.started_at = timezone.now()
        self.stopping = False  # daphne is shutting down: no more "I run" (processes.py)
        self.channel: str | None = None
        self.subscribers: dict[str, set[RealtimeConsumer]] = {}
        self.connections: set[RealtimeConsumer] = set()
        # Highest seq dispatched in order per stream, and events parked while a gap fills.
        self.last_seq: dict[str, int] = {}
        self.filling: dict[str, list[tuple[int, str]]] = {}
        # Streams whose group_add failed (Redis down); retried until it works.
        self.unjoined: set[str] = set()
        # Presence: stream -> identity key -> [local socket count, display name].
        self.presence: dict[str, dict[str, list]] = {}
        self.presence_joined: dict[str, dict[str, str]] = {}
        self.presence_left: dict[str, set[str]] = {}
        # Identities that came and went between two flushes: never announced, but a
        # subscribe reply on this process may have listed them (presence_view), so the
        # stream is told they left.
        self.presence_flash: dict[str, set[str]] = {}
        # The names those who left went by, until the flush: one back before it under
        # another name (their socket reconnected because their name was corrected) is
        # renamed for everyone, without a join or a leave.
        self.presence_left_names: dict[str, dict[str, str]] = {}
        self.presence_renamed: dict[str, dict[str, str]] = {}
        # How many people each stream had at the latest presence frame (any process's).
        self.presence_counts: dict[str, int] = {}
        # Events committed in this process, delivered without the layer's round trip.
        self._local: collections.deque[dict] = collections.deque()
        self._local_runner: asyncio.Task | None = None
        # When those joins and leaves happened (and whether a leave was a lost connection),
        # for stream types with an on_presence hook (meeting attendance).
        self.presence_join_at: dict[str, dict[str, datetime]] = {}
        self.presence_leave_at: dict[str, dict[str, tuple[datetime, bool]]] = {}
        self._start_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self._handlers = {
            "bl.event": self._on_event,
            "bl.events": self._on_events,
            "bl.presence": self._on_presence,
            "bl.ephemeral": self._on_ephemeral,
            "bl.evict": self._on_evict,
            "bl.recheck": self._on_recheck,
        }

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        if self._tasks:
            return
        async with self._start_lock:
            if self._tasks or self.layer is None:
                return
            from .events import set_event_loop

            set_event_loop(asyncio.get_running_loop(), self.offer_local)
            try:
                self.channel = await self.layer.new_channel(prefix="hub.")
            except Exception:
                # Redis down while this process starts: serve anyway (the log and the
                # head checks deliver); the receive loop gets a channel once it is back.
                log.warning("no channel-layer channel yet; retrying in the background", exc_info=True)
            self._tasks = [
                asyncio.create_task(self._receive_loop(), name="hub-receive"),
                asyncio.create_task(self._maintenance_loop(), name="hub-maintenance"),
                asyncio.create_task(self._presence_loop(), name="hub-presence"),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []

    # -- membership ------------------------------------------------------------------

    def connection_opened(self, conn: RealtimeConsumer) -> None:
        self.connections.add(conn)

    def connection_closed(self, conn: RealtimeConsumer) -> None:
        self.connections.discard(conn)

    async def add(self, stream: str, conn: RealtimeConsumer) -> None:
        subs = self.subscribers.get(stream)
        if subs is None:
            subs = self.subscribers[stream] = set()
            await self._join(stream)
        subs.add(conn)

    async def _join(self, stream: str) -> None:
        if self.channel is None:
            self.unjoined.add(stream)
            return
        try:
            await self.layer.group_add(group_name(stream), self.channel)
            self.unjoined.discard(stream)
        except Exception:
            # Redis down: head checks deliver meanwhile; maintenance retries the join.
            self.unjoined.add(stream)
            log.warning("group_add failed for %s; will retry", stream, exc_info=True)

    async def retry_joins(self) -> None:
        if self.channel is None:
            try:
                self.channel = await self.layer.new_channel(prefix="hub.")
            except Exception:
                return
            self.unjoined |= set(self.subscribers)
        for stream in list(self.unjoined):
            if stream in self.subscribers:
                await self._join(stream)
            else:
                self.unjoined.discard(stream)

    async def remove(self, stream: str, conn: RealtimeConsumer) -> None:
        subs = self.subscribers.get(stream)
        if subs is None:
            return
        subs.discard(conn)
        if not subs:
            del self.subscribers[stream]
            self.last_seq.pop(stream, None)
            self.filling.pop(stream, None)
            self.presence_counts.pop(stream, None)  # frames stop coming: it would go stale
            if stream in self.unjoined or self.channel is None:
                self.unjoined.discard(stream)
                return
            try:
                await self.layer.group_discard(group_name(stream), self.channel)
            except Exception:
                log.warning("group_discard failed for %s", stream, exc_info=True)

    def note_head(self, stream: str, head: int) -> None:
        """A subscriber read the head from the log; start ordering from there."""
        if stream in self.subscribers:
            self.last_seq.setdefault(stream, head)

    # -- receiving -------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        while True:
            if self.channel is None:
                await asyncio.sleep(1)  # retry_joins creates it once the layer answers
                continue
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("hub receive failed; retrying", exc_info=True)
                await asyncio.sleep(1)
                continue
            handler = self._handlers.get(message.get("type"))
            if handler is None:
                continue
            try:
                await handler(message)
            except Exception:
                log.exception("hub handler failed for %s", message.get("type"))

    def offer_local(self, message: dict) -> bool:
        """An event committed by this process, handed over on the loop in commit order.

        True: this hub has it (or has nobody who wants it), so a channel layer that
        reaches only this process (the in-memory one) need not carry it too.
        """
        if message["stream"] not in self.subscribers:
            return True
        self._local.append(message)
        if self._local_runner is None or self._local_runner.done():
            self._local_runner = asyncio.get_running_loop().create_task(self._run_local())
        return True

    async def _run_local(self) -> None:
        # Between events, yield to the loop: the replies to the batch that committed
        # them, and frames that arrived meanwhile (the next writes, which then reach the
        # batcher while this batch still fans out), do not wait for all of its events.
        while self._local:
            message = self._local.popleft()
            try:
                await self._on_event(message)
            except Exception:
                log.exception("local delivery failed for %s#%s", message["stream"], message["seq"])
            if self._local:
                await asyncio.sleep(0)

    async def _on_events(self, message: dict) -> None:
        """Consecutive events of one stream in one message (realtime/events.py bundles them)."""
        stream = message["stream"]
        for seq, frame in message["events"]:
            await self._on_event({"stream": stream, "seq": seq, "frame": frame})

    async def _on_event(self, message: dict) -> None:
        stream, seq, frame = message["stream"], message["seq"], message["frame"]
        if stream not in self.subscribers:
            return
        parked = self.filling.get(stream)
        if parked is not None:
            parked.append((seq, frame))
            return
        last = self.last_seq.get(stream)
        if last is None or seq == last + 1:
            self.last_seq[stream] = seq
            await self._dispatch(stream, seq, frame)
        elif seq > last + 1:
            self.filling[stream] = [(seq, frame)]
            asyncio.create_task(self._fill(stream))
        # seq <= last: already delivered (a gap fill got there first).

    async def _dispatch(self, stream: str, seq: int, frame: str) -> None:
        subs = self.subscribers.get(stream)
        if not subs:
            return
        prepared = None
        slow = []
        for conn in tuple(subs):
            if conn.writer is not None:
                if prepared is None:
                    prepared = wire.Prepared(frame)  # encoded and framed once per event
                if conn.deliver_now(stream, seq, prepared):
                    continue
            slow.append(conn)
        metrics.DELIVERED.inc(len(subs) - len(slow))  # once per event, not per socket
        for conn in slow:  # catching up, gap, or not on daphne: the ordinary path
            await conn.deliver(stream, seq, frame)

    async def _fill(self, stream: str) -> None:
        """Deliver the events between what this process has sent and what just arrived."""
        from .selectors import event_frames_after

        try:
            for _attempt in range(FILL_ATTEMPTS):
                if stream not in self.subscribers:
                    return
                last = self.last_seq.get(stream, 0)
                parked = self.filling.get(stream, [])
                target = max((s for s, _ in parked), default=last)
                if target > last + 1 or (target > last and not parked):
                    rows = await database_sync_to_async(event_frames_after)(stream, last, target - last)
                    for seq, frame in rows:
                        if seq == self.last_seq.get(stream, 0) + 1:
                            self.last_seq[stream] = seq
                            await self._dispatch(stream, seq, frame)
                parked = sorted(self.filling.get(stream, []))
                still: list[tuple[int, str]] = []
                for seq, frame in parked:
                    last = self.last_seq.get(stream, 0)
                    if seq <= last:
                        continue
                    if seq == last + 1 and not still:
                        self.last_seq[stream] = seq
                        await self._dispatch(stream, seq, frame)
                    else:
                        still.append((seq, frame))
                if not still:
                    return
                self.filling[stream] = still
                # An event beyond what the log showed us: its writer committed after our
                # read. Look again shortly.
                await asyncio.sleep(0.05)
            # Give up ordering here; each subscriber fills its own gap from the log.
            for seq, frame in sorted(self.filling.get(stream, [])):
                self.last_seq[stream] = max(seq, self.last_seq.get(stream, 0))
                await self._dispatch(stream, seq, frame)
        except Exception:
            log.exception("gap fill failed for %s", stream)
        finally:
            self.filling.pop(stream, None)

    async def check_heads(self) -> None:
        """Catch events whose doorbell never rang (Redis restarted, message dropped)."""
        from .selectors import stream_heads

        streams = [s for s in self.subscribers if s not in self.filling and s in self.last_seq]
        if not streams:
            return
        heads = await database_sync_to_async(stream_heads)(streams)
        for stream, head in heads.items():
            last = self.last_seq.get(stream)
            if last is not None and head > last and stream not in self.filling:
                self.filling[stream] = []
                asyncio.create_task(self._fill_to(stream, head))

    async def _fill_to(self, stream: str, head: int) -> None:
        from .selectors import event_frames_after

        try:
            last = self.last_seq.get(stream, 0)
            rows = await database_sync_to_async(event_frames_after)(stream, last, head - last)
            for seq, frame in rows:
                if seq == self.last_seq.get(stream, 0) + 1:
                    self.last_seq[stream] = seq
                    await self._dispatch(stream, seq, frame)
            for seq, frame in sorted(self.filling.get(stream, [])):
                if seq == self.last_seq.get(stream, 0) + 1:
                    self.last_seq[stream] = seq
                    await self._dispatch(stream, seq, frame)
        except Exception:
            log.exception("head fill failed for %s", stream)
        finally:
            parked = self.filling.pop(stream, None) or []
            if any(seq > self.last_seq.get(stream, 0) for seq, _ in parked):
                self.filling[stream] = [p for p in parked if p[0] > self.last_seq.get(stream, 0)]
                asyncio.create_task(self._fill(stream))

    # -- presence --------------------------------------------------------------------

    def presence_join(self, stream: str, key: str, name: str) -> None:
        entry = self.presence.setdefault(stream, {}).setdefault(key, [0, name])
        entry[0] += 1
        if entry[0] == 1:
            self.presence_flash.get(stream, set()).discard(key)
            if key in self.presence_left.get(stream, ()):
                self.presence_left[stream].discard(key)
                self.presence_leave_at.get(stream, {}).pop(key, None)
                if self.presence_left_names.get(stream, {}).pop(key, name) != name:
                    self.presence_renamed.setdefault(stream, {})[key] = name
            else:
                self.presence_joined.setdefault(stream, {})[key] = name
                self.presence_join_at.setdefault(stream, {})[key] = timezone.now()

    def presence_leave(self, stream: str, key: str, *, at: datetime | None = None, lost: bool = False) -> None:
        """One socket of `key` left; `at` is its last sign of life when the connection was lost."""
        entries = self.presence.get(stream, {})
        entry = entries.get(key)
        if entry is None:
            return
        entry[0] -= 1
        if entry[0] <= 0:
            del entries[key]
            if not entries:
                self.presence.pop(stream, None)
            if key in self.presence_joined.get(stream, {}):
                del self.presence_joined[stream][key]
                self.presence_join_at.get(stream, {}).pop(key, None)
                self.presence_flash.setdefault(stream, set()).add(key)
            else:
                self.presence_left.setdefault(stream, set()).add(key)
                self.presence_leave_at.setdefault(stream, {})[key] = (at or timezone.now(), lost)
                self.presence_left_names.setdefault(stream, {})[key] = entry[1]

    def known_count(self, stream: str) -> int | None:
        """The stream's people at the latest presence frame, with this process's joins
        since (not flushed yet); None before any frame."""
        count = self.presence_counts.get(stream)
        if count is None:
            return None
        return max(count + len(self.presence_joined.get(stream, ())), len(self.presence.get(stream, ())))

    def presence_view(self, stream: str, listed: list[tuple[str, str]] | None, count: int, limit: int) -> tuple[list[dict], int]:
        """What a subscriber is told: everyone (at most `limit`) and how many, or, past
        the limit, only how many. `listed` is the database's list, None past the limit;
        this process's own people are added to it (their joins may not be flushed yet)."""
        local = self.presence.get(stream, {})
        if listed is None or len(local) > limit:
            return [], max(count, len(local))
        people = dict(listed)
        for key, entry in local.items():
            people[key] = entry[1]
        if len(people) > limit:
            return [], max(count, len(people))
        return [{"id": key, "name": name} for key, name in sorted(people.items())], len(people)

    async def _presence_loop(self) -> None:
        from . import presence

        since_heartbeat = 0.0
        while True:
            await asyncio.sleep(PRESENCE_FLUSH_SECONDS)
            since_heartbeat += PRESENCE_FLUSH_SECONDS
            try:
                joined = {s: d for s, d in self.presence_joined.items() if d}
                left = {s: k for s, k in self.presence_left.items() if k}
                flash = {s: k for s, k in self.presence_flash.items() if k}
                renamed = {s: d for s, d in self.presence_renamed.items() if d}
                join_at, leave_at = self.presence_join_at, self.presence_leave_at
                self.presence_joined, self.presence_left, self.presence_flash = {}, {}, {}
                self.presence_join_at, self.presence_leave_at = {}, {}
                self.presence_left_names, self.presence_renamed = {}, {}
                stale: dict[str, set[str]] = {}
                stale_seen: dict[tuple[str, str], datetime] = {}
                gone: dict[str, set[str]] = {}
                if joined or left or flash or renamed:
                    asked = {s: left.get(s, set()) | flash.get(s, set()) for s in set(left) | set(flash)}
                    gone = await database_sync_to_async(presence.record_changes)(
                        self.process_id, joined, asked, renamed)
                    # Stays the hooks (attendance) never heard begin do not end for them.
                    left = {s: keys & left[s] for s, keys in gone.items() if keys & left.get(s, set())}
                if since_heartbeat >= PRESENCE_HEARTBEAT_SECONDS:
                    since_heartbeat = 0.0
                    stale = await database_sync_to_async(presence.heartbeat)(self.process_id, seen=stale_seen)
                await self._presence_hooks(joined, left, stale, join_at, leave_at, stale_seen)
                changed = [
                    stream
                    for stream in set(joined) | set(gone) | set(stale) | set(renamed)
                    if joined.get(stream) or gone.get(stream) or stale.get(stream) or renamed.get(stream)
                ]
                counts = await database_sync_to_async(presence.counts_on)(changed) if changed else {}
                for stream in changed:
                    message = {
                        "type": "bl.presence",
                        "stream": stream,
                        # A renamed one is listed as joined: clients take the name they
                        # are given for a key (the hooks above never hear of it).
                        "joined": [{"id": k, "name": n}
                                   for k, n in (joined.get(stream, {}) | renamed.get(stream, {})).items()],
                        "left": sorted(set(gone.get(stream, ())) | stale.get(stream, set())),
                        "count": counts.get(stream, 0),
                    }
                    await self.layer.group_send(group_name(stream), message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("presence flush failed", exc_info=True)

    async def _presence_hooks(self, joined, left, stale, join_at, leave_at, stale_seen) -> None:
        """Tell stream types that asked (on_presence) who really came and went, and when."""
        from .streams import parse_stream_key

        calls = []
        for stream in set(joined) | set(left) | set(stale):
            try:
                stream_type, object_id = parse_stream_key(stream)
            except Exception:
                continue
            if stream_type.on_presence is None:
                continue
            now = timezone.now()
            came = {key: join_at.get(stream, {}).get(key, now) for key in joined.get(stream, {})}
            went = {key: leave_at.get(stream, {}).get(key, (now, False)) for key in left.get(stream, ())}
            for key in stale.get(stream, ()):
                went[key] = (stale_seen.get((stream, key), now), True)
            if came or went:
                calls.append((stream_type.on_presence, object_id, came, went))
        if not calls:
            return

        def run() -> None:
            for hook, object_id, came, went in calls:
                try:
                    hook(object_id, came, went)
                except Exception:
                    log.exception("presence hook failed for %s", object_id)

        await database_sync_to_async(run)()

    async def _on_evict(self, message: dict) -> None:
        """Unsubscribe one identity's sockets from a stream (a participant removed from a meeting)."""
        stream, identity = message["stream"], message["identity"]
        for conn in tuple(self.subscribers.get(stream, ())):
            if conn.identity.key == identity:
                await conn.evict(stream, message["frame"])

    async def _on_recheck(self, message: dict) -> None:
        """One identity's rights changed, or the person did (realtime.ephemeral.recheck):
        each of its sockets here keeps only the streams it may still read; one that
        holds an old copy of the person reconnects (4012), one whose session ended
        closes (4401), as at the periodic session check but at once."""
        identity = message["identity"]
        conns = [conn for conn in tuple(self.connections) if conn.identity.key == identity]
        if not conns:
            return
        from .sessions import check_identities
        from .streams import parse_stream_key

        def refused(streams: set[str], who) -> set[str]:
            out = set()
            for key in streams:
                try:
                    stream_type, object_id = parse_stream_key(key)
                    if not stream_type.can_read(who, object_id):
                        out.add(key)
                except Exception:
                    log.exception("rechecking %s for %s", key, identity)
            return out

        def reads(streams: set[str], who) -> tuple[set[str], tuple[set, set]]:
            return refused(streams, who), check_identities([conn.identity for conn in conns])

        pending = {key for conn in conns for key in conn.subscriptions}
        gone, (bad, changed) = await database_sync_to_async(reads)(pending, conns[0].identity)
        frames = {key: dumps({"op": "unsubscribed", "stream": key, "reason": "forbidden"}) for key in gone}
        for conn in conns:
            if conn.identity in bad:
                await conn.close_for_auth()
            elif conn.identity in changed:
                await conn.close_to_refresh()  # the new socket reads only what it may
            else:
                for key in gone & set(conn.subscriptions):
                    await conn.evict(key, frames[key])

    async def _on_presence(self, message: dict) -> None:
        stream = message["stream"]
        subs = self.subscribers.get(stream)
        if not subs:
            return
        count = message.get("count")  # absent from a process that predates it
        if count is None:
            frame = {"op": "presence", "stream": stream, "joined": message["joined"], "left": message["left"]}
        else:
            self.presence_counts[stream] = count
            frame = {"op": "presence", "stream": stream, "count": count}
            # Past the limit only the count goes out: a crowd's comings and goings sent to
            # the whole crowd grow with its size squared.
            if count <= settings.BRANCHLINE_REALTIME["PRESENCE_LIST_MAX"]:
                frame["joined"], frame["left"] = message["joined"], message["left"]
        await self._send_to(tuple(subs), dumps(frame))

    async def _on_ephemeral(self, message: dict) -> None:
        exclude = message.get("exclude")
        subs = self.subscribers.get(message["stream"], ())
        await self._send_to([conn for conn in subs if conn.connection_id != exclude], message["frame"])

    async def _send_to(self, conns, frame: str) -> None:
        """One frame to many sockets, framed once for those on the fast path."""
        prepared = None
        for conn in conns:
            if prepared is None and conn.writer is not None:
                prepared = wire.Prepared(frame)
            await conn.send_text(frame, prepared)

    # -- maintenance -----------------------------------------------------------------

    async def _maintenance_loop(self) -> None:
        conf = settings.BRANCHLINE_REALTIME
        head_every = max(1, conf["HEAD_CHECK_SECONDS"])
        session_every = max(1, conf["SESSION_CHECK_SECONDS"])
        elapsed = 0
        while True:
            await asyncio.sleep(1)
            elapsed += 1
            try:
                if self.unjoined or self.channel is None:
                    await self.retry_joins()
                if elapsed % head_every == 0:
                    await self.check_heads()
                if elapsed % session_every == 0:
                    await self.check_sessions()
                # "I run" (processes.py): a second after the start, then every 30 s.
                if elapsed % processes.PROCESS_HEARTBEAT_SECONDS == 1 and not self.stopping:
                    await database_sync_to_async(processes.heartbeat)(self.process_id, self.started_at)
                await self.run_due_jobs(elapsed)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("hub maintenance failed", exc_info=True)

    async def run_due_jobs(self, elapsed: int) -> None:
        from .scheduler import periodic_jobs

        for job in periodic_jobs():
            if elapsed % job.every_seconds == 0:
                try:
                    await database_sync_to_async(job.run)()
                except Exception:
                    metrics.JOBS.labels(job.name, "failed").inc()
                    log.exception("periodic job %s failed", job.name)
                else:
                    metrics.JOBS.labels(job.name, "ok").inc()

    async def check_sessions(self) -> None:
        """Close sockets of users who logged out or were deactivated, and gone citizens;
        ask those whose person changed (a corrected name) to reconnect at once, which
        gives them the person as they are now (nothing is lost: they resume)."""
        from .sessions import check_identities

        conns = [c for c in self.connections if c.identity.kind != "anonymous"]
        if not conns:
            return
        bad, changed = await database_sync_to_async(check_identities)([c.identity for c in conns])
        for conn in conns:
            try:
                if conn.identity in bad:
                    await conn.close_for_auth()
                elif conn.identity in changed:
                    await conn.close_to_refresh()
            except Exception:  # one socket's trouble must not spare the others
                log.warning("could not close a socket after the session check", exc_info=True)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


async def get_hub() -> Hub:
    """The hub of the running event loop (one per process in production)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub()
    await hub.start()
    return hub


def start_with_the_server() -> None:
    """Start this process's hub as soon as daphne's reactor runs, not at the first
    WebSocket: its maintenance loop runs the periodic jobs (scheduled announcements,
    topic discussions, meeting reminders, the mail of unread notifications, the daily
    digest), which are due whether or not anyone has a page open; a process restarted
    at night would otherwise hold them until the morning's first visitor.

    daphne runs Twisted's asyncio reactor and has no ASGI lifespan, so the start is
    queued on the reactor. Outside daphne (tests, management commands) there is no such
    reactor and nothing is queued; the first WebSocket starts the hub as before."""
    import sys

    if "twisted.internet.reactor" not in sys.modules:
        return
    from twisted.internet import asyncioreactor, reactor

    if not isinstance(reactor, asyncioreactor.AsyncioSelectorReactor):
        return

    async def start() -> None:
        try:
            await get_hub()
        except Exception:  # the first WebSocket tries again
            log.exception("could not start the hub with the server")

    # callWhenRunning fires before the loop turns; callLater(0) runs inside it.
    reactor.callWhenRunning(lambda: reactor.callLater(0, lambda: asyncio.ensure_future(start())))

    def say_gone() -> None:
        """On daphne's clean shutdown (SIGTERM, Ctrl-C), take this process off the list of
        running ones, so a restore right after need not wait for its row to go stale.
        In a thread of its own: the ORM may not run on the loop's thread."""
        import threading

        from django.db import connections

        hubs = list(_hubs.values())
        for hub in hubs:
            hub.stopping = True
        names = [hub.process_id for hub in hubs]
        if not names:
            return

        def run() -> None:
            try:
                processes.gone(names)
            except Exception:
                log.warning("could not say this process stopped", exc_info=True)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run, name="hub-gone")
        thread.start()
        thread.join(5)

    reactor.addSystemEventTrigger("before", "shutdown", say_gone)
