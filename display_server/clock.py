"""Time for the queue: an injectable clock and the site-local day a ticket belongs to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def local_now(clock: Clock, tz: ZoneInfo) -> datetime:
    """The clock's time in the site's timezone."""
    return clock().astimezone(tz)


def day_of(moment: datetime) -> str:
    """The local day a moment belongs to, as used in keys and URLs: '2026-11-28'."""
    return moment.date().isoformat()
