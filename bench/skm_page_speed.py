"""Benchmark: the printable SKM report and the dashboard's IKM lines on a year of answers (not a
test).

Fills an SQLite archive with bench/skm_speed.py's seeded year (default 200 answers a day,
73,000 in all), then times what /admin/skm does (skm_page.figures: the summary with profile,
per service and month, and the exact means; then the page's HTML) for the year and for 30
days, what /admin adds to its first paint (skm_page's today and range totals), and one PDF
of the year printed by headless Chromium. Prints medians; exits non-zero when one misses its
target (year page < 2 s, 30 days < 0.3 s, the dashboard's lines < 0.1 s).

Run: .venv/bin/python bench/skm_page_speed.py [--per-day 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from skm_speed import answers
from sqlalchemy import create_engine, insert

from display_screens.skm_page import figures, page_html, write_pdf
from display_server.archive.db import upgrade
from display_server.archive.tables import survey_responses
from display_server.config import parse_config
from display_server.reporting.skm_report import skm_report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import site_document

TARGETS_S = {"year page": 2.0, "30 days page": 0.3, "dashboard lines": 0.1}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-day", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    site = parse_config(site_document("bench", 4))
    scratch = Path(tempfile.mkdtemp())
    url = f"sqlite:///{scratch}/archive.sqlite3"
    upgrade(url)
    db = create_engine(url)
    rows = answers(args.per_day)
    with db.begin() as connection:
        for start in range(0, len(rows), 20_000):
            connection.execute(insert(survey_responses), rows[start:start + 20_000])
    print(f"{len(rows):,} answers")
    year, today = (date(2026, 1, 1), date(2026, 12, 31)), date(2026, 12, 31)
    month = (date(2026, 12, 2), date(2026, 12, 31))

    def page(first: date, last: date) -> None:
        with db.connect() as connection:
            report, means = figures(connection, site, first, last)
        page_html(site, report, means, today, "dari=&sampai=")

    def dashboard() -> None:
        with db.connect() as connection:
            skm_report(connection, site, today, today, "day")
            skm_report(connection, site, *month, "month")

    missed = False
    for name, run in (("year page", lambda: page(*year)), ("30 days page", lambda: page(*month)),
                      ("dashboard lines", dashboard)):
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        missed |= median > TARGETS_S[name]
        print(f"{name}: median {median * 1000:.1f} ms (target < {TARGETS_S[name] * 1000:.0f} ms)")
    with db.connect() as connection:
        report, means = figures(connection, site, *year)
    started = time.perf_counter()
    write_pdf(site, report, means, today, scratch / "skm.pdf")
    print(f"year PDF (headless Chromium): {time.perf_counter() - started:.2f} s, "
          f"{(scratch / 'skm.pdf').stat().st_size:,} bytes")
    db.dispose()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
