"""The announcer service: follows the server's calls and plays each one on this machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import websockets
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter
from websockets.asyncio.client import ClientConnection, connect

from audio import wavs
from audio.events import (
    Announcement,
    Cursor,
    check_screen,
    display_url,
    event_id_of,
    is_stale,
)
from audio.player import Player
from audio.render import Renderer
from audio.speech import SpeechError

log = logging.getLogger(__name__)

SILENCE_SECONDS = 30.0
PLAY_MARGIN_SECONDS = 10.0
RECONNECT_MAX_SECONDS = 5.0
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
CONNECT_ERRORS = (OSError, TimeoutError, websockets.InvalidHandshake)


def utc_now() -> datetime:
    return datetime.now(UTC)


def load_position(path: Path | None) -> str | None:
    """The event id an announcer saved before it stopped, if any and valid."""
    if path is None:
        return None
    try:
        text = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if event_id_of({"event_id": text}) else None


def save_position(path: Path | None, event_id: str | None) -> None:
    """Remember the last event taken, atomically, so a restart resumes with ``since``."""
    if path is None or event_id is None:
        return
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(event_id, "ascii")
        os.replace(partial, path)
    except OSError as error:
        log.warning("cannot save the position in %s: %s", path, error)


class Announcer:
    """Follows ``/ws/display`` and plays calls and recalls one at a time, in event order.

    Reconnects with ``since`` after a drop, so missed events are replayed; with a
    ``position_file`` it also resumes there after a restart of the announcer itself.
    An announcement older than ``max_age_seconds`` when its turn comes is dropped
    with a log line. Each played announcement is acknowledged to the server as
    ``{"type": "played", ...}``; acknowledgements made while disconnected are sent
    after reconnecting, and none are sent once the server says it does not know the
    screen (it still announces). Bad calls and failing players are logged, never fatal.
    """

    def __init__(
        self,
        server: str,
        renderer: Renderer,
        player: Player,
        *,
        screen: str,
        max_age_seconds: float,
        now: Callable[[], datetime] = utc_now,
        position_file: Path | None = None,
    ) -> None:
        display_url(server, None)
        self.server = server
        check_screen(screen)
        self.renderer = renderer
        self.player = player
        self.screen = screen
        self.max_age_seconds = max_age_seconds
        self.now = now
        self.position_file = position_file
        self.cursor = Cursor(load_position(position_file))
        self._pending: asyncio.Queue[Announcement] = asyncio.Queue()
        self._acks: asyncio.Queue[str] = asyncio.Queue()
        self.acks_refused = False

    async def run(self) -> None:
        """Follow and announce until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._follow())
            tasks.create_task(self._announce())

    async def _follow(self) -> None:
        while True:
            ws = await self._connect()
            try:
                await self._session(ws)
            except (websockets.WebSocketException, OSError, TimeoutError) as error:
                log.warning("lost the server (%s); resuming after %s", error, self.cursor.since)
            finally:
                await ws.close()

    async def _connect(self) -> ClientConnection:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(CONNECT_ERRORS),
            wait=wait_exponential_jitter(multiplier=0.1, max=RECONNECT_MAX_SECONDS),
            before_sleep=lambda state: log.warning(
                "cannot reach %s: %s", self.server, state.outcome and state.outcome.exception()
            ),
        )
        url = display_url(self.server, self.cursor.since)
        ws: ClientConnection = await retrying(_open, url)
        log.info("following %s", url)
        return ws

    async def _session(self, ws: ClientConnection) -> None:
        sender = asyncio.create_task(self._send_acks(ws))
        try:
            while True:
                async with asyncio.timeout(SILENCE_SECONDS):
                    text = await ws.recv()
                self._receive(text)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await sender

    def _receive(self, text: str | bytes) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            log.warning("ignoring a message that is not JSON: %.80r", text)
            return
        if isinstance(message, dict) and message.get("type") == "error":
            self._server_error(message.get("error"))
        if isinstance(message, dict) and message.get("type") == "snapshot":
            resync = " (missed events were too old to replay)" if message.get("resync") else ""
            log.info("snapshot at event %s%s", message.get("event_id"), resync)
        before = self.cursor.since
        announcement = self.cursor.take(message)
        if self.cursor.since != before:
            save_position(self.position_file, self.cursor.since)
        if announcement is not None:
            self._pending.put_nowait(announcement)

    def _server_error(self, error: object) -> None:
        code = error.get("code") if isinstance(error, dict) else None
        if code != "unknown_screen":
            log.warning("server says: %s", error)
        elif not self.acks_refused:
            self.acks_refused = True
            log.warning("the server does not know screen %r: announcing without played reports "
                        "(declare it under [[screens]] in the site config or have the office "
                        "register it)", self.screen)

    async def _send_acks(self, ws: ClientConnection) -> None:
        while True:
            event_id = await self._acks.get()
            ack = {"type": "played", "event_id": event_id, "screen": self.screen}
            try:
                await ws.send(json.dumps(ack))
            except (websockets.ConnectionClosed, asyncio.CancelledError):
                self._acks.put_nowait(event_id)  # sent again after reconnecting
                raise

    async def _announce(self) -> None:
        while True:
            announcement = await self._pending.get()
            await self._play(announcement)

    async def _play(self, call: Announcement) -> None:
        what = f"{call.kind} {call.ticket} loket {call.counter} ({call.event_id})"
        if is_stale(call, self.now(), self.max_age_seconds):
            log.warning("dropped stale %s: made at %s, more than %.0f s ago", what,
                        call.at and call.at.isoformat(), self.max_age_seconds)
            return
        try:
            path = await self.renderer.render(call.ticket, call.counter, call.service)
            seconds = wavs.file_duration(path)
        except (ValueError, SpeechError, OSError) as error:
            log.error("cannot announce %s: %s", what, error)
            return
        if await self.player.play(path, seconds + PLAY_MARGIN_SECONDS):
            log.info("played %s", what)
            if not self.acks_refused:
                self._acks.put_nowait(call.event_id)


async def _open(url: str) -> ClientConnection:
    return await connect(url, open_timeout=5, close_timeout=1, max_size=MAX_MESSAGE_BYTES)


async def serve(announcer: Announcer) -> int:
    """Run until SIGTERM or SIGINT; the clip playing then is stopped within a second."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    try:
        await announcer.run()
    except asyncio.CancelledError:
        log.info("announcer stopped")
    return 0
