"""The visit report of SPEC.md: `{"from", "to", "by", "rows", "total"}` for local days
first..last, one ROW per tenant, service, counter, officer, day or month, named from the site
config (an officer by the name of their account, which the caller reads from Redis, else by
their id: the archive keeps only the id).

Long ranges are read a month at a time (tallies are histograms, so they add up exactly), which
is what the progress callback counts; a month the archiver has closed is read from
report_months (reporting.months)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from display_server.config import SiteConfig
from display_server.reporting import months
from display_server.reporting.figures import Tally, row, total
from display_server.reporting.query import tallies
from texts import long_date, t
from texts.formats import month_year

Progress = Callable[[int, int], None]  # (chunks done, chunks in all)


def chunks(first: date, last: date) -> Iterator[tuple[date, date]]:
    """first..last cut at month ends: (2026-01-15, 2026-03-02) → Jan 15-31, Feb, Mar 1-2."""
    while first <= last:
        next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        end = min(last, next_month - timedelta(days=1))
        yield first, end
        first = end + timedelta(days=1)


def _days(first: date, last: date) -> Iterator[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


def _named_keys(site: SiteConfig, by: str, first: date, last: date) -> dict[str, str]:
    """Every key the report lists even without a visit, in order, with its name."""
    if by == "service":
        return {s.code: s.name for s in site.services}
    if by == "tenant":
        return {tenant.id: tenant.name for tenant in site.tenants}
    if by == "counter":
        return {str(c.number): c.name for c in site.counters}
    if by == "day":
        return {d.isoformat(): long_date(d) for d in _days(first, last)}
    if by == "officer":  # officers who served someone in the range, by id (Redis has names)
        return {}
    return {d.isoformat()[:7]: month_year(d) for d in _days(first, last)
            if d.day == 1 or d == first}


def _groups(connection: Connection, site: str, first: date, last: date, by: str,
            progress: Progress | None) -> dict[str | None, Tally]:
    """Each group's tally: whole closed months from report_months (stored on first use), the
    other days from the visits and legs."""
    parts = list(chunks(first, last))
    whole = [(start, end) for start, end in parts if months.whole_month(start, end)]
    closed = months.closed_through(connection, site) if whole else ""
    kept = {start.isoformat()[:7] for start, end in whole if end.isoformat() <= closed}
    stored = months.cached(connection, site, by, sorted(kept)) if kept else {}
    groups: dict[str | None, Tally] = {}
    dense: dict[str | None, months.Dense] = {}
    for done, (start, end) in enumerate(parts, 1):
        month = start.isoformat()[:7]
        if month in kept:
            data = stored.get(month)
            if data is None:
                data = months.encode(tallies(connection, site, start, end, by))
                months.store(connection, site, by, month, data, int(time.time() * 1000))
            months.merge(dense, data)
        else:
            _add(groups, tallies(connection, site, start, end, by))
        if progress is not None:
            progress(done, len(parts))
    _add(groups, months.tallies(dense))
    return groups


def _add(groups: dict[str | None, Tally], more: dict[str | None, Tally]) -> None:
    for key, tally in more.items():
        if key in groups:
            groups[key].add(tally)
        else:
            groups[key] = tally


def visit_report(connection: Connection, site: SiteConfig, first: date, last: date, by: str,
                 progress: Progress | None = None,
                 officer_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The report's JSON. A counter or an officer issues nothing: their rows have issued 0 (the
    total counts every ticket). Legs no counter called belong to no counter row, only to the
    total. By officer a row's name is `officer_names`' for its id (officers.names), else the
    id."""
    groups = _groups(connection, site.id, first, last, by, progress)
    names = _named_keys(site, by, first, last)
    extra = sorted(k for k in groups if k is not None and k not in names)
    others = officer_names if by == "officer" and officer_names else {}
    rows = []
    for key in [*names, *extra]:
        figures = row(key, names.get(key) or others.get(key, key), groups.get(key, Tally()))
        if by in ("counter", "officer"):
            figures["issued"] = 0
        rows.append(figures)
    return {"from": first.isoformat(), "to": last.isoformat(), "by": by, "rows": rows,
            "total": row("total", t("report.total"), total(groups.values()))}
