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
"""

from __future__ import annotations

import functools
import os

try:
    from autobahn.websocket.protocol import PreparedMessage, WebSocketProtocol
except ImportError:  # pragma: no cover - not served by daphne
    PreparedMessage = WebSocketProtocol = None

# An operator's switch, should a daphne/Twisted upgrade ever disagree with the fast path.
MODE = os.environ.get("WS_FANOUT_FASTPATH", "direct")  # direct | prepared | off
_OPEN = getattr(WebSocketProtocol, "STATE_OPEN", 3)


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
    __slots__ = ("protocol", "direct")

    def __init__(self, protocol, direct: bool) -> None:
        self.protocol, self.direct = protocol, direct

    @classmethod
    def for_send(cls, send) -> "SocketWriter | None":
        if MODE == "off" or PreparedMessage is None:
            return None
        proto = _find_protocol(send)
        if proto is None:
            return None
        transport = proto.transport
        direct = MODE == "direct" and not getattr(transport, "TLS", False) and hasattr(transport, "socket") \
            and hasattr(transport, "_tempDataLen") and hasattr(transport, "dataBuffer")
        return cls(proto, direct)

    def write(self, prepared: Prepared) -> bool:
        """Send one prepared event frame; False: use the ASGI path instead."""
        proto = self.protocol
        if proto.state != _OPEN:
            return False
        if self.direct and proto._perMessageCompress is None and not proto.send_queue:
            t = proto.transport
            if t.connected and not t.disconnecting and not t._tempDataLen and len(t.dataBuffer) == t.offset:
                data = prepared.message.payloadHybi
                try:
                    sent = t.socket.send(data)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                except OSError:
                    return False  # the socket is going; let Twisted and the ASGI path notice
                if sent < len(data):
                    t.write(data[sent:])
                return True
        proto.sendPreparedMessage(prepared.message)
        return True
