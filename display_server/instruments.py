"""This server process's own measurements for `GET /metrics` (display_server/metrics.py): the
call -> broadcast latency, played acknowledgements and the requests that failed on Redis.

Each app has its own prometheus-client registry (kept on `app.state.instruments`), so apps in
one Python process (the tests) do not add up, and every series carries the label `process`
(`<host>:<pid>`): each worker of `antrian serve --workers N` counts its own, and
display_server.metrics shows every live process's figures side by side.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from starlette.applications import Starlette

disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series

# seconds from a call's `at` to its fan-out: a LAN site is in the first buckets
BROADCAST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Instruments:
    """The process's counters and histogram, in a registry of their own."""

    def __init__(self) -> None:
        self.process = f"{socket.gethostname()}:{os.getpid()}"
        self.registry = CollectorRegistry()
        self._broadcast = Histogram(
            "antrian_call_broadcast_seconds",
            "Seconds from a call event's `at` to this process queuing it to its screens",
            ["process"], buckets=BROADCAST_BUCKETS, registry=self.registry)
        self._played = Counter(
            "antrian_played_acknowledgements",
            "Played reports this process accepted (POST /api/played and the WebSocket): "
            "outcome played (said) or dropped (handled, not said)",
            ["process", "outcome"], registry=self.registry)
        self._redis_errors = Counter(
            "antrian_redis_errors",
            "Requests of this process that failed on Redis: kind unavailable (no connection, "
            "timeout: a 503) or error (Redis answered an error: a 500)",
            ["process", "kind"], registry=self.registry)
        for outcome in ("played", "dropped"):
            self._played.labels(self.process, outcome)
        for kind in ("unavailable", "error"):
            self._redis_errors.labels(self.process, kind)
        self._broadcast.labels(self.process)

    def call_broadcast(self, at: str, now: datetime) -> None:
        """A call event stamped `at` (ISO 8601) was queued to the screens at `now`; a clock
        ahead of this one counts as 0 s. A malformed `at` is not measured."""
        try:
            stamped = datetime.fromisoformat(at)
        except (TypeError, ValueError):
            return
        if stamped.tzinfo is None:
            return
        seconds = max(0.0, (now - stamped).total_seconds())
        self._broadcast.labels(self.process).observe(seconds)

    def played(self, dropped: bool) -> None:
        self._played.labels(self.process, "dropped" if dropped else "played").inc()

    def redis_error(self, kind: str) -> None:
        self._redis_errors.labels(self.process, kind).inc()


def of(app: Starlette) -> Instruments:
    """The instruments of the app (made by display_server.app.create_app)."""
    found: Instruments = app.state.instruments
    return found
