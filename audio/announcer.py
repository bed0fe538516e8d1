"""The announcer service: follows the server's calls and plays each one on this machine."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audio import wavs
from audio.events import Announcement, announcement_of, check_screen, is_stale
from audio.player import Player
from audio.render import Renderer
from audio.speech import SpeechError
from protocol.event_ids import is_event_id
from protocol.follower import Follower
from protocol.messages import ERROR, PLAYED, SNAPSHOT

log = logging.getLogger(__name__)

SILENCE_SECONDS = 30.0
PLAY_MARGIN_SECONDS = 10.0
RECONNECT_MAX_SECONDS = 5.0


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
    return text if is_event_id(text) else None


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

    It follows with protocol.follower (each event once, in order, replayed with ``since``
    after a drop); with a ``position_file`` it also resumes there after a restart of the
    announcer itself.
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
        check_screen(screen)
        self.renderer = renderer
        self.player = player
        self.screen = screen
        self.max_age_seconds = max_age_seconds
        self.now = now
        self.position_file = position_file
        self.follower = Follower(server, self._receive, since=load_position(position_file),
                                 heartbeat_timeout=SILENCE_SECONDS,
                                 max_backoff=RECONNECT_MAX_SECONDS)
        self._saved = self.follower.since
        self._pending: asyncio.Queue[Announcement] = asyncio.Queue()
        self.acks_refused = False

    async def run(self) -> None:
        """Follow and announce until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.follower.run())
            tasks.create_task(self._announce())

    def _receive(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == ERROR:
            self._server_error(message.get("error"))
        elif kind == SNAPSHOT:
            resync = " (missed events were too old to replay)" if message.get("resync") else ""
            log.info("snapshot at event %s%s", message.get("event_id"), resync)
        announcement = announcement_of(message)
        if announcement is not None:
            self._pending.put_nowait(announcement)
        if self.follower.since != self._saved:
            self._saved = self.follower.since
            save_position(self.position_file, self._saved)

    def _server_error(self, error: object) -> None:
        code = error.get("code") if isinstance(error, dict) else None
        if code != "unknown_screen":
            log.warning("server says: %s", error)
        elif not self.acks_refused:
            self.acks_refused = True
            log.warning("the server does not know screen %r: announcing without played reports "
                        "(declare it under [[screens]] in the site config or have the office "
                        "register it)", self.screen)

    async def _announce(self) -> None:
        while True:
            announcement = await self._pending.get()
            await self._play(announcement)

    async def _play(self, call: Announcement) -> None:
        what = f"{call.kind} {call.ticket} at counter {call.counter} ({call.event_id})"
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
                self.follower.send({"type": PLAYED, "event_id": call.event_id,
                                    "screen": self.screen})


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
