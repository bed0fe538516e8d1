"""The archiver's SQL: one batch of events, with the visits and legs they change, in one
transaction; the archiver's saved position, day close mark and alarm. Works on SQLite and
PostgreSQL alike (their own INSERT ... ON CONFLICT)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    RowMapping,
    Table,
    and_,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite

from display_server.archive.apply import Row, apply, event_day, split, survey_row
from display_server.archive.tables import archiver_state, events, legs, survey_responses, visits

Key = tuple[str, str]  # (day, code)


def upsert(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]],
           *, update: bool = True) -> None:
    """Insert `rows`; a row whose primary key exists is updated (or left, without `update`)."""
    if not rows:
        return
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    keys = [c.name for c in table.primary_key.columns]
    if update:
        changed = {c: statement.excluded[c] for c in rows[0] if c not in keys}
        connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=changed),
                           list(rows))
    else:
        connection.execute(statement.on_conflict_do_nothing(index_elements=keys), list(rows))


def insert_new(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows`, leaving any that clash with a row already there on any unique key."""
    if rows:
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(insert(table).on_conflict_do_nothing(), list(rows))


class Tickets:
    """The visits and legs a batch reads and changes, loaded once, written at the end."""

    def __init__(self, connection: Connection, site: str) -> None:
        self.connection = connection
        self.site = site
        self.rows: dict[Key, tuple[Row | None, list[Row]]] = {}
        self.changed: set[Key] = set()

    def prefetch(self, batch: Sequence[Mapping[str, Any]]) -> None:
        """Load, in two queries, the visits and legs the batch's events name by day and code,
        and the open visits of the tickets a call completed (named by code only)."""
        named = {(event_day(e), str(e["ticket"])) for e in batch
                 if "ticket" in e and (e.get("ticket_day") or e["type"] != "done")}
        completed = {str(e["completed"]) for e in batch if e.get("completed")}
        for key in named:
            self.rows[key] = (None, [])
        wanted: list[ColumnElement[bool]] = (
            [tuple_(visits.c.day, visits.c.code).in_(named)] if named else [])
        if completed:
            wanted.append(and_(visits.c.code.in_(completed), visits.c.outcome.is_(None)))
        if not wanted:
            return
        found = self.connection.execute(
            select(visits).where(visits.c.site == self.site, or_(*wanted))).mappings()
        for row in found:
            self.rows[(row["day"], row["code"])] = (_strip(row), [])
        loaded = [key for key, (visit, _) in self.rows.items() if visit is not None]
        if not loaded:
            return
        for leg in self.connection.execute(
                select(legs).where(legs.c.site == self.site,
                                   tuple_(legs.c.day, legs.c.code).in_(loaded))
                .order_by(legs.c.leg)).mappings():
            self.rows[(leg["day"], leg["code"])][1].append(_strip(leg))

    def get(self, key: Key) -> tuple[Row | None, list[Row]]:
        """The rows of a ticket (prefetched, or none: a ticket the archive never saw)."""
        return self.rows.setdefault(key, (None, []))

    def serving(self, code: str, counter: Any, fallback: str) -> str:
        """The day of ticket `code` that `counter` is serving (an implicit done names only the
        code): the latest open visit of that code at that counter."""
        days = [day for (day, c), (v, _) in self.rows.items()
                if c == code and v is not None and v["outcome"] is None
                and v["final_counter"] == counter]
        return max(days) if days else fallback

    def apply(self, event: Mapping[str, Any], tenant_of: Mapping[str, str]) -> None:
        code = str(event["ticket"])
        day = (self.serving(code, event.get("counter"), event_day(event))
               if event["type"] == "done" and not event.get("ticket_day") else event_day(event))
        key = (day, code)
        visit, rows = self.get(key)
        changes = apply(event, visit, rows, tenant_of)
        if changes.visit is None:
            return
        by_leg = {leg["leg"]: leg for leg in rows}
        by_leg.update({leg["leg"]: leg for leg in changes.legs})
        self.rows[key] = (changes.visit, [by_leg[n] for n in sorted(by_leg)])
        self.changed.add(key)

    def save(self) -> None:
        changed = [self.rows[key] for key in sorted(self.changed)]
        upsert(self.connection, visits,
               [{"site": self.site, **visit} for visit, _ in changed if visit is not None])
        upsert(self.connection, legs,
               [{"site": self.site, **leg} for _, rows in changed for leg in rows])


def _strip(row: RowMapping) -> Row:
    return {k: v for k, v in row.items() if k != "site"}


def event_row(site: str, event_id: str, event: Mapping[str, Any]) -> Row:
    ms, _, seq = event_id.partition("-")
    counter = event.get("counter")
    return {"site": site, "event_id": event_id, "ms": int(ms), "seq": int(seq or 0),
            "type": str(event["type"]), "at": str(event["at"]), "day": event_day(event),
            "ticket": event.get("ticket"), "service": event.get("service"),
            "counter": counter if isinstance(counter, int) else None,
            "data": json.dumps({"event_id": event_id, **event}, ensure_ascii=False)}


def write(db: Engine, site: str, tenant_of: Mapping[str, str],
          batch: Sequence[tuple[str, Mapping[str, Any]]], now_ms: int) -> int:
    """Archive a batch of (event id, event) in one transaction: the events not archived yet,
    the visits and legs they change, the archiver's position. The number of new events."""
    with db.begin() as connection:
        ids = [event_id for event_id, _ in batch]
        known = set(connection.scalars(select(events.c.event_id).where(
            events.c.site == site, events.c.event_id.in_(ids))))
        fresh = [(i, e) for i, e in batch if i not in known]
        tickets = Tickets(connection, site)
        tickets.prefetch([e for _, e in fresh])
        for _, event in fresh:
            if "ticket" in event:
                for change in split(event):
                    tickets.apply(change, tenant_of)
        upsert(connection, events, [event_row(site, i, e) for i, e in fresh], update=False)
        tickets.save()
        insert_new(connection, survey_responses,
                   [{"site": site, **row} for i, e in fresh if (row := survey_row(i, e))])
        if ids:
            save_state(connection, site, now_ms, last_event_id=ids[-1])
        return len(fresh)


def load_state(db: Engine, site: str) -> tuple[str | None, str | None]:
    """The last day closed and the alarm, as saved."""
    with db.connect() as connection:
        row = connection.execute(select(archiver_state.c.closed_day, archiver_state.c.alarm)
                                 .where(archiver_state.c.site == site)).first()
    return (None, None) if row is None else (row.closed_day, row.alarm)


def save_state(connection: Connection, site: str, now_ms: int, **values: Any) -> None:
    """Set some of the archiver's saved values, creating its row if needed."""
    row = {"site": site, "last_event_id": "0-0", "updated_ms": now_ms, "trimmed": False}
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(archiver_state).values({**row, **values})
    connection.execute(statement.on_conflict_do_update(
        index_elements=["site"], set_={"updated_ms": now_ms, **values}))


def save_alarm(db: Engine, site: str, alarm: str, now_ms: int) -> None:
    with db.begin() as connection:
        save_state(connection, site, now_ms, trimmed=True, alarm=alarm)
