"""Follows the server's display WebSocket: the snapshot, then every event, for as long as the
app runs. After a lost link it reconnects (backoff with jitter) with `since=<last event id>`,
so it gets exactly the events it missed, or a fresh snapshot when they are too old."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from tenacity import AsyncRetrying, retry_if_exception_type
from tenacity import wait_random_exponential as backoff
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException


class LinkLost(Exception):
    """The server closed the WebSocket."""


LINK_ERRORS = (OSError, TimeoutError, WebSocketException, LinkLost)


class Follower:
    """Calls `on_message(message)` for every snapshot and event, in order, and
    `on_link(True | False)` whenever the link comes up or goes down. There's no backpressure:
    the callbacks must be quick (they only update state)."""

    def __init__(self, ws_url: str, on_message: Callable[[dict[str, Any]], None],
                 on_link: Callable[[bool], None], *, max_backoff: float = 5.0,
                 heartbeat_timeout: float = 25.0) -> None:
        self.ws_url = ws_url
        self.on_message = on_message
        self.on_link = on_link
        self.max_backoff = max_backoff
        self.heartbeat_timeout = heartbeat_timeout
        self.since: str | None = None

    async def run(self) -> None:
        """Follow forever (until cancelled)."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(LINK_ERRORS),
            wait=backoff(multiplier=0.2, max=self.max_backoff),
            before_sleep=lambda _: self.on_link(False),
        )
        async for attempt in retrying:
            with attempt:
                await self._follow()

    async def _follow(self) -> None:
        url = self.ws_url if self.since is None else f"{self.ws_url}?since={quote(self.since)}"
        # the server beats every 10 s; pings catch a dead link even between beats
        async with connect(url, proxy=None, open_timeout=5, ping_interval=10,
                           ping_timeout=self.heartbeat_timeout - 10, max_size=4 * 1024 * 1024,
                           ) as ws:
            self.on_link(True)
            async for text in ws:
                try:
                    message = json.loads(text)
                except ValueError:
                    continue
                if not isinstance(message, dict):
                    continue
                if message.get("type") != "heartbeat" and isinstance(message.get("event_id"), str):
                    self.since = message["event_id"]
                self.on_message(message)
        raise LinkLost
