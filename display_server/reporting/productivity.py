"""The counter-productivity report: per counter over local days first..last, tickets served
(as in the visit report by counter), open time, served per open hour and pause time by reason.

The rule (docs/contract.md, extensions): a counter's **open span** on a local day runs from its
first `call` to the last event that finished a ticket there (`done`, `skip`, `transfer`, or a
`call` that completed the ticket before it); no finish after the first call, no span. A pause
runs from its `pause` to the counter's next `resume`, `call` or `pause` (a new reason), or to
the end of the span; only the part inside the span counts. Open time = span − pauses.
Seconds are rounded down at the end, served per open hour to two decimals; under
MIN_OPEN_S of open time there is no rate (null): early in the day a counter open two minutes
with one visitor served would read 30 an hour."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from display_server.archive.tables import events
from display_server.config import SiteConfig
from display_server.reporting.query import tallies
from texts import t

TYPES = ("call", "done", "skip", "transfer", "pause", "resume")
MIN_OPEN_S = 15 * 60  # the least open time a served-per-open-hour rate is given for
FINISHES = ("done", "skip", "transfer")


class Day:
    """What one counter did on one local day: its open span and its pauses (ms)."""

    def __init__(self) -> None:
        self.first_call: int | None = None
        self.last_finish: int | None = None
        self.pauses: list[tuple[str, int, int | None]] = []  # reason, from, to (None: open)

    def event(self, kind: str, ms: int, data: dict[str, Any]) -> None:
        if self.pauses and self.pauses[-1][2] is None and kind in ("resume", "call", "pause"):
            reason, start, _ = self.pauses[-1]
            self.pauses[-1] = (reason, start, ms)
        if kind == "pause":
            self.pauses.append((str(data.get("reason") or ""), ms, None))
        elif kind == "call" and self.first_call is None:
            self.first_call = ms
        elif self.first_call is not None and (
                kind in FINISHES or (kind == "call" and data.get("completed"))):
            self.last_finish = ms

    def figures(self) -> tuple[int, Counter[str]]:
        """Open ms and pause ms per reason, inside the open span."""
        paused: Counter[str] = Counter()
        if self.first_call is None or self.last_finish is None:
            return 0, paused
        start, end = self.first_call, self.last_finish
        for reason, a, b in self.pauses:
            inside = min(end if b is None else b, end) - max(a, start)
            if inside > 0:
                paused[reason] += inside
        return end - start - sum(paused.values()), paused


def _line(key: str, name: str, served: int, open_ms: int,
          paused: Counter[str]) -> dict[str, Any]:
    return {"key": key, "name": name, "served": served, "open_s": open_ms // 1000,
            "served_per_open_hour": round(served * 3_600_000 / open_ms, 2)
            if open_ms >= MIN_OPEN_S * 1000 else None,
            "pause_s": {reason: paused[reason] // 1000 for reason in sorted(paused)},
            "pause_total_s": sum(paused.values()) // 1000}


def productivity_report(connection: Connection, site: SiteConfig, first: date,
                        last: date) -> dict[str, Any]:
    """`{"from", "to", "reasons", "rows", "total"}`: a row per counter of the site (then any
    other counter the archive names), each `{"key", "name", "served", "open_s",
    "served_per_open_hour", "pause_s": {reason: seconds}, "pause_total_s"}`."""
    # an event's `day` is its ticket's (a day before, for a ticket called after midnight);
    # its time is `at`, the site clock's (the stream id's ms is Redis's)
    found = connection.execute(select(
        events.c.counter, events.c.at, events.c.type, events.c.data,
    ).where(
        events.c.site == site.id, events.c.type.in_(TYPES), events.c.counter.is_not(None),
        events.c.day >= (first - timedelta(days=1)).isoformat(),
        events.c.day <= last.isoformat(),
    ).order_by(events.c.ms, events.c.seq))
    days: dict[tuple[int, date], Day] = defaultdict(Day)
    for counter, at, kind, data in found:
        moment = datetime.fromisoformat(at).astimezone(site.tz)
        if first <= moment.date() <= last:
            days[(int(counter), moment.date())].event(
                kind, int(moment.timestamp() * 1000), json.loads(data))
    open_ms: Counter[str] = Counter()
    paused: dict[str, Counter[str]] = defaultdict(Counter)
    for (counter, _), day in days.items():
        opened, pauses = day.figures()
        open_ms[str(counter)] += opened
        paused[str(counter)].update(pauses)
    served = {key: tally.counts["completed"] + tally.counts["not_completed"]
              for key, tally in tallies(connection, site.id, first, last, "counter").items()
              if key is not None}
    names = {str(c.number): c.name for c in site.counters}
    seen = set(open_ms) | set(served) | set(paused)
    keys = [*names, *sorted((k for k in seen if k not in names), key=int)]
    rows = [_line(key, names.get(key, key), served.get(key, 0), open_ms[key], paused[key])
            for key in keys]
    every: Counter[str] = Counter()
    for pauses in paused.values():
        every.update(pauses)
    total = _line("total", t("report.total"), sum(served.get(k, 0) for k in keys),
                  sum(open_ms.values()), every)
    return {"from": first.isoformat(), "to": last.isoformat(), "reasons": sorted(every),
            "rows": rows, "total": total}
