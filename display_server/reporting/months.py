"""The tallies of closed months, kept in `report_months`: a month whose every day the archiver
has closed (archiver_state.closed_day) can no longer change, so its tallies are computed once,
stored as JSON and merged from there. Durations are stored dense (a list indexed by second),
so twelve months merge as list additions.

The archiver stores them itself (store_closed, handed to it as its after-close hook) when its
day close passes a month's last day, so the first report over that month reads them."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import date, timedelta
from operator import add

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from display_server.archive.tables import archiver_state, report_months
from display_server.reporting.figures import GROUPINGS, Tally
from display_server.reporting.query import tallies as query_tallies

Dense = tuple[Counter[str], list[int], list[int]]  # counts, waits, services per second


def closed_through(connection: Connection, site: str) -> str:
    """The last local day the archiver closed ('' when none)."""
    day = connection.execute(select(archiver_state.c.closed_day).where(
        archiver_state.c.site == site)).scalar()
    return day or ""


def _dense(histogram: Counter[int]) -> list[int]:
    values = [0] * (max(histogram) + 1 if histogram else 0)
    for second, n in histogram.items():
        values[second] = n
    return values


def _sum(a: list[int], b: list[int]) -> list[int]:
    longer, shorter = (a, b) if len(a) >= len(b) else (b, a)
    return [*map(add, longer, shorter), *longer[len(shorter):]]


def encode(groups: dict[str | None, Tally]) -> str:
    return json.dumps([[key, dict(t.counts), _dense(t.waits), _dense(t.services)]
                       for key, t in groups.items()], separators=(",", ":"))


def merge(into: dict[str | None, Dense], data: str) -> None:
    for key, counts, waits, services in json.loads(data):
        known = into.get(key)
        if known is None:
            into[key] = (Counter(counts), waits, services)
        else:
            known[0].update(counts)
            into[key] = (known[0], _sum(known[1], waits), _sum(known[2], services))


def tallies(dense: dict[str | None, Dense]) -> dict[str | None, Tally]:
    """The merged months as tallies."""
    return {key: Tally(counts, Counter({s: n for s, n in enumerate(waits) if n}),
                       Counter({s: n for s, n in enumerate(services) if n}))
            for key, (counts, waits, services) in dense.items()}


def cached(connection: Connection, site: str, by: str, months: list[str]) -> dict[str, str]:
    """The stored tallies (JSON) of those months that have them."""
    rows = connection.execute(select(report_months.c.month, report_months.c.data).where(
        report_months.c.site == site, report_months.c.by == by,
        report_months.c.month.in_(months)))
    return {month: data for month, data in rows}


def store(connection: Connection, site: str, by: str, month: str, data: str,
          now_ms: int) -> None:
    """Keep a closed month's tallies (another report storing it first is as good)."""
    try:
        connection.execute(report_months.insert().values(site=site, by=by, month=month,
                                                         data=data, computed_ms=now_ms))
        connection.commit()
    except IntegrityError:
        connection.rollback()


def whole_month(first: date, last: date) -> bool:
    """Whether first..last is one calendar month, from its first day to its last."""
    return first.day == 1 and first.month == last.month and (last + timedelta(days=1)).day == 1


def ended(previous: str | None, today: str, most: int = 12) -> list[tuple[date, date]]:
    """The months (first day, last day) whose last day a day close from `previous` (the day
    closed before; None: none) to `today` passed: the month ending the day before today, and
    back to the one ending on `previous`, at most `most`."""
    end = date.fromisoformat(today) - timedelta(days=1)
    since = date.fromisoformat(previous) if previous else end
    found: list[tuple[date, date]] = []
    while len(found) < most:
        last = end if (end + timedelta(days=1)).day == 1 else end.replace(day=1) - timedelta(
            days=1)
        if last < since:
            break
        found.append((last.replace(day=1), last))
        end = last.replace(day=1) - timedelta(days=1)
    return found


def store_closed(db: Engine, site: str, previous: str | None, today: str) -> list[str]:
    """After a day close from `previous` to `today`: store every grouping's tallies of each
    month it closed that has none yet; the months stored."""
    done = []
    with db.connect() as connection:
        for first, last in ended(previous, today):
            month = first.isoformat()[:7]
            for by in GROUPINGS:
                if cached(connection, site, by, [month]):
                    continue
                data = encode(query_tallies(connection, site, first, last, by))
                connection.rollback()  # end the reading transaction before store commits
                store(connection, site, by, month, data, int(time.time() * 1000))
            done.append(month)
    return done
