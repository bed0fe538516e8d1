"""Benchmark: the visit report on a year of archive (not a test).

Fills an archive with a seeded year of visits (default 750,000 tickets on the demo site, about
one in ten transferred once, a few no-shows, not completed and closed) by bulk insert, then
times `visit_report` repeatedly: the whole year per tenant, service, counter and month, and one
day per service. The year is closed, so the first run of a grouping computes and stores the
closed months (report_months) and later runs read them. Prints the first run, then median and
p99 of the others; exits non-zero when a median misses its target (year < 1 s, day < 50 ms).
SQLite by default; --postgresql also runs it on a PostgreSQL server started like the tests'
(Debian's postgresql).

Run: .venv/bin/python bench/report_speed.py [--tickets 750000] [--runs 7] [--postgresql]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from call_latency import pct
from serving import ROOT
from sqlalchemy import Engine, insert

from display_server.archive.db import engine, upgrade
from display_server.archive.tables import archiver_state, legs, visits
from display_server.config import SiteConfig, load_config
from display_server.reporting.visit import visit_report

sys.path.insert(0, str(ROOT / "tests"))
from conftest import free_port
from postgres_server import PostgresServer

YEAR = 2026
TARGETS_S = {"year": 1.0, "day": 0.05}
BATCH = 20_000


def tickets(site: SiteConfig, count: int, seed: int = 7) -> Iterator[tuple[dict[str, Any],
                                                                           list[dict[str, Any]]]]:
    """(visit, its legs) for `count` tickets spread over the year's days."""
    rng = random.Random(seed)
    services = site.services
    counters = [c.number for c in site.counters]
    per_day = count // 365 + 1
    made = 0
    for offset in range(365):
        day = date(YEAR, 1, 1) + timedelta(days=offset)
        opening = int(datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC).timestamp()
                      * 1000)
        for n in range(min(per_day, count - made)):
            service = services[n % len(services)]
            code = f"{service.code}{n:04d}"
            issued = opening + rng.randrange(8 * 3600_000)
            row: dict[str, Any] = {"site": site.id, "day": day.isoformat(), "code": code}
            leg_rows = []
            enqueued, current = issued, service
            for leg in range(2):
                call = enqueued + rng.randrange(1_800_000)
                counter = rng.choice(counters)
                roll = rng.random()
                outcome = ("transferred" if leg == 0 and roll < 0.1 else
                           "no_show" if roll < 0.13 else "closed" if roll < 0.15 else
                           "not_completed" if roll < 0.25 else "completed")
                called = outcome != "closed"
                end = call + rng.randrange(60_000, 900_000)
                leg_rows.append({**row, "leg": leg, "service": current.code,
                                 "tenant": current.tenant, "enqueued_ms": enqueued,
                                 "first_call_ms": call if called else None,
                                 "counter": counter if called else None,
                                 "called_ms_at_counter": call if called else None,
                                 "outcome": outcome, "finished_ms": end})
                if outcome != "transferred":
                    break
                enqueued, current = end, rng.choice(services)
            first, last = leg_rows[0], leg_rows[-1]
            yield {**row, "service": service.code, "tenant": service.tenant, "priority": "",
                   "issued_ms": issued, "first_call_ms": first["first_call_ms"],
                   "first_counter": first["counter"], "recalls": 0,
                   "transfers": len(leg_rows) - 1, "final_service": last["service"],
                   "final_counter": last["counter"], "outcome": last["outcome"],
                   "finished_ms": last["finished_ms"], "officer": None}, leg_rows
        made += min(per_day, count - made)


def fill(db: Engine, site: SiteConfig, count: int) -> float:
    """Bulk insert the year, closed by the archiver through Dec 31; the seconds it took."""
    start = time.perf_counter()
    visit_batch: list[dict[str, Any]] = []
    leg_batch: list[dict[str, Any]] = []
    with db.begin() as connection:
        for visit, its_legs in tickets(site, count):
            visit_batch.append(visit)
            leg_batch.extend(its_legs)
            if len(visit_batch) >= BATCH:
                connection.execute(insert(visits), visit_batch)
                connection.execute(insert(legs), leg_batch)
                visit_batch, leg_batch = [], []
        if visit_batch:
            connection.execute(insert(visits), visit_batch)
            connection.execute(insert(legs), leg_batch)
        connection.execute(insert(archiver_state).values(
            site=site.id, last_event_id="0-0", updated_ms=0, closed_day=f"{YEAR}-12-31",
            trimmed=False))
    return time.perf_counter() - start


def timed(db: Engine, site: SiteConfig, first: date, last: date, by: str,
          runs: int) -> tuple[list[float], dict[str, Any]]:
    seconds = []
    report: dict[str, Any] = {}
    for _ in range(runs):
        start = time.perf_counter()
        with db.connect() as connection:
            report = visit_report(connection, site, first, last, by)
        seconds.append(time.perf_counter() - start)
    return seconds, report


def run(name: str, url: str, site: SiteConfig, count: int, runs: int) -> bool:
    upgrade(url)
    db = engine(url)
    try:
        print(f"{name}: {count:,} tickets inserted in {fill(db, site, count):.1f} s")
        ok = True
        cases = [("year", by, date(YEAR, 1, 1), date(YEAR, 12, 31), runs)
                 for by in ("tenant", "service", "counter", "month")]
        cases.append(("day", "service", date(YEAR, 6, 15), date(YEAR, 6, 15), runs * 5))
        for kind, by, first, last, n in cases:
            seconds, report = timed(db, site, first, last, by, n + 1)
            cold, seconds = seconds[0], seconds[1:]  # the first run stores the closed months
            median, p99 = statistics.median(seconds), pct(seconds, 0.99)
            hit = median < TARGETS_S[kind]
            ok &= hit
            print(f"  {kind} by {by:8}: first {cold * 1000:7.1f} ms  then median "
                  f"{median * 1000:7.1f} ms  p99 "
                  f"{p99 * 1000:7.1f} ms  ({report['total']['issued']:,} issued)  "
                  f"target {TARGETS_S[kind] * 1000:.0f} ms {'ok' if hit else 'MISSED'}")
        return ok
    finally:
        db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=750_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    site = load_config(None)
    ok = True
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'archive.sqlite3'}"
        ok &= run("SQLite", url, site, args.tickets, args.runs)
    if args.postgresql:
        server = PostgresServer(free_port()).start()
        try:
            ok &= run("PostgreSQL", server.create_database(), site, args.tickets, args.runs)
        finally:
            server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
