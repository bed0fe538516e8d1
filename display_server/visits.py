"""Visits read live from Redis for the office dashboard: each ticket's issue and first call from
the events stream (wait = first call − issue, as SPEC.md defines it) and today's top-line
figures, which therefore agree with the archive's report of the same day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from display_server.store import Store
from protocol.event_ids import event_key

MAX_EVENTS = 200_000  # a read never holds more than the stream can (its MAXLEN is 100,000)


@dataclass(frozen=True)
class Visit:
    """One ticket of one day: when it was issued (ms) and first called (ms, or None)."""

    day: str
    code: str
    service: str
    issued_ms: int
    first_call_ms: int | None

    @property
    def wait_s(self) -> float | None:
        return None if self.first_call_ms is None else (self.first_call_ms - self.issued_ms) / 1000


def visits(events: Iterable[dict[str, Any]], tz: ZoneInfo) -> list[Visit]:
    """The tickets issued in `events` (oldest first), each with its first call if one follows;
    calls of tickets issued before the first event are left out."""
    issued: dict[tuple[str, str], tuple[str, int]] = {}
    first_call: dict[tuple[str, str], int] = {}
    for event in events:
        ms = event_key(event["event_id"])[0]
        if event["type"] == "ticket":
            day = datetime.fromtimestamp(ms / 1000, tz).date().isoformat()
            issued[(day, event["ticket"])] = (event["service"], ms)
        elif event["type"] == "call":
            first_call.setdefault((event["ticket_day"], event["ticket"]), ms)
    return [Visit(day, code, service, ms, first_call.get((day, code)))
            for (day, code), (service, ms) in issued.items()]


def day_start_ms(day: date, tz: ZoneInfo) -> int:
    return int(datetime.combine(day, time(), tz).timestamp() * 1000)


async def visits_between(store: Store, first: date, last: date) -> list[Visit]:
    """The visits of local days `first`..`last` that the events stream still holds."""
    tz = store.site.tz
    start, end = day_start_ms(first, tz), day_start_ms(last + timedelta(days=1), tz) - 1
    events = await store.events_between(start, end, MAX_EVENTS)
    return visits((e.fields() for e in events), tz)


def wait_figures(waits: list[float]) -> dict[str, float | None]:
    """Average and maximum wait in minutes (one decimal), None when nobody was called."""
    if not waits:
        return {"avg_wait_min": None, "max_wait_min": None}
    return {"avg_wait_min": round(sum(waits) / len(waits) / 60, 1),
            "max_wait_min": round(max(waits) / 60, 1)}


async def today_figures(store: Store, waiting: int) -> dict[str, Any]:
    """Visitors (tickets issued), served (completed + not completed), `waiting` now, and the
    average and maximum wait of today's first calls."""
    day = store.today()
    stats = await store.stats(day)
    today = date.fromisoformat(day)
    waits = [v.wait_s for v in await visits_between(store, today, today) if v.wait_s is not None]
    return {
        "visitors": sum(v for k, v in stats.items() if k.startswith("issued:")),
        "served": sum(v for k, v in stats.items() if k.startswith("served:")
                      and not k.startswith("served:c")),
        "waiting": waiting,
        **wait_figures(waits),
    }
