"""The archiver stores a month's report figures when its day close passes the month's last
day (real Redis, the queue scripts, SQLite and PostgreSQL), so the first report over that month
reads them; no report runs in these tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from conftest import FakeClock

from display_server.archive import db
from display_server.archive.archiver import Archiver
from display_server.archive.tables import report_months
from display_server.config import SiteConfig
from display_server.reporting import months, query
from display_server.reporting.figures import GROUPINGS
from display_server.store import Store, connect


async def drain(archiver: Archiver) -> None:
    while await archiver.step() or not archiver.state.leading:
        pass


def stored(engine: sa.Engine, site: str) -> dict[tuple[str, str], str]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(report_months.c.by, report_months.c.month,
                                            report_months.c.data)
                                  .where(report_months.c.site == site))
        return {(by, month): data for by, month, data in rows}


async def test_the_day_close_of_a_months_last_day_stores_that_months_figures(
        site: SiteConfig, redis_url: str, database_url: str) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))      # Monday 30 Nov, 10:00
    db.upgrade(database_url)
    engine = db.engine(database_url)
    redis = connect(redis_url, pool_size=4, pool_timeout=5)
    try:
        store = Store(redis, site, clock)
        archiver = Archiver(redis, site, engine, clock, block_ms=10,
                            after_close=months.store_closed)
        await store.issue("A")
        await store.issue("B")
        clock.advance(minutes=2)
        await store.call(1, ticket="A001")
        clock.advance(minutes=5)
        await store.act(1, "done", "completed")
        await drain(archiver)
        assert archiver.closed_day == "2026-11-30"
        assert stored(engine, site.id) == {}                # 29 Nov closed no month
        clock.now = datetime(2026, 11, 30, 16, 59, 59, tzinfo=UTC)  # 23:59:59 WIB
        await drain(archiver)
        assert stored(engine, site.id) == {}
        clock.now = datetime(2026, 11, 30, 17, 0, 1, tzinfo=UTC)    # 1 Dec, 00:00:01 WIB
        await drain(archiver)
        kept = stored(engine, site.id)
        assert sorted(kept) == sorted((by, "2026-11") for by in GROUPINGS)
        with engine.connect() as connection:
            for by in GROUPINGS:
                assert kept[(by, "2026-11")] == months.encode(query.tallies(
                    connection, site.id, date(2026, 11, 1), date(2026, 11, 30), by))
        dense: dict[str | None, months.Dense] = {}
        months.merge(dense, kept[("service", "2026-11")])
        by_service = months.tallies(dense)
        assert by_service["A"].counts["completed"] == 1 and by_service["A"].counts["issued"] == 1
        assert by_service["B"].counts["issued"] == 1 and by_service["B"].counts["called"] == 0
    finally:
        await redis.aclose()
        engine.dispose()


def test_a_close_after_a_gap_stores_every_month_it_ended() -> None:
    assert months.ended("2026-09-15", "2026-12-02") == [
        (date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 10, 1), date(2026, 10, 31)),
        (date(2026, 9, 1), date(2026, 9, 30))]
    assert months.ended("2026-11-30", "2026-12-01") == [(date(2026, 11, 1),
                                                          date(2026, 11, 30))]
    assert months.ended(None, "2026-12-01") == [(date(2026, 11, 1), date(2026, 11, 30))]
    assert months.ended("2026-11-29", "2026-11-30") == []
    assert months.ended(None, "2026-11-30") == []
    assert months.ended("2026-12-01", "2026-12-02") == []
