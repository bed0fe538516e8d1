"""The connection guard: uvicorn's httptools HTTP protocol with a cap on open connections per
client address, a deadline for a request's headers, and a header size limit.

uvicorn keeps a connection that never sends a byte forever, and its httptools protocol accepts
headers of any size; this protocol closes the first with 408 after `request_timeout_s`, answers
the second with 431 (counted before httptools buffers them), and refuses a client's
connections past `max_connections_per_client` with 429 (clients behind a trusted proxy are
counted at the proxy, so the proxy is not capped). A connection upgraded to a WebSocket keeps
its place in the count until it closes.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
import re
from collections import Counter
from http import HTTPStatus

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

from display_server.errors import ApiError
from display_server.settings import Settings

HEAD_END = re.compile(rb"\n\r?\n")  # the blank line that ends a request's head (bare LF too)


class Peers:
    """Open connections per client address in this process, capped."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.open: Counter[str] = Counter()
        self._uncapped = [ipaddress.ip_network(p, strict=False)
                          for p in settings.trusted_proxies]

    def capped(self, host: str) -> bool:
        """Whether `host` is held to the per-client cap: every address but a trusted proxy's."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return True
        return not any(address in network for network in self._uncapped)

    def acquire(self, host: str) -> bool:
        """Count a new connection of `host`; False (not counted) when it is at its cap."""
        if self.capped(host) and self.open[host] >= self.settings.max_connections_per_client:
            return False
        self.open[host] += 1
        return True

    def release(self, host: str) -> None:
        self.open[host] -= 1
        if self.open[host] <= 0:
            del self.open[host]


@functools.cache
def peers() -> Peers:
    """This process's connection counts, with the settings read once from the environment."""
    return Peers(Settings.from_env())


def raw_error(code: str) -> bytes:
    """A complete HTTP/1.1 error answer with the API's error body, for a connection that is
    closed right after it (written before or instead of any request's answer)."""
    error = ApiError(code)
    body = json.dumps(error.body()).encode()
    head = (f"HTTP/1.1 {error.status} {HTTPStatus(error.status).phrase}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n")
    return head.encode() + body


def head_size(buffered: bytes) -> int:
    """The size of the request head at the start of `buffered` (all of it while incomplete)."""
    end = HEAD_END.search(buffered)
    return end.end() if end else len(buffered)


FRAME_SINK = "antrian.frame_sink"  # the scope extension that carries the connection itself


class GuardedWebSocket(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol that gives back its client's connection slot, and
    offers itself to the app (scope extension FRAME_SINK) as a sink of ready-encoded frames when
    no extension (permessage-deflate) was negotiated: the fan-out's fast path."""

    peer: str | None = None

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None and self.handshake_initiated and not self.conn.extensions:
            scope["extensions"][FRAME_SINK] = self

    def frames_writable(self) -> bool:
        return (self.handshake_complete and not self.close_sent
                and self.conn.state is State.OPEN and not self.transport.is_closing())

    def write_frames(self, data: bytes) -> None:
        self.transport.write(data)

    def write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size()

    def write_within(self, data: bytes, bound: int) -> bool:
        """The fan-out's one call per screen and event batch: the checks of frames_writable
        and write_buffer_size, then the write (see display_server.fanout.FrameSink)."""
        transport = self.transport
        if (self.close_sent or not self.handshake_complete or transport.is_closing()
                or self.conn.state is not State.OPEN):
            return True
        if transport.get_write_buffer_size() > bound:
            return False
        transport.write(data)
        return True

    def abort(self) -> None:
        self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None:
            peers().release(self.peer)
            self.peer = None
        super().connection_lost(exc)


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with the guard's cap, deadline and header limit.

    The head of a request is counted from the bytes received while it is being read (from the
    end of the previous request, or the connection's start, until its blank line), before
    httptools sees them: it buffers a header line of any length itself."""

    peer: str | None = None
    deadline: asyncio.TimerHandle | None = None
    reading_head = True   # no request begun, or its head not complete yet
    head_bytes = 0        # of the head being read, received so far
    head_tail = b""       # the last bytes of it, where its blank line may have begun

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        host = self.client[0] if self.client else None
        if host is not None and not peers().acquire(host):
            self.refuse("too_many_connections")
            return
        self.peer = host
        self.arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        if self.peer is not None:
            peers().release(self.peer)
            self.peer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.reading_head:
            tail = self.head_tail
            size = head_size(tail + data) - len(tail)
            if self.head_bytes + size > peers().settings.max_header_bytes:
                self.refuse("headers_too_large")
                return
            self.head_bytes += len(data)
            self.head_tail = data[-3:]
        super().data_received(data)
        if self.reading_head and self.head_bytes and not self.transport.is_closing():
            self.arm()  # a request's head has begun: it gets until the deadline to finish
        else:
            self.disarm()

    def on_headers_complete(self) -> None:
        self.reading_head, self.head_bytes, self.head_tail = False, 0, b""
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.reading_head = True

    def handle_websocket_upgrade(self) -> None:
        self.disarm()
        super().handle_websocket_upgrade()
        protocol = self.transport.get_protocol()
        if isinstance(protocol, GuardedWebSocket):
            protocol.peer, self.peer = self.peer, None
        elif self.peer is not None:  # a WebSocket protocol without the guard: not counted
            peers().release(self.peer)
            self.peer = None

    def arm(self) -> None:
        if self.deadline is None:
            self.deadline = self.loop.call_later(peers().settings.request_timeout_s,
                                                 self.refuse, "request_timeout")

    def disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def refuse(self, code: str) -> None:
        """Answer `code` and close the connection."""
        self.disarm()
        if not self.transport.is_closing():
            self.transport.write(raw_error(code))
            self.transport.close()
