"""Fan-out fast path on daphne: frame an event once, write the same bytes to every socket.

The ASGI path costs, per socket and event: three coroutine layers (consumer ->
channels' session wrapper -> daphne's handle_reply), a UTF-8 encode and WebSocket
framing in autobahn, and Twisted's buffered write (epoll add_writer, a loop pass,
send, epoll remove_writer). Here the hub prepares one autobahn PreparedMessage per
event and each socket gets it with

  mode "direct" (default): socket.send() straight away when Twisted has nothing
      buffered for that socket (the usual case), else appended to Twisted's buffer, so
      byte order on the wire is kept;
  mode "prepared": protocol.sendPreparedMessage() (autobahn's own broadcast helper).

Anything unexpected (not daphne, TLS, compression, socket not open) answers None /
False and the caller falls back to the ordinary ASGI send.

A socket whose reader stopped reading (a phone put away, a stalled network) would
otherwise make Twisted buffer every later frame for it, without limit, until daphne's
ping timeout notices. The writer counts what waits in Twisted's buffer for its socket
and drops the connection once that exceeds `limit` beyond the largest frame the socket
was sent (so one big snapshot never counts against it): the buffered frames are freed
at once, the client sees an abnormal close and resumes from its last seq, and the log
has everything it missed (docs/protocol.md).
"""

from __future__ import annotations

import functools
import logging
import os

try:
    from autobahn.websocket.protocol import PreparedMessage, WebSocketProtocol
except ImportError:  # pragma: no cover - not served by daphne
    PreparedMessage = WebSocketProtocol = None

# An operator's switch, should a daphne/Twisted upgrade ever disagree with the fast path.
MODE = os.environ.get("WS_FANOUT_FASTPATH", "direct")  # direct | prepared | off
_OPEN = getattr(WebSocketProtocol, "STATE_OPEN", 3)

log = logging.getLogger(__name__)


class Prepared:
    """One event frame, encoded and framed once, shared by every socket."""

    __slots__ = ("text", "message")

    def __init__(self, text: str) -> None:
        self.text = text
        self.message = PreparedMessage(text.encode("utf-8"), False, False, False)


def _find_protocol(send):
    """Walk channels' send wrappers down to daphne's partial(handle_reply, protocol)."""
    for _ in range(8):
        if isinstance(send, functools.partial):
            proto = send.args[0] if send.args else None
            return proto if hasattr(proto, "sendPreparedMessage") and hasattr(proto, "transport") else None
        nxt = getattr(getattr(send, "__self__", None), "real_send", None)
        if nxt is None:
            return None
        send = nxt
    return None


class SocketWriter:
    __slots__ = ("protocol", "direct", "limit", "largest", "dropped")

    def __init__(self, protocol, direct: bool, limit: int) -> None:
        self.protocol, self.direct, self.limit = protocol, direct, limit
        self.largest = 0  # bytes of the largest frame queued on this socket
        self.dropped = False

    @classmethod
    def for_send(cls, send, limit: int) -> "SocketWriter | None":
        if MODE == "off" or PreparedMessage is None:
            return None
        proto = _find_protocol(send)
        if proto is None:
            return None
        transport = proto.transport
        direct = MODE == "direct" and not getattr(transport, "TLS", False) and hasattr(transport, "socket") \
            and hasattr(transport, "_tempDataLen") and hasattr(transport, "dataBuffer")
        return cls(proto, direct, limit)

    def queued(self) -> int:
        """Bytes waiting in the server for this socket (not yet taken by the kernel)."""
        t = self.protocol.transport
        try:
            waiting = len(t.dataBuffer) - t.offset + t._tempDataLen
        except (AttributeError, TypeError):  # not a plain Twisted TCP transport
            return 0
        return waiting + sum(len(item[0]) for item in self.protocol.send_queue or ())

    def write(self, prepared: Prepared) -> bool:
        """Send one prepared event frame; False: use the ASGI path instead."""
        if self.dropped:
            return True  # the connection is going; its disconnect cleans up
        proto = self.protocol
        if proto.state != _OPEN:
            return False
        data = prepared.message.payloadHybi
        if self.direct and proto._perMessageCompress is None and not proto.send_queue:
            t = proto.transport
            if t.connected and not t.disconnecting and not t._tempDataLen and len(t.dataBuffer) == t.offset:
                try:
                    sent = t.socket.send(data)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                except OSError:
                    return False  # the socket is going; let Twisted and the ASGI path notice
                if sent < len(data):
                    self._note(len(data))
                    t.write(data[sent:])
                return True
        waiting = self.queued()
        if waiting > self.limit + self.largest:
            self._drop(waiting)
            return True
        self._note(len(data))
        proto.sendPreparedMessage(prepared.message)
        return True

    def _note(self, size: int) -> None:
        if size > self.largest:
            self.largest = size

    def _drop(self, waiting: int) -> None:
        self.dropped = True
        log.info("dropping a socket that stopped reading: %d bytes were waiting for it (limit %d)", waiting, self.limit)
        transport = self.protocol.transport
        abort = getattr(transport, "abortConnection", None)
        if abort is not None:
            abort()  # frees what Twisted holds for it; daphne then reports the disconnect
        else:
            transport.loseConnection()
