"""Benchmark: the satisfaction survey report (SKM) on a year of answers (not a test).

Fills an SQLite archive with a seeded year of survey answers (default 200 a day, 73,000 in
all: one visitor in ten of the 750,000 tickets bench/report_speed.py assumes; on the tests'
small site) by bulk insert, then times `skm_report` on the whole year per
tenant, service, counter, officer and month, and on one day per service. Prints the median of
the runs; exits non-zero when a median misses its target (year < 1 s, day < 50 ms).

Run: .venv/bin/python bench/skm_speed.py [--per-day 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from typing import Any

from serving import ROOT
from sqlalchemy import create_engine, insert

from display_server.archive.db import upgrade
from display_server.archive.tables import survey_responses
from display_server.config import parse_config
from display_server.reporting.skm_report import skm_report

sys.path.insert(0, str(ROOT / "tests"))
from conftest import site_document

TARGETS_S = {"year": 1.0, "day": 0.05}


def answers(per_day: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    day = date(2026, 1, 1)
    while day.year == 2026:
        for i in range(per_day):
            service = rng.choice("ABD")
            rows.append({
                "site": "bench", "day": day.isoformat(), "code": f"{service}{i:04d}",
                "event_id": f"{len(rows)}-0", "ms": len(rows), "service": service,
                "tenant": "samsat" if service == "A" else "capil",
                "counter": rng.randint(1, 4), "officer": rng.choice(["budi", "sari", None]),
                "via": "status", **{f"u{k}": rng.randint(1, 4) for k in range(1, 10)},
                "gender": rng.choice(["l", "p", None]), "age": None, "education": None,
                "occupation": None})
        day += timedelta(days=1)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-day", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    site = parse_config(site_document("bench", 4))
    url = f"sqlite:///{tempfile.mkdtemp()}/archive.sqlite3"
    upgrade(url)
    db = create_engine(url)
    rows = answers(args.per_day)
    with db.begin() as connection:
        for start in range(0, len(rows), 20_000):
            connection.execute(insert(survey_responses), rows[start:start + 20_000])
    print(f"{len(rows):,} answers")
    missed = False
    cases = [(by, date(2026, 1, 1), date(2026, 12, 31), "year")
             for by in ("tenant", "service", "counter", "officer", "month")]
    cases.append(("service", date(2026, 6, 1), date(2026, 6, 1), "day"))
    for by, first, last, span in cases:
        times = []
        for _ in range(args.runs):
            with db.connect() as connection:
                started = time.perf_counter()
                skm_report(connection, site, first, last, by)
                times.append(time.perf_counter() - started)
        median = statistics.median(times)
        missed |= median > TARGETS_S[span]
        print(f"{span} by {by}: median {median * 1000:.1f} ms")
    db.dispose()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
