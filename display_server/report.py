"""`antrian report`: visitors, served, no-shows and times per service and counter, from the
daily aggregates the action scripts keep."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import redis

from display_server.clock import local_now, system_clock
from display_server.config import load_config
from display_server.keys import SiteKeys
from display_server.paths import data_dir
from display_server.redis_local import default_url
from texts import N_, number, t

COLUMNS = ("issued", "called", "served", "completed", "not_completed", "no_show", "transferred")


def days(first: date, last: date) -> Iterator[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


def summarize(stats: dict[str, int], keys: list[str]) -> list[dict[str, Any]]:
    """Rows of counts and average minutes for each key (a service code or 'c<counter>')."""
    rows = []
    for key in keys:
        row: dict[str, Any] = {"key": key}
        for column in COLUMNS:
            row[column] = stats.get(f"{column}:{key}", 0)
        called, served = row["called"], row["served"]
        row["avg_wait_min"] = round(stats.get(f"wait_ms:{key}", 0) / called / 60000, 1) if called \
            else None
        row["avg_service_min"] = round(stats.get(f"service_ms:{key}", 0) / served / 60000, 1) \
            if served else None
        rows.append(row)
    return rows


def merge(totals: dict[str, int], day_stats: dict[str, int]) -> None:
    for k, v in day_stats.items():
        totals[k] = totals.get(k, 0) + v


def _report(args: argparse.Namespace) -> int:
    site = load_config(args.config)
    today = local_now(system_clock, site.tz).date()
    first = args.start or today
    last = args.end or first
    url = default_url(args.redis_url, data_dir(args.data_dir))
    client = redis.Redis.from_url(url, decode_responses=True)
    totals: dict[str, int] = {}
    site_keys = SiteKeys(site.id)
    for day in days(first, last):
        day_stats: dict[str, str] = client.hgetall(site_keys("stats", day.isoformat()))  # type: ignore[assignment]
        merge(totals, {k: int(v) for k, v in day_stats.items()})
    keys = [s.code for s in site.services] if args.by == "service" else \
        [f"c{c.number}" for c in site.counters]
    rows = summarize(totals, keys)
    emit: Callable[[list[dict[str, Any]]], None] = {"json": _json, "csv": _csv}.get(
        args.format, _table)
    emit(rows)
    return 0


def _json(rows: list[dict[str, Any]]) -> None:
    print(json.dumps(rows, indent=2))


def _csv(rows: list[dict[str, Any]]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["key"])
    writer.writeheader()
    writer.writerows(rows)


# catalogue keys of the table's column headings (CSV and JSON keep the field names)
HEADINGS = {
    "key": N_("report.key"), "issued": N_("report.issued"), "called": N_("report.called"),
    "served": N_("report.served"), "completed": N_("report.completed"),
    "not_completed": N_("report.not_completed"), "no_show": N_("report.no_show"),
    "transferred": N_("report.transferred"), "avg_wait_min": N_("report.avg_wait_min"),
    "avg_service_min": N_("report.avg_service_min"),
}


def _table(rows: list[dict[str, Any]]) -> None:
    """Rows for people: Indonesian headings, decimal commas, '-' where nothing was measured."""
    columns = list(rows[0]) if rows else ["key"]
    print("  ".join(f"{t(HEADINGS[c]):>14}" for c in columns))
    for row in rows:
        cells = ("-" if v is None else number(v) if isinstance(v, float) else str(v)
                 for v in (row[c] for c in columns))
        print("  ".join(f"{cell:>14}" for cell in cells))


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("report", help="print visitors, served and no-shows per service/counter")
    common(p)
    p.add_argument("--from", dest="start", type=date.fromisoformat,
                   help="first day (YYYY-MM-DD, default today)")
    p.add_argument("--to", dest="end", type=date.fromisoformat,
                   help="last day (default: the first day)")
    p.add_argument("--by", choices=("service", "counter"), default="service")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--redis-url", help="Redis URL (default: ANTRIAN_REDIS_URL)")
    p.set_defaults(func=_report)
