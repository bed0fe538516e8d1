"""Follows the site's events stream (XREAD) and fans each event out to subscribed screens.

One follower task per server process, so an event caused in any process reaches the screens
of every process. Each subscriber has a bounded queue: a slow or dead client that fills it is
dropped (its sender gets `None` and closes), and never delays the others.

The fast path (ANTRIAN_FANOUT_FAST, on by default): once a screen's first messages are sent, its
connection's frame sink (display_server.guard's WebSocket protocol) is attached. Each event is
then encoded once, as one unmasked WebSocket text frame whose bytes every screen that wants it
shares, and the frames of the events one read brought are written to each screen's transport in
one write: no per-screen JSON, framing, queue or task switch. A screen whose transport holds
more than `max_buffer` unsent bytes is dropped, as a full queue is.

The follower survives any error (a bad entry is skipped and logged), a supervisor restarts it
if it ends, and its state is kept for /api/health.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from redis.exceptions import RedisError
from websockets.frames import Frame, Opcode

from display_server.clock import Clock, local_now
from display_server.config import SiteConfig
from display_server.state import wants
from display_server.store import Event, Store

log = logging.getLogger("antrian.fanout")
STALL_S = 10.0  # seconds a read may take beyond its block_ms before the follower is stuck
MAX_BUFFER = 1024 * 1024  # unsent bytes a fast-path screen may hold before it is dropped
HEARTBEAT_SLICES = 10  # the screens get their heartbeats a tenth at a time, across the period


class FrameSink(Protocol):
    """Where a screen's WebSocket frames can be written as bytes: its server connection."""

    def frames_writable(self) -> bool:
        """Whether data frames may be written now (open, no close frame sent)."""
        ...

    def write_frames(self, data: bytes) -> None:
        """Write whole encoded frames to the connection's transport, without waiting."""
        ...

    def write_buffer_size(self) -> int:
        """Bytes written and not yet sent."""
        ...

    # Optional, and used when present: `write_within(data, bound) -> bool`, the three calls
    # above in one: nothing written and True while not writable, False (nothing written) when
    # more than `bound` bytes are unsent, else the frames written and True.

    def abort(self) -> None:
        """Drop the connection at once."""
        ...


def text_frame(message: str) -> bytes:
    """A server's (unmasked, uncompressed) WebSocket text frame of the message."""
    return Frame(Opcode.TEXT, message.encode()).serialize(mask=False, extensions=[])


def _unattached(frames: bytes, bound: int) -> bool:
    """A queued screen's `send`: the fast path writes nothing to it."""
    return True


def _checked_send(sink: FrameSink) -> Callable[[bytes, int], bool]:
    """FrameSink.write_within for a sink without it: its three calls (a closure over the sink
    only, so a subscriber holds no reference to itself and is freed as soon as it leaves)."""

    def send(frames: bytes, bound: int) -> bool:
        if not sink.frames_writable():
            return True
        if sink.write_buffer_size() > bound:
            return False
        sink.write_frames(frames)
        return True

    return send


@dataclass(eq=False)
class Subscriber:
    """One screen's view of the stream: its service filter and its bounded send queue."""

    services: frozenset[str] | None
    maxsize: int = 1000
    queue: asyncio.Queue[tuple[str, str] | None] = field(init=False)
    dropped: bool = False
    last_event_id: str | None = None  # of the last event queued: what its heartbeats carry
    announcer: bool = False  # it reported a played call on its link (/metrics' announcers)
    sink: FrameSink | None = None  # set: the fast path writes its frames there, not the queue
    max_buffer: int = MAX_BUFFER
    slot: int = 0  # which slice of the heartbeat period its heartbeats go out in
    on_attach: Callable[[], None] | None = None  # told when it switches to the fast path
    # the fast path's write of one batch: FrameSink.write_within, or the same in three calls
    send: Callable[[bytes, int], bool] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.maxsize)
        self.send = _unattached

    def offer(self, event_id: str, message: str, frame: bytes | None = None) -> None:
        """Send (fast path) or queue a message without waiting; a screen too far behind (its
        queue full, or its transport's buffer past max_buffer) is dropped."""
        if self.dropped:
            return
        if self.sink is not None:
            self.write(frame if frame is not None else text_frame(message))
            self.last_event_id = event_id or self.last_event_id
            return
        try:
            self.queue.put_nowait((event_id, message))
            self.last_event_id = event_id or self.last_event_id
        except asyncio.QueueFull:
            self.drop()

    def attach(self, sink: FrameSink, backlog: bytes) -> None:
        """Switch to the fast path, first writing the backlog (the queued messages' frames)."""
        self.sink = sink
        self.send = getattr(sink, "write_within", None) or _checked_send(sink)
        if backlog:
            self.write(backlog)
        if self.on_attach is not None:
            self.on_attach()

    def write(self, frames: bytes) -> None:
        """Write encoded frames to the sink, or drop the screen when it is too far behind. A
        closing link gets nothing more: its receiver ends the connection."""
        if self.dropped or self.sink is None:
            return
        if not self.send(frames, self.max_buffer):
            self.drop()

    def drop(self) -> None:
        """Mark the screen dropped: its queue emptied, then None to tell its sender to close."""
        self.dropped = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


@dataclass
class _Group:
    """The subscribers that share one service filter: each event is judged once for all of
    them, and its fast-path screens share one batch of bytes."""

    services: frozenset[str] | None
    fast: list[Subscriber] = field(default_factory=list)
    queued: list[Subscriber] = field(default_factory=list)


@dataclass
class FollowerState:
    """How the follower is doing: what /api/health reports."""

    following: bool = False
    started: float = 0.0            # time.monotonic() when the follower was last started
    last_read: float | None = None  # time.monotonic() of the last successful read
    errors: int = 0                 # failed reads and events that could not be fanned out
    restarts: int = 0               # times the supervisor found the follower ended


class Fanout:
    """The per-process follower of the events stream and its subscribers."""

    def __init__(self, store: Store, site: SiteConfig, clock: Clock,
                 block_ms: int = 5000, heartbeat_s: float = 10.0,
                 restart_s: float = 1.0, retry_s: float = 1.0,
                 max_buffer: int = MAX_BUFFER) -> None:
        self.store = store
        self.max_buffer = max_buffer  # a fast-path screen's unsent bytes before it is dropped
        self.site = site
        self.clock = clock
        self.block_ms = block_ms
        self.heartbeat_s = heartbeat_s
        self.restart_s = restart_s  # pause before the supervisor restarts an ended follower
        self.retry_s = retry_s      # pause after a failed read
        self.subscribers: set[Subscriber] = set()
        self._slots = itertools.count()  # subscribers take the heartbeat slices in turn
        self._groups: list[_Group] | None = None  # the subscribers by filter, rebuilt on change
        self.last_id = "$"
        self.state = FollowerState()
        self.follower: asyncio.Task[None] | None = None
        # told of each call event once it is queued to the screens: its `at` and the time now
        self.on_call: Callable[[str, datetime], None] | None = None
        # reloads the office's live settings: on a `settings` event, before the screens get
        # it, and whenever the follower starts following (it may have missed one)
        self.on_settings: Callable[[], Awaitable[None]] | None = None

    def subscribe(self, services: frozenset[str] | None, maxsize: int = 1000) -> Subscriber:
        sub = Subscriber(services, maxsize, max_buffer=self.max_buffer,
                         slot=next(self._slots) % HEARTBEAT_SLICES, on_attach=self._regroup)
        self.subscribers.add(sub)
        self._groups = None
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        self._groups = None

    def _regroup(self) -> None:
        self._groups = None

    def groups(self) -> list[_Group]:
        """The subscribers by service filter, fast-path and queued apart (kept until a screen
        comes, goes or switches to the fast path)."""
        if self._groups is None:
            by_filter: dict[frozenset[str] | None, _Group] = {}
            for sub in self.subscribers:
                group = by_filter.get(sub.services)
                if group is None:
                    group = by_filter[sub.services] = _Group(sub.services)
                (group.queued if sub.sink is None else group.fast).append(sub)
            self._groups = list(by_filter.values())
        return self._groups

    def publish(self, events: list[Event]) -> None:
        """Offer each event to the screens that want it. An event that fails (a bug) is logged
        and skipped: the others still go out, and the follower's position moves past it.

        Fast-path screens: each event is encoded once as a frame; the frames a filter group
        wants from this batch are joined once, and the same bytes are written to each of the
        group's screens, one write per screen, in a plain loop (no await, no per-screen
        encoding): the events that arrived together go out together, in stream order."""
        groups = self.groups()
        batches: list[list[bytes]] = [[] for _ in groups]
        last_ids: list[str | None] = [None] * len(groups)
        for event in events:
            try:
                fields = event.object()
                message = event.message()
                frame: bytes | None = None
                for i, group in enumerate(groups):
                    if not wants(group.services, fields):
                        continue
                    for sub in group.queued:
                        sub.offer(event.id, message)
                    if group.fast:
                        if frame is None:
                            frame = text_frame(message)
                        batches[i].append(frame)
                        last_ids[i] = event.id
                if self.on_call is not None and fields.get("type") == "call":
                    self.on_call(fields.get("at", ""), self.clock())
            except Exception:
                self.state.errors += 1
                log.exception("event %s skipped: it could not be sent to screens", event.id)
            self.last_id = event.id
        for group, frames, last in zip(groups, batches, last_ids, strict=True):
            if not frames:
                continue
            data = frames[0] if len(frames) == 1 else b"".join(frames)
            for sub in group.fast:
                if sub.dropped:
                    continue
                if not sub.send(data, sub.max_buffer):
                    sub.drop()
                sub.last_event_id = last

    async def follow(self) -> None:
        """Read the stream forever. Connection errors are retried by the Redis client's own
        Retry (backoff with jitter); any other error is logged and the read tried again. At the
        start and after an error, a quick read shows the stream is readable before the next
        blocking one."""
        self.state.following = False
        while True:
            try:
                if not self.state.following:
                    latest = await self.store.last_event_id()
                    if self.last_id == "$":
                        self.last_id = latest
                    await self._reload_settings()
                else:
                    cursor, events = await self.store.read_new(self.last_id, self.block_ms)
                    if any(e.data.startswith('{"type":"settings"') for e in events):
                        await self._reload_settings()
                    self.publish(events)
                    self.last_id = cursor
                self.state.following = True
                self.state.last_read = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.state.following = False
                self.state.errors += 1
                if isinstance(exc, RedisError | OSError):
                    log.warning("events stream read failed: %s", exc)
                else:
                    log.exception("events follower error")
                await asyncio.sleep(self.retry_s)

    async def _reload_settings(self) -> None:
        """Reload the live settings; a Redis error is the read's (retried), any other is
        logged and never holds the screens' events back."""
        if self.on_settings is None:
            return
        try:
            await self.on_settings()
        except (RedisError, OSError):
            raise
        except Exception:
            self.state.errors += 1
            log.exception("live settings could not be reloaded")

    async def supervise(self) -> None:
        """Run the follower; start it again whenever it ends, whatever ended it, and cancel it
        (then start it again) when it is stuck: no read has returned for longer than a read
        can block."""
        while True:
            self.state.started = time.monotonic()
            self.follower = asyncio.create_task(self.follow(), name="antrian-follower")
            try:
                while not (await asyncio.wait([self.follower], timeout=self.stall_s / 2))[0]:
                    if self._stalled():
                        log.error("events follower stuck for %.0f s", self.stall_s)
                        self.follower.cancel()
            except asyncio.CancelledError:
                self.follower.cancel()
                await asyncio.gather(self.follower, return_exceptions=True)
                raise
            if self.follower.cancelled():
                why = "cancelled"
            else:
                exc = self.follower.exception()
                why = "ended" if exc is None else f"{type(exc).__name__}: {exc}"
            self.state.following = False
            self.state.restarts += 1
            log.error("events follower %s; restarting it in %.1f s", why, self.restart_s)
            await asyncio.sleep(self.restart_s)

    async def wait_following(self, timeout_s: float) -> bool:
        """Wait until the follower has read the stream once (at most timeout_s): a process
        that starts serving then answers its first health check honestly."""
        deadline = time.monotonic() + timeout_s
        while not self.state.following and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        return self.state.following

    def problem(self) -> str | None:
        """Why the follower is not following now, or None when it is."""
        if self.follower is None or self.follower.done():
            return "pengikut aliran peristiwa berhenti"
        if self._stalled():
            return f"pengikut aliran peristiwa macet lebih dari {self.stall_s:.0f} detik"
        if not self.state.following:
            return "pengikut aliran peristiwa gagal membaca"
        return None

    @property
    def stall_s(self) -> float:
        """A read returns within block_ms even when nothing happens: beyond this, it is stuck."""
        return self.block_ms / 1000 + STALL_S

    def _stalled(self) -> bool:
        last = max(self.state.started, self.state.last_read or 0.0)
        return time.monotonic() - last > self.stall_s

    def report(self) -> dict[str, Any]:
        """The follower's state for /api/health."""
        last_read = self.state.last_read
        return {
            "following": self.problem() is None,
            "last_event_id": None if self.last_id == "$" else self.last_id,
            "last_read_s_ago": None if last_read is None
            else round(time.monotonic() - last_read, 3),
            "errors": self.state.errors,
            "restarts": self.state.restarts,
        }

    async def beat(self) -> None:
        """Send every subscriber a heartbeat every heartbeat_s, so pages notice a dead link:
        a tenth of them every tenth of the period (their `slot`), so that a call never waits
        behind one burst of heartbeats to every screen (1,000 screens: ~7 ms of writes)."""
        for tick in itertools.count():
            await asyncio.sleep(self.heartbeat_s / HEARTBEAT_SLICES)
            self.heartbeat(tick % HEARTBEAT_SLICES)

    def heartbeat(self, slot: int | None = None) -> None:
        """One heartbeat to every subscriber in `slot` (every one: None). It carries the id of
        the last event queued for that subscriber (none before the first): a follower that has
        not seen that event missed something, and reconnects with since to get it. Fast-path
        screens with the same last event share one encoded frame (nearly all of them: one JSON
        and one frame a beat, not one per screen)."""
        now = local_now(self.clock, self.site.tz).isoformat(timespec="seconds")
        frames: dict[str | None, bytes] = {}
        for group in self.groups():
            for sub in group.queued:
                if slot is None or sub.slot == slot:
                    sub.offer("", _beat(now, sub.last_event_id))
            for sub in group.fast:
                if sub.dropped or (slot is not None and sub.slot != slot):
                    continue
                frame = frames.get(sub.last_event_id)
                if frame is None:
                    frame = frames[sub.last_event_id] = text_frame(_beat(now, sub.last_event_id))
                if not sub.send(frame, sub.max_buffer):
                    sub.drop()


def _beat(now: str, event_id: str | None) -> str:
    beat: dict[str, str] = {"type": "heartbeat", "at": now}
    if event_id is not None:
        beat["event_id"] = event_id
    return json.dumps(beat)
