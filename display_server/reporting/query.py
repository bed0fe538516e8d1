"""The visit report's query: three grouped SELECTs on the archive (SQLAlchemy Core, the same
SQL on SQLite and PostgreSQL) that fill one figures.Tally per group.

- counts, from `legs` (a transfer starts a new leg): issued in leg 0 (where it was taken),
  called / completed / not completed / no-show / transferred in the leg where they happened;
- waits, from `visits`: first call − issue, in the group of the first call (its service and
  tenant are the visit's origin, its counter the first counter);
- service times, from `legs` that ended done: finished − the first call at that counter.
By officer, a leg counts under its visit's officer (`visits.officer`: who called, skipped or
finished the ticket last from a PIN session; tickets only token sessions served are in no row).
Durations are whole seconds (rounded down) counted per value, so the percentiles are exact on
those seconds and the database sends a few thousand rows, not one per ticket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import ColumnElement, Connection, and_, case, func, literal_column, select
from sqlalchemy import Table as SqlTable

from display_server.archive.tables import legs, visits
from display_server.reporting.figures import Tally

OUTCOMES = ("completed", "not_completed", "no_show", "transferred")
# what a grouping names a visit or a leg by, per table
Grouping = Callable[[SqlTable], ColumnElement[str] | ColumnElement[int]]
# Keys are expressions (`|| ''`, `+ 0`), not bare columns: without statistics SQLite would walk
# the whole site in the key's index order to skip a sort, instead of reading the days asked.
KEYS: dict[str, Grouping] = {
    "service": lambda table: table.c.service + literal_column("''"),
    "tenant": lambda table: table.c.tenant + literal_column("''"),
    "counter": lambda table: (table.c.first_counter if table is visits else table.c.counter)
    + literal_column("0"),
    "officer": lambda table: visits.c.officer + literal_column("''"),
    "day": lambda table: table.c.day,
    # literal numbers: the same SQL text in SELECT and GROUP BY (PostgreSQL compares them)
    "month": lambda table: func.substr(table.c.day, literal_column("1"), literal_column("7")),
}


def _where(table: SqlTable, site: str, first: date, last: date) -> ColumnElement[bool]:
    return and_(table.c.site == site, table.c.day >= first.isoformat(),
                table.c.day <= last.isoformat())


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def tallies(connection: Connection, site: str, first: date, last: date,
            by: str) -> dict[str | None, Tally]:
    """Each group's tally over the local days first..last (None: legs no counter called)."""
    groups: dict[str | None, Tally] = {}

    def tally(key: object) -> Tally:
        name = None if key is None else str(key)
        found = groups.get(name)
        if found is None:
            found = groups[name] = Tally()
        return found

    key = KEYS[by]
    # by officer the legs are read with their visit, which names the officer
    source = legs.join(visits, and_(visits.c.site == legs.c.site, visits.c.day == legs.c.day,
                                    visits.c.code == legs.c.code)) if by == "officer" else legs
    counts = select(
        key(legs), _count(legs.c.leg == 0), _count(legs.c.first_call_ms.is_not(None)),
        *(_count(legs.c.outcome == outcome) for outcome in OUTCOMES),
    ).select_from(source).where(_where(legs, site, first, last)).group_by(key(legs))
    for group, issued, called, *outcomes in connection.execute(counts):
        counted = tally(group).counts
        counted.update({"issued": issued or 0, "called": called or 0})
        counted.update({name: n or 0 for name, n in zip(OUTCOMES, outcomes, strict=True)})

    wait = (visits.c.first_call_ms - visits.c.issued_ms) // 1000
    waits = select(key(visits), wait, func.count()).where(
        _where(visits, site, first, last), visits.c.first_call_ms.is_not(None),
    ).group_by(key(visits), wait)
    for group, seconds, n in connection.execute(waits):
        tally(group).waits[int(seconds)] += n

    service = (legs.c.finished_ms - legs.c.called_ms_at_counter) // 1000
    services = select(key(legs), service, func.count()).select_from(source).where(
        _where(legs, site, first, last), legs.c.called_ms_at_counter.is_not(None),
        legs.c.finished_ms.is_not(None), legs.c.outcome.in_(("completed", "not_completed")),
    ).group_by(key(legs), service)
    for group, seconds, n in connection.execute(services):
        tally(group).services[int(seconds)] += n
    return groups
