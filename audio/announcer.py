"""The announcer service: follows the server's calls and plays each one on this machine."""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from audio import wavs
from audio.events import (
    Announcement,
    Turn,
    announcement_of,
    check_screen,
    plan_turn,
    salat_pause,
    track,
)
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
SIGNAGE_SECONDS = 300.0  # how often the site's prayer times are read again


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
    When several calls wait (a burst), up to the settings' ``merge_max`` of them are said as
    one announcement after one chime (``merge_template``, joined with commas). A call whose
    counter has since called someone else, gone idle or paused is never said, nor one older
    than ``max_age_seconds`` when its turn comes: each drop is a log line.
    Each call said, alone or merged, is acknowledged to the server as
    ``{"type": "played", ...}``, each dropped one as ``{"type": "played", ..., "dropped": true}``
    (handled, not said: /admin does not count the screen as silent for it);
    acknowledgements made while disconnected are sent after reconnecting, and none are sent
    once the server says it does not know the screen (it still announces). Bad calls and
    failing players are logged, never fatal. ``history`` keeps the last turns said.
    When the site's `[signage.prayer]` has ``pause_announcements``, no call is said during
    each prayer's pause (read from the server's ``/display/papan``): such calls are dropped.
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
        self._pending: collections.deque[Announcement] = collections.deque()
        self._wake = asyncio.Event()
        self.current: dict[int, str | None] = {}  # counter → the ticket it serves now
        self.history: collections.deque[Turn] = collections.deque(maxlen=100)
        self.acks_refused = False
        self.server = server
        self.papan: dict[str, Any] = {}  # the server's /display/papan: the prayer times

    async def run(self) -> None:
        """Follow and announce until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.follower.run())
            tasks.create_task(self._announce())
            tasks.create_task(self._read_signage())

    async def _read_signage(self) -> None:
        """Keep the site's prayer times (for the salat pause) fresh; failures are logged."""
        url = self.server.rstrip("/") + "/display/papan"
        async with httpx.AsyncClient(timeout=10) as client:
            while True:
                try:
                    answer = await client.get(url)
                    if answer.status_code == 200:
                        self.papan = answer.json()
                except (httpx.HTTPError, ValueError) as error:
                    log.warning("cannot read the prayer times from %s: %s", url, error)
                await asyncio.sleep(SIGNAGE_SECONDS)

    def _receive(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == ERROR:
            self._server_error(message.get("error"))
        elif kind == SNAPSHOT:
            resync = " (missed events were too old to replay)" if message.get("resync") else ""
            log.info("snapshot at event %s%s", message.get("event_id"), resync)
        track(self.current, message)
        announcement = announcement_of(message)
        if announcement is not None:
            self._pending.append(announcement)
            self._wake.set()
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
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                waiting = list(self._pending)
                self._pending.clear()
                now = self.now()
                turn = plan_turn(waiting, self.current, now, self.max_age_seconds,
                                 self.renderer.settings.merge_max,
                                 salat=salat_pause(self.papan, now) is not None)
                self._pending.extendleft(reversed(turn.rest))
                for call, why in turn.dropped:
                    self._drop(call, why)
                if turn.speak:
                    await self._play(turn)

    def _drop(self, call: Announcement, why: str) -> None:
        what = f"{call.kind} {call.ticket} at counter {call.counter} ({call.event_id})"
        if why == "stale":
            log.warning("dropped stale %s: made at %s, more than %.0f s ago", what,
                        call.at and call.at.isoformat(), self.max_age_seconds)
        elif why == "salat":
            log.info("dropped %s: announcements pause for salat", what)
        else:
            log.info("dropped %s: the counter has moved on", what)
        self._ack(call, dropped=True)

    def _ack(self, call: Announcement, dropped: bool = False) -> None:
        if not self.acks_refused:
            ack: dict[str, Any] = {"type": PLAYED, "event_id": call.event_id,
                                   "screen": self.screen}
            self.follower.send({**ack, "dropped": True} if dropped else ack)

    async def _play(self, turn: Turn) -> None:
        what = ", ".join(f"{call.kind} {call.ticket} at counter {call.counter} ({call.event_id})"
                         for call in turn.speak)
        try:
            path = await self.renderer.render_merged(
                [(call.ticket, call.counter, call.service) for call in turn.speak])
            seconds = wavs.file_duration(path)
        except (ValueError, SpeechError, OSError) as error:
            log.error("cannot announce %s: %s", what, error)
            return
        if await self.player.play(path, seconds + PLAY_MARGIN_SECONDS):
            log.info("played %s", what)
            self.history.append(turn)
            for call in (*turn.speak, *turn.also):
                self._ack(call)


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
