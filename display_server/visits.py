"""Visits read live from Redis for the office dashboard: each ticket's issue and first call from
the events stream (wait = first call − issue, as SPEC.md defines it) and today's top-line
figures, which therefore agree with the archive's report of the same day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from display_server.store import Store

MAX_EVENTS = 200_000  # a read never holds more than the stream can (its MAXLEN is 100,000)
PAGE = 5_000


@dataclass(frozen=True)
class Visit:
    """One ticket of one day: when it was issued and first called (ms, from the events' `at`:
    the scripts' clock, which tests and the simulator move)."""

    day: str
    code: str
    service: str
    issued_at: datetime
    first_call_at: datetime | None

    @property
    def wait_s(self) -> float | None:
        if self.first_call_at is None:
            return None
        return (self.first_call_at - self.issued_at).total_seconds()


def visits(events: Iterable[dict[str, Any]]) -> list[Visit]:
    """The tickets issued in `events` (oldest first), each with its first call if one follows;
    calls of tickets issued before the first event are left out."""
    issued: dict[tuple[str, str], tuple[str, datetime]] = {}
    first_call: dict[tuple[str, str], datetime] = {}
    for event in events:
        if event["type"] == "ticket":
            issued[(_day(event), event["ticket"])] = (event["service"],
                                                          datetime.fromisoformat(event["at"]))
        elif event["type"] == "call":
            first_call.setdefault((event["ticket_day"], event["ticket"]),
                                  datetime.fromisoformat(event["at"]))
    return [Visit(day, code, service, at, first_call.get((day, code)))
            for (day, code), (service, at) in issued.items()]


def _day(event: dict[str, Any]) -> str:
    """The local day of an event (its `at` is local time with the site's offset)."""
    return str(event.get("at", ""))[:10]


async def visits_between(store: Store, first: date, last: date) -> list[Visit]:
    """The visits of local days `first`..`last` that the events stream still holds: read from
    the newest event back to the first one of day `first` (at most MAX_EVENTS)."""
    since, until = first.isoformat(), last.isoformat()
    kept: list[dict[str, Any]] = []
    before: str | None = None
    while len(kept) < MAX_EVENTS:
        page = await store.events_before(before, PAGE)
        events = [e.fields() for e in page]
        kept.extend(e for e in events if since <= _day(e) <= until)
        if not events or _day(events[-1]) < since:
            break
        before = page[-1].id
    return visits(reversed(kept))


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
