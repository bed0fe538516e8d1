"""The archiver on a real Redis and a real SQLite or PostgreSQL archive: a scripted day reaches
events, visits and legs; a killed archiver, a second one, a flushed Redis, the day close at
midnight and a trimmed stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
from conftest import FakeClock, eventually

from display_server.archive import db, writing
from display_server.archive.archiver import GROUP, Archiver
from display_server.archive.tables import events, legs, visits
from display_server.config import SiteConfig
from display_server.store import Store, connect

DAY = "2026-11-25"


def ms(hour: int, minute: int) -> int:
    return int(datetime(2026, 11, 25, hour - 7, minute, tzinfo=UTC).timestamp() * 1000)


@dataclass
class Rig:
    site: SiteConfig
    clock: FakeClock
    redis: aioredis.Redis
    store: Store
    engine: sa.Engine

    def archiver(self, **options: Any) -> Archiver:
        return Archiver(self.redis, self.site, self.engine, self.clock, block_ms=10, **options)

    def rows(self, table: sa.Table) -> list[dict[str, Any]]:
        keys = list(table.primary_key.columns)
        with self.engine.connect() as connection:
            found = connection.execute(sa.select(table).where(table.c.site == self.site.id)
                                       .order_by(*keys)).mappings()
            return [{k: v for k, v in row.items() if k != "site"} for row in found]

    def visit(self, code: str) -> dict[str, Any]:
        return next(v for v in self.rows(visits) if v["code"] == code)

    async def at(self, minute: int) -> None:
        """Move the clock to 10:`minute` of the day."""
        self.clock.now = datetime(2026, 11, 25, 3, minute, tzinfo=UTC)


@pytest.fixture
async def rig(site: SiteConfig, clock: FakeClock, redis_url: str,
              database_url: str) -> AsyncIterator[Rig]:
    db.upgrade(database_url)
    engine = db.engine(database_url)
    client = connect(redis_url, pool_size=8, pool_timeout=5)
    yield Rig(site, clock, client, Store(client, site, clock), engine)
    await client.aclose()
    engine.dispose()


async def drain(archiver: Archiver) -> int:
    """Run rounds until one archives nothing; how many events were archived."""
    total = 0
    while (done := await archiver.step()) or not archiver.state.leading:
        total += done
    return total


async def work_the_day(rig: Rig) -> None:
    """15 events: tickets, calls (one completing the previous ticket), a recall, a transfer, a
    no-show put back, done with both outcomes; A003 is left waiting."""
    s = rig.store
    await rig.at(0)
    for service in ("A", "A", "B", "A"):
        await s.issue(service)
    await rig.at(1)
    await s.call(1, ticket="A001")
    await rig.at(2)
    await s.act(1, "recall")
    await rig.at(5)
    await s.call(1, ticket="A002")         # completes A001
    await rig.at(6)
    await s.act(1, "transfer", "B")
    await rig.at(7)
    await s.call(2, ticket="B001")
    await rig.at(8)
    await s.act(2, "skip")
    await rig.at(9)
    await s.act(2, "restore", "B001")
    await rig.at(10)
    await s.call(2, ticket="A002")
    await rig.at(15)
    await s.act(2, "done", "not_completed")
    await rig.at(16)
    await s.call(1, ticket="B001")
    await rig.at(20)
    await s.act(1, "done", "completed")


def check_the_day(rig: Rig) -> None:
    """Every event once, and the visits and legs of work_the_day."""
    archived = rig.rows(events)
    assert len(archived) == 15
    assert [e["type"] for e in sorted(archived, key=lambda e: (e["ms"], e["seq"]))] == [
        "ticket", "ticket", "ticket", "ticket", "call", "recall", "call", "transfer", "call",
        "skip", "restore", "call", "done", "call", "done"]
    assert {e["day"] for e in archived} == {DAY}
    columns = ("code", "service", "tenant", "issued_ms", "first_call_ms", "first_counter",
               "recalls", "transfers", "final_service", "final_counter", "outcome", "finished_ms")
    assert [tuple(v[c] for c in columns) for v in rig.rows(visits)] == [
        ("A001", "A", "samsat", ms(10, 0), ms(10, 1), 1, 1, 0, "A", 1, "completed", ms(10, 5)),
        ("A002", "A", "samsat", ms(10, 0), ms(10, 5), 1, 0, 1, "B", 2, "not_completed",
         ms(10, 15)),
        ("A003", "A", "samsat", ms(10, 0), None, None, 0, 0, "A", None, None, None),
        ("B001", "B", "capil", ms(10, 0), ms(10, 7), 2, 0, 0, "B", 1, "completed", ms(10, 20)),
    ]
    columns = ("code", "leg", "service", "tenant", "enqueued_ms", "first_call_ms", "counter",
               "called_ms_at_counter", "outcome", "finished_ms")
    assert [tuple(leg[c] for c in columns) for leg in rig.rows(legs)] == [
        ("A001", 0, "A", "samsat", ms(10, 0), ms(10, 1), 1, ms(10, 1), "completed", ms(10, 5)),
        ("A002", 0, "A", "samsat", ms(10, 0), ms(10, 5), 1, ms(10, 5), "transferred",
         ms(10, 6)),
        ("A002", 1, "B", "capil", ms(10, 6), ms(10, 10), 2, ms(10, 10), "not_completed",
         ms(10, 15)),
        ("A003", 0, "A", "samsat", ms(10, 0), None, None, None, None, None),
        ("B001", 0, "B", "capil", ms(10, 0), ms(10, 7), 1, ms(10, 16), "completed", ms(10, 20)),
    ]


async def test_every_event_of_a_day_reaches_events_visits_and_legs(rig: Rig) -> None:
    archiver = rig.archiver()
    await work_the_day(rig)
    assert await drain(archiver) == 15
    check_the_day(rig)
    report = await archiver.report()
    assert (report["lag"], report["alarm"]) == (0, None)


async def test_an_archiver_killed_after_writing_before_acknowledging_loses_and_doubles_nothing(
        rig: Rig) -> None:
    first = rig.archiver(batch=4)
    await work_the_day(rig)
    assert await first.step() == 4                 # one batch written and acknowledged
    # the next batch: read and written, then the process dies before XACK
    reply = await rig.redis.xreadgroup(GROUP, first.consumer, {first.stream: ">"}, count=4)
    batch = [(str(i), json.loads(f["d"])) for i, f in reply[0][1]]
    writing.write(rig.engine, rig.site.id, first.tenant_of, batch, 0)
    await rig.redis.delete(first.lease_key)         # its lease runs out
    second = rig.archiver(batch=4, claim_idle_ms=0)
    assert await drain(second) == 11                # 4 claimed again (skipped), 7 new
    check_the_day(rig)
    assert (await second.report())["lag"] == 0


async def test_an_archiver_killed_after_reading_before_writing_is_taken_over_in_order(
        rig: Rig) -> None:
    """The leaseholder read a batch and died (kill -9) before writing it: the process that
    takes the lease next archives that batch first, before anything newer, although the batch
    was read less than a lease ago (newer events applied first would leave its calls out)."""
    first = rig.archiver(batch=4)
    await work_the_day(rig)
    assert await first.step() == 4                  # the four tickets
    await rig.redis.xreadgroup(GROUP, first.consumer, {first.stream: ">"}, count=4)
    await rig.redis.delete(first.lease_key)          # its lease runs out; nothing written
    second = rig.archiver(batch=4)                   # the default: claims after a lease idle
    assert await drain(second) == 11
    check_the_day(rig)
    assert (await second.report())["lag"] == 0


async def test_a_failed_write_is_archived_again_before_newer_events(
        site: SiteConfig, clock: FakeClock, redis_url: str, tmp_path: Path) -> None:
    """A round whose archive write fails leaves its batch read and unacknowledged: the next
    round writes that batch again first, so events reach the archive in stream order."""
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    engine = db.engine(url)                         # not migrated yet: the write fails
    client = connect(redis_url, pool_size=4, pool_timeout=5)
    try:
        store = Store(client, site, clock)
        archiver = Archiver(client, site, engine, clock, block_ms=10, batch=1, retry_s=0.01)
        await store.issue("A")
        with pytest.raises(sa.exc.OperationalError):
            await archiver.step()                   # A001's ticket event read, not written
        db.migrate(engine)
        await store.call(1)
        task = asyncio.create_task(archiver.run())
        try:
            await eventually(lambda: archiver.state.archived >= 2, "both events archived")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        with engine.connect() as connection:
            visit = connection.execute(sa.select(visits).where(
                visits.c.site == site.id)).mappings().one()
        assert (visit["code"], visit["first_counter"]) == ("A001", 1)
    finally:
        await client.aclose()
        engine.dispose()


async def test_two_archivers_on_one_stream_archive_each_event_once(rig: Rig) -> None:
    one, two = rig.archiver(batch=3), rig.archiver(batch=3)
    await work_the_day(rig)
    archived = 0
    for _ in range(12):
        archived += await one.step() + await two.step()
    assert archived == 15
    assert one.state.leading != two.state.leading   # exactly one holds the lease
    check_the_day(rig)


async def test_the_archive_keeps_everything_after_redis_loses_its_data(rig: Rig) -> None:
    await work_the_day(rig)
    await drain(rig.archiver())
    await rig.redis.delete(*[key async for key in rig.redis.scan_iter(
        match=rig.store.keys.prefix + "*")])
    archiver = rig.archiver()
    assert await drain(archiver) == 0               # a new, empty stream: nothing to add
    check_the_day(rig)
    await rig.store.issue("A")                      # numbering starts again: A001 is taken
    assert await drain(archiver) == 1
    assert rig.visit("A001")["outcome"] == "completed"


async def test_day_close_at_local_midnight_closes_open_tickets_as_closed(rig: Rig) -> None:
    archiver = rig.archiver()
    await work_the_day(rig)
    await rig.at(30)
    await rig.store.call(1, ticket="A003")          # called and never finished
    await rig.store.issue("B")                      # B002: never called
    await drain(archiver)
    assert rig.visit("A003")["outcome"] is None
    rig.clock.now = datetime(2026, 11, 25, 16, 59, 59, tzinfo=UTC)  # 23:59:59 WIB
    await drain(archiver)
    assert rig.visit("B002")["outcome"] is None
    rig.clock.now = datetime(2026, 11, 25, 17, 0, 1, tzinfo=UTC)    # 00:00:01 WIB
    await drain(archiver)
    midnight = ms(24, 0)
    assert {(v["code"], v["outcome"], v["finished_ms"]) for v in rig.rows(visits)
            if v["code"] in ("A003", "B002")} == {("A003", "closed", midnight),
                                                   ("B002", "closed", midnight)}
    assert [(leg["code"], leg["outcome"]) for leg in rig.rows(legs)
            if leg["outcome"] == "closed"] == [("A003", "closed"), ("B002", "closed")]
    assert rig.visit("A001")["outcome"] == "completed"   # finished tickets stay as they were


async def test_events_trimmed_before_they_were_archived_raise_the_alarm(rig: Rig) -> None:
    archiver = rig.archiver()
    await rig.store.issue("A")
    await drain(archiver)
    assert (await archiver.report())["alarm"] is None
    for _ in range(5):
        await rig.store.issue("A")
    await rig.redis.xtrim(archiver.stream, maxlen=2, approximate=False)
    await archiver.step()
    alarm = (await archiver.report())["alarm"]
    assert alarm is not None and alarm.startswith("3 events were trimmed")
    # kept in the archive: a restarted process still shows it
    assert writing.load_state(rig.engine, rig.site.id)[1] == alarm


async def test_the_archiver_survives_a_failing_archive_and_catches_up_when_it_works(
        site: SiteConfig, clock: FakeClock, redis_url: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    engine = db.engine(url)                         # not migrated yet: every write fails
    client = connect(redis_url, pool_size=4, pool_timeout=5)
    archiver = Archiver(client, site, engine, clock, block_ms=10, retry_s=0.01)
    task = asyncio.create_task(archiver.run())
    try:
        await Store(client, site, clock).issue("A")
        await eventually(lambda: archiver.state.errors >= 3, "failed rounds")
        assert not task.done()
        db.migrate(engine)
        await eventually(lambda: archiver.state.archived == 1, "the ticket archived")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.aclose()
        engine.dispose()
