"""Benchmark: how fast the archiver catches up with a stream of simulated traffic (not a test).

Fills the demo site's events stream on a fresh redis-server with `--days` days of `--per-day`
visitors from the seeded simulator (the real Lua scripts), then, in each of `--runs` runs,
archives the whole stream from scratch into a new archive (SQLite in a temporary dir, or
`--database-url`, emptied first) with the Archiver: consumer group, batches, events, visits and
legs, one transaction a batch. As a floor, each run also copies the same entries with one raw
XRANGE and one executemany into the events table alone. Prints events/s of both (median of the
runs) and exits non-zero when the archiver's median is under `--target` (2,000 events/s).

Run: .venv/bin/python bench/archiver_speed.py [--days 20] [--per-day 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import RedisServer
from sqlalchemy import delete

from display_server.archive import db as archive_db
from display_server.archive.archiver import GROUP, Archiver
from display_server.archive.tables import events, legs, visits
from display_server.archive.writing import event_row
from display_server.config import SiteConfig, load_config
from display_server.keys import SiteKeys
from display_server.simulate import SimClock, drain, simulate
from display_server.store import connect


def empty(url: str) -> None:
    """The archive migrated and without rows (a PostgreSQL database may be reused)."""
    archive_db.upgrade(url)
    engine = archive_db.engine(url)
    with engine.begin() as connection:
        for table in (events, visits, legs):
            connection.execute(delete(table))
    engine.dispose()


async def archiver_run(redis_url: str, site: SiteConfig, url: str) -> tuple[int, float]:
    """Events archived by a new consumer group from the stream's start, and the seconds."""
    redis = connect(redis_url, pool_size=2, pool_timeout=10)
    stream = SiteKeys(site.id)("events")
    await redis.xgroup_destroy(stream, GROUP)
    engine = archive_db.engine(url)
    archiver = Archiver(redis, site, engine, SimClock(), block_ms=1)
    await redis.delete(archiver.lease_key)  # the last run's process is gone
    started = time.perf_counter()
    archived = await drain(archiver)
    took = time.perf_counter() - started
    engine.dispose()
    await redis.aclose()
    return archived, took


def floor_run(redis_url: str, site: SiteConfig, url: str) -> tuple[int, float]:
    """The same entries read with one XRANGE and written with one executemany of event rows."""
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    engine = archive_db.engine(url)
    started = time.perf_counter()
    entries: list[tuple[str, dict[str, str]]] = cast(
        Any, client.xrange(SiteKeys(site.id)("events")))
    rows = [event_row(site.id, i, json.loads(fields["d"])) for i, fields in entries]
    with engine.begin() as connection:
        connection.execute(events.insert(), rows)
    took = time.perf_counter() - started
    engine.dispose()
    client.close()
    return len(rows), took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--per-day", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target", type=float, default=2000.0, help="events/s")
    parser.add_argument("--database-url", help="default: SQLite in a temporary dir")
    args = parser.parse_args()
    site = load_config(None)
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp) / "redis").start()
        try:
            asyncio.run(simulate(site, server.url, None, first=date(2026, 3, 2),
                                 days=args.days, per_day=args.per_day, seed=1,
                                 stream_maxlen=10_000_000))
            archived, floor = [], []
            for run in range(args.runs):
                url = args.database_url or f"sqlite:///{tmp}/archive-{run}.sqlite3"
                url = archive_db.database_url(Path(tmp), {"ANTRIAN_DATABASE_URL": url})
                empty(url)
                n, took = asyncio.run(archiver_run(server.url, site, url))
                archived.append(n / took)
                empty(url)
                m, took_floor = floor_run(server.url, site, url)
                floor.append(m / took_floor)
                print(f"run {run + 1}: archiver {n} events in {took:.2f} s ({n / took:,.0f}/s); "
                      f"floor {m} in {took_floor:.2f} s ({m / took_floor:,.0f}/s)")
        finally:
            server.stop()
    median, median_floor = statistics.median(archived), statistics.median(floor)
    print(f"archiver: median {median:,.0f} events/s (target >= {args.target:,.0f}); "
          f"floor (XRANGE + executemany into events only): {median_floor:,.0f} events/s; "
          f"archiver at {median / median_floor:.0%} of the floor")
    return 0 if median >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
