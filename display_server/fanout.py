"""Follows the site's events stream (XREAD) and fans each event out to subscribed screens.

One follower task per server process, so an event caused in any process reaches the screens
of every process. Each subscriber has a bounded queue: a slow or dead client that fills it is
dropped (its sender gets `None` and closes), and never delays the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from display_server.clock import Clock, local_now
from display_server.config import SiteConfig
from display_server.state import wants
from display_server.store import Event, Store

log = logging.getLogger("antrian.fanout")


@dataclass(eq=False)
class Subscriber:
    """One screen's view of the stream: its service filter and its bounded send queue."""

    services: frozenset[str] | None
    maxsize: int = 1000
    queue: asyncio.Queue[tuple[str, str] | None] = field(init=False)
    dropped: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.maxsize)

    def offer(self, event_id: str, message: str) -> None:
        """Queue a message without waiting; on overflow empty the queue and mark it dropped."""
        if self.dropped:
            return
        try:
            self.queue.put_nowait((event_id, message))
        except asyncio.QueueFull:
            self.dropped = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class Fanout:
    """The per-process follower of the events stream and its subscribers."""

    def __init__(self, store: Store, site: SiteConfig, clock: Clock,
                 block_ms: int = 5000, heartbeat_s: float = 10.0) -> None:
        self.store = store
        self.site = site
        self.clock = clock
        self.block_ms = block_ms
        self.heartbeat_s = heartbeat_s
        self.subscribers: set[Subscriber] = set()
        self.last_id = "$"

    def subscribe(self, services: frozenset[str] | None, maxsize: int = 1000) -> Subscriber:
        sub = Subscriber(services, maxsize)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def publish(self, events: list[Event]) -> None:
        for event in events:
            fields = json.loads(event.data)
            message = event.message()
            for sub in list(self.subscribers):
                if wants(sub.services, fields):
                    sub.offer(event.id, message)
        if events:
            self.last_id = events[-1].id

    async def follow(self) -> None:
        """Read the stream forever. Connection errors are retried by the Redis client's own
        Retry (backoff with jitter); anything else is logged and the read tried again."""
        while True:
            try:
                if self.last_id == "$":
                    self.last_id = await self.store.last_event_id()
                events = await self.store.read_new(self.last_id, self.block_ms)
                self.publish(events)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("events stream read failed: %s", exc)
                await asyncio.sleep(1.0)

    async def beat(self) -> None:
        """Send every subscriber a heartbeat, so pages notice a dead link."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            now = local_now(self.clock, self.site.tz).isoformat(timespec="seconds")
            beat: dict[str, str] = {"type": "heartbeat", "at": now}
            if self.last_id != "$":
                beat["event_id"] = self.last_id
            message = json.dumps(beat)
            for sub in list(self.subscribers):
                sub.offer("", message)
