"""Appending to a stream's durable log and ringing the doorbell after commit.

Only `*/actions.py` call `append_event`. The event row is written in the caller's
transaction; the channel-layer message goes out in `transaction.on_commit`, so a
rolled-back write is never broadcast.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Iterator

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.identity import Identity
from server.db.prepared import hot

from . import metrics
from .frames import event_frame
from .models import Event, Stream
from .sql import flush_held, held, insert_row
from .streams import group_name, keep_days

log = logging.getLogger(__name__)

# Retention runs on a stream every this many appends, inside the appending transaction.
PRUNE_EVERY = 200


@dataclass(frozen=True, slots=True)
class AppendedEvent:
    stream: str
    seq: int
    type: str
    data: dict
    frame: str


# Test helpers subscribe here to see exactly what an action appended (realtime.testing).
_listeners: list[Callable[[AppendedEvent], None]] = []


_BUMP_HEAD = f"UPDATE {Stream._meta.db_table} SET last_seq = last_seq + 1 WHERE key = %s RETURNING last_seq"
_SET_HEAD = f"UPDATE {Stream._meta.db_table} SET last_seq = %s WHERE key = %s"


def _reserving(model: type[models.Model] | None, pending) -> tuple[str, list]:
    """The RETURNING addition that draws primary keys of `model` for this stream's
    appends in the pass: as many as the pass has writes."""
    if model is None or pending is None or connection.vendor != "postgresql":
        return "", []
    meta = model._meta
    return ", ARRAY(SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s))", [
        meta.db_table, meta.pk.column, pending.memo.get("writes", 1)
    ]


def take_reserved_pk(stream_key: str, model: type[models.Model]) -> int | None:
    """A primary key for a new `model` row, drawn ahead by this stream's head update in
    the current pass; None: insert the row and let the database pick (RETURNING)."""
    pending = held()
    if pending is None:
        return None
    pool = pending.memo.get(("reserved", stream_key, model._meta.db_table))
    return pool.pop(0) if pool else None


# PostgreSQL, a batch's optimistic pass: the head UPDATEs of the streams its writes
# declared they append to (`register_op(appends=…)`) go out with the transaction's
# BEGIN and first statement (server/db/postgresql), not in a round trip of their own
# when the first event is appended. A lone post then takes two round trips, not three.
# A head moved that way and not appended to by the pass would leave a hole in its
# seqs: the pass then does not commit (`check_rides`) and the careful pass, which
# rides nothing, runs the writes again.


def ride_heads(hints: list[tuple[str, type[models.Model] | None]], pending) -> None:
    """Queue the heads' UPDATEs to go with BEGIN. `hints`: (stream, model whose keys its
    first append draws, or None) per write that declared one."""
    if not hints or not hasattr(connection, "ride_with_begin"):
        return
    models_by_stream: dict[str, type[models.Model] | None] = {}
    for stream, model in hints:
        models_by_stream.setdefault(stream, model)
    riding = sorted(models_by_stream)  # one order for every batch: head locks taken alike
    statements = []
    for stream in riding:
        returning, extra = _reserving(models_by_stream[stream], pending)
        statements.append((hot(_BUMP_HEAD + returning), [stream, *extra]))
    pending.memo["riding"] = {stream: (i, models_by_stream[stream]) for i, stream in enumerate(riding)}
    pending.memo["rode"] = set()
    connection.ride_with_begin(statements)


def _rode(stream_key: str, reserve: type[models.Model] | None, pending) -> tuple | None:
    """The row of this stream's head UPDATE, if it went with BEGIN; None: run it now."""
    riding = pending.memo.get("riding") if pending is not None else None
    if not riding or stream_key not in riding:
        return None
    if connection.rides_pending():
        # Nothing has reached the database yet in this transaction: this UPDATE would be
        # the statement they ride with, and move the head twice.
        connection.ride_with_begin([])
        pending.memo["riding"] = {}
        return None
    rows = connection.ridden()
    index, model = riding[stream_key]
    row = rows[index] if rows is not None else None
    if row is None or model is not reserve:  # no head row yet, or keys of another table
        return None
    pending.memo["rode"].add(stream_key)
    return row


def drop_rides() -> None:
    """End of a pass: rides never sent are never sent with a later transaction."""
    if hasattr(connection, "ride_with_begin") and connection.rides_pending():
        connection.ride_with_begin([])


def check_rides(pending) -> None:
    """Before the commit: every head that moved with BEGIN was appended to."""
    riding = pending.memo.get("riding")
    if not riding:
        return
    rows = connection.ridden()
    if rows is None:
        return  # they never went out
    unused = [s for s, (i, _) in riding.items() if rows[i] is not None and s not in pending.memo["rode"]]
    if unused:
        raise RuntimeError(f"heads moved with BEGIN and not appended to: {unused}")


def _next_seq(stream_key: str, reserve: type[models.Model] | None = None) -> int:
    pending = held()
    heads = pending.memo.setdefault("stream heads", {}) if pending is not None else None
    if heads is not None and stream_key in heads:
        # In a batch's optimistic pass, after this transaction's first append to the
        # stream: the UPDATE of that append holds the head's row lock until commit, so
        # no other writer can move it and the next seq is ours to count. The head is
        # written once, by the flush before the commit.
        seq = heads[stream_key] = heads[stream_key] + 1
        pending.hold_statement(("stream head", stream_key), _SET_HEAD, [seq, stream_key])
        return seq
    # Ids drawn here, under the head's row lock, follow the stream's seqs: a later
    # writer of the stream waits for this commit before drawing its own.
    returning, extra = _reserving(reserve, pending)
    row = _rode(stream_key, reserve, pending)
    if row is None:
        bump = hot(_BUMP_HEAD + returning)
        with connection.cursor() as cursor:
            cursor.execute(bump, [stream_key, *extra])
            row = cursor.fetchone()
            if row is None:
                Stream.objects.bulk_create([Stream(key=stream_key)], ignore_conflicts=True)
                cursor.execute(bump, [stream_key, *extra])
                row = cursor.fetchone()
    seq = int(row[0])
    if heads is not None:
        heads[stream_key] = seq
    if returning:
        pending.memo[("reserved", stream_key, reserve._meta.db_table)] = list(row[1])
    return seq



def append_event(
    stream_key: str,
    type_: str,
    data: dict | Callable[[int], dict],
    *,
    actor: Identity | None = None,
    reserve: type[models.Model] | None = None,
) -> AppendedEvent:
    """Append one event; `data` may be a function of the new seq, for payloads that
    carry their own position (an announcement's `seq`). `reserve`: the model of a row
    that function inserts, whose key it may take with `take_reserved_pk` and then hold
    the row (realtime/sql.py) instead of waiting for an INSERT … RETURNING."""
    if not connection.in_atomic_block:
        raise RuntimeError("append_event must run inside the action's transaction")
    seq = _next_seq(stream_key, reserve)
    if callable(data):
        data = data(seq)
    now = timezone.now()
    insert_row(
        Event, hold=True, stream=stream_key, seq=seq, type=type_, data=data, actor=actor.key if actor else "", created_at=now
    )
    if seq % PRUNE_EVERY == 0:
        prune_stream(stream_key, head=seq)
    appended = AppendedEvent(stream_key, seq, type_, data, event_frame(stream_key, seq, type_, data, now))
    for listener in list(_listeners):
        listener(appended)
    transaction.on_commit(lambda: publish(appended))
    return appended


# The server's event loop and its hub's local entry, registered by the hub when it
# starts (one per process).
_loop: asyncio.AbstractEventLoop | None = None
_local: Callable[[dict], None] | None = None


def set_event_loop(loop: asyncio.AbstractEventLoop, local: Callable[[dict], None] | None = None) -> None:
    global _loop, _local
    _loop, _local = loop, local


# Doorbells handed to the loop: held here so they are not garbage-collected mid-send.
_in_flight: set[asyncio.Task] = set()

# Doorbells from database threads wait here for the loop; one wake-up carries all that
# queued meanwhile (a batch of writes commits many events at once).
_handover: list[tuple[object, str, dict]] = []
_handover_lock = threading.Lock()


def _keep(coro) -> None:
    """Run `coro` on this loop, held until done."""
    task = asyncio.get_running_loop().create_task(coro)
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)


def _ring_later(layer, group: str, message: dict) -> None:
    _keep(_send_logged(layer, group, message))


def _server_loop_elsewhere() -> asyncio.AbstractEventLoop | None:
    """The server's running loop when called from another thread (a database thread);
    None on the loop itself, or outside the server (management commands)."""
    loop = _loop
    if loop is None or not loop.is_running():
        return None
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return loop
    return None


# One channel-layer message carries the consecutive events of a stream that one
# wake-up hands over (a batch of writes), up to about this many bytes of frames.
# Publishing an event to Redis and reading its copy back cost the loop more than
# fanning it out to 100 local sockets (a py-spy profile, docs/realtime.md).
BUNDLE_BYTES = 256 * 1024


def _bundled(messages: list[dict]) -> dict:
    if len(messages) == 1:
        return messages[0]
    return {"type": "bl.events", "stream": messages[0]["stream"], "events": [[m["seq"], m["frame"]] for m in messages]}


def _ring(waiting: list[tuple[object, str, dict]]) -> None:
    local = _local
    bundle: list[dict] = []
    size = 0
    for i, (layer, group, message) in enumerate(waiting):
        # This process's own subscribers get the event now, not after the channel
        # layer's round trip; the layer's copy of it is then a duplicate the hub drops,
        # and is not sent at all when the layer reaches no other process (in-memory).
        if isinstance(layer, InMemoryChannelLayer):
            if local is None or not local(message):
                _ring_later(layer, group, message)
            continue
        bundle.append(message)
        size += len(message["frame"])
        following = waiting[i + 1] if i + 1 < len(waiting) else None
        if following is None or following[:2] != (layer, group) or size >= BUNDLE_BYTES:
            # The doorbell for the other processes is sent first (tasks start in the
            # order they were made), so their fan-out overlaps this one.
            _ring_later(layer, group, _bundled(bundle))
            if local is not None:
                for one in bundle:
                    local(one)
            bundle, size = [], 0


# A writer thread running a batch holds its doorbells back: they go to the loop with
# the batch's outcomes, in the one callback that rings them and then settles the
# writes (realtime/batching.py). A wake-up of their own could let the loop fan an
# event out before the write that made it has its reply ready, when the thread is slow
# to hand the outcomes over; the writer's socket is owed the reply first.
_holding = threading.local()


@contextmanager
def doorbells_held() -> Iterator[list]:
    """In a database thread: what commits meanwhile collects in the list yielded, for
    ring() on the loop, instead of waking it."""
    _holding.doorbells = held = []
    try:
        yield held
    finally:
        _holding.doorbells = None


def ring(doorbells: list) -> None:
    """On the loop: send doorbells collected under doorbells_held()."""
    if doorbells:
        _ring(doorbells)


def _ring_handed_over() -> None:
    with _handover_lock:
        waiting = _handover[:]
        _handover.clear()
    _ring(waiting)


def _hand_over(loop: asyncio.AbstractEventLoop, layer, group: str, message: dict) -> None:
    held = getattr(_holding, "doorbells", None)
    if held is not None:
        held.append((layer, group, message))
        return
    with _handover_lock:
        _handover.append((layer, group, message))
        wake = len(_handover) == 1
    if wake:
        loop.call_soon_threadsafe(_ring_handed_over)


async def _send_logged(layer, group: str, message: dict) -> None:
    try:
        await layer.group_send(group, message)
    except Exception:
        metrics.PUBLISH_FAILED.inc()
        seqs = [seq for seq, _ in message["events"]] if "events" in message else [message["seq"]]
        log.warning("could not publish %s#%s", message["stream"], ",".join(map(str, seqs)), exc_info=True)


def publish(event: AppendedEvent) -> None:
    """Ring the doorbell: one channel-layer message, reaching each process once.

    From a database thread of the server the send is handed to the event loop and not
    waited for: the write op returns (and the thread takes the next write) while the
    loop may still be fanning out an earlier event. Hand-overs keep their order, and a
    doorbell that still overtakes another is put in order by the hub's gap fill.
    """
    metrics.EVENTS.labels(event.stream.partition(":")[0]).inc()  # committed (this runs on commit)
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "bl.event", "stream": event.stream, "seq": event.seq, "frame": event.frame}
    loop = _server_loop_elsewhere()
    if loop is not None:  # in a database thread: hand over and return
        _hand_over(loop, layer, group_name(event.stream), message)
        return
    try:
        async_to_sync(layer.group_send)(group_name(event.stream), message)
    except Exception:
        metrics.PUBLISH_FAILED.inc()
        # The log already holds the event; subscribers recover it on the next event,
        # on the periodic head check, or on resume. A lost doorbell is never fatal.
        log.warning("could not publish %s#%s", event.stream, event.seq, exc_info=True)


def send_soon(group: str, message: dict, what: str) -> None:
    """A channel-layer message that is not an event (an ephemeral frame, an eviction).

    From a database thread of the server it is handed to the event loop and not waited
    for, as doorbells are: asgiref's async_to_sync finds the server's loop only from
    its own worker thread, and from the writer thread (realtime/batching.py) would run
    the send on a new loop of its own. Outside the server it is sent at once.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _server_loop_elsewhere()
    if loop is not None:
        loop.call_soon_threadsafe(lambda: _keep(_send_noting(layer, group, message, what)))
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        log.warning("could not send %s", what, exc_info=True)


async def _send_noting(layer, group: str, message: dict, what: str) -> None:
    try:
        await layer.group_send(group, message)
    except Exception:
        log.warning("could not send %s", what, exc_info=True)


def prune_stream(stream_key: str, *, head: int | None = None) -> int:
    """Apply retention (age and count) to one stream; returns events removed."""
    conf = settings.BRANCHLINE_REALTIME
    flush_held()  # the rules below must see every event appended so far
    if head is None:
        head = Stream.objects.filter(key=stream_key).values_list("last_seq", flat=True).first() or 0
    keep_from = head - conf["RETENTION_EVENTS"] + 1
    cutoff = timezone.now() - timedelta(days=keep_days(stream_key))
    oldest_young = (
        Event.objects.filter(stream_id=stream_key, created_at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
    )
    # Keep the newest N and nothing older than the cutoff; seqs grow with time, so
    # both rules cut the log at one seq.
    limit = max(keep_from, head + 1 if oldest_young is None else oldest_young)
    removed, _ = Event.objects.filter(stream_id=stream_key, seq__lt=limit).delete()
    if removed:
        Stream.objects.filter(key=stream_key, trimmed_through__lt=limit - 1).update(trimmed_through=limit - 1)
    return removed
