"""The one follower of the server's display WebSocket for Python clients (the officer's terminal
client and the announcer): the snapshot, then every event once and in order, across lost links.

The rules are in `Position` (pure, no I/O); `Follower` is the thin asyncio layer around them.
The pages' follower (display_screens/static/common.js, LiveLink) keeps the same rules."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, WebSocketException

from protocol.event_ids import event_key, is_event_id
from protocol.messages import ERROR, HEARTBEAT, PONG, SNAPSHOT

log = logging.getLogger(__name__)

CONNECT_ERRORS = (OSError, TimeoutError, InvalidHandshake)
LINK_ERRORS = (OSError, TimeoutError, WebSocketException)
MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # a snapshot of a large site
OUTBOX_SIZE = 1000  # messages kept for sending while the link is down; the oldest go first


class Verdict(Enum):
    """What a follower does with one message from the server."""

    DELIVER = "deliver"  # a snapshot, a new event, a heartbeat or an answer: pass it on
    DROP = "drop"  # an event seen before, older than the last one, or without a valid id
    GAP = "gap"  # a heartbeat names an event not seen: reconnect with since to get it


@dataclass
class Position:
    """Where a follower is in the events stream: the id of the last event or snapshot it took.

    Rules: a snapshot (also a "resync" one) is the new base, even when its id is older; an
    event is taken only when its id is after the last one (a reconnect's duplicates and
    anything out of order are dropped); a heartbeat carries the id of the last event the
    server sent this link, so an id after the last one taken means something was missed.
    """

    since: str | None = None

    def take(self, message: dict[str, Any]) -> Verdict:
        """Judge one message and move past it when it is taken."""
        kind = message.get("type")
        event_id = message.get("event_id")
        if not is_event_id(event_id):
            event_id = None
        if kind == SNAPSHOT:
            self.since = event_id
            return Verdict.DELIVER
        if kind == HEARTBEAT:
            gap = event_id is not None and self._after(event_id)
            return Verdict.GAP if gap else Verdict.DELIVER
        if kind in (PONG, ERROR):
            return Verdict.DELIVER
        if event_id is None or not self._after(event_id):
            return Verdict.DROP
        self.since = event_id
        return Verdict.DELIVER

    def _after(self, event_id: str) -> bool:
        return self.since is None or event_key(event_id) > event_key(self.since)


def stream_url(server: str, since: str | None = None) -> str:
    """The display stream's WebSocket URL for a server's base URL (http, https, ws or wss)."""
    base = server.rstrip("/")
    for http, ws in (("http://", "ws://"), ("https://", "wss://")):
        if base.startswith(http):
            base = ws + base[len(http) :]
    if not base.startswith(("ws://", "wss://")):
        raise ValueError(f"bad server URL {server!r}: expected http(s)://host:port")
    return f"{base}/ws/display" + (f"?since={quote(since)}" if since else "")


class Follower:
    """Follows a server's display stream until cancelled, with `Position`'s rules.

    `on_message(message)` gets every snapshot, new event, heartbeat and answer (pong, error),
    each event once and in order; `on_link(up)` is told when the link comes up or goes down.
    After a lost link it reconnects with `since=<last event id>` (exponential backoff with
    jitter), so the server replays what was missed or sends a fresh snapshot; a heartbeat that
    names an unseen event makes it reconnect at once the same way. `heartbeat_timeout` seconds
    without any message (the server beats every 10 s) is a dead link. `send(message)` sends a
    message now or, while the link is down, after reconnecting. There's no backpressure: the
    callbacks must be quick.
    """

    def __init__(self, server: str, on_message: Callable[[dict[str, Any]], None],
                 on_link: Callable[[bool], None] = lambda up: None, *, since: str | None = None,
                 heartbeat_timeout: float = 25.0, max_backoff: float = 5.0) -> None:
        stream_url(server)
        self.server = server
        self.on_message = on_message
        self.on_link = on_link
        self.heartbeat_timeout = heartbeat_timeout
        self.max_backoff = max_backoff
        self.position = Position(since)
        self.up: bool | None = None  # None until the first attempt to connect ends
        self._outbox: deque[dict[str, Any]] = deque(maxlen=OUTBOX_SIZE)
        self._wake = asyncio.Event()

    @property
    def since(self) -> str | None:
        """The id of the last event or snapshot taken: where a reconnect resumes."""
        return self.position.since

    def send(self, message: dict[str, Any]) -> None:
        """Send `message` to the server as JSON, now or once the link is back."""
        self._outbox.append(message)
        self._wake.set()

    async def run(self) -> None:
        """Follow until cancelled."""
        while True:
            ws = await self._connect()
            try:
                await self._session(ws)
            except LINK_ERRORS as error:
                log.warning("lost %s (%s); resuming after %s", self.server, error or "silent",
                            self.since)
                self._link(False)
            finally:
                await ws.close()

    async def _connect(self) -> ClientConnection:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(CONNECT_ERRORS),
            wait=wait_exponential_jitter(multiplier=0.1, max=self.max_backoff),
            before_sleep=self._cannot_connect,
        )
        url = stream_url(self.server, self.since)
        ws: ClientConnection = await retrying(_open, url)
        log.info("following %s", url)
        return ws

    def _cannot_connect(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning("cannot reach %s: %s", self.server, error)
        self._link(False)

    async def _session(self, ws: ClientConnection) -> None:
        """Take messages until the link is lost (raises) or a heartbeat shows a gap (returns)."""
        self._link(True)
        sender = asyncio.create_task(self._send_outbox(ws))
        try:
            while True:
                async with asyncio.timeout(self.heartbeat_timeout):
                    text = await ws.recv()
                message = _parsed(text)
                verdict = Verdict.DROP if message is None else self.position.take(message)
                if verdict is Verdict.GAP:
                    log.warning("the server sent events not seen here; resuming after %s",
                                self.since)
                    return
                if message is not None and verdict is Verdict.DELIVER:
                    self.on_message(message)
        finally:
            sender.cancel()
            # wait for the sender without swallowing a cancellation of this task: suppressing
            # CancelledError here lost the caller's cancel and the follower never stopped
            await asyncio.wait([sender])
            if not sender.cancelled():
                sender.exception()  # a lost link is reported by recv(); this one is expected

    async def _send_outbox(self, ws: ClientConnection) -> None:
        while True:
            while self._outbox:
                await ws.send(json.dumps(self._outbox[0]))
                self._outbox.popleft()  # only once sent: a lost link sends it again
            self._wake.clear()
            await self._wake.wait()

    def _link(self, up: bool) -> None:
        if up != self.up:
            self.up = up
            self.on_link(up)


async def _open(url: str) -> ClientConnection:
    # no library pings: the server's heartbeats and the heartbeat timeout watch the link
    return await connect(url, proxy=None, open_timeout=5, close_timeout=1, ping_interval=None,
                         max_size=MAX_MESSAGE_BYTES)


def _parsed(text: str | bytes) -> dict[str, Any] | None:
    try:
        message = json.loads(text)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        log.warning("ignoring a message that is not a JSON object: %.80r", text)
        return None
    return message
