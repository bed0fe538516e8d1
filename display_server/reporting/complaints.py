"""The complaint desk's report (`antrian report --complaints`): per category or per tenant, the
complaints received in the range and of those how many are answered, closed, still open and
overdue, the age of the oldest still open and the median days to the first answer; JSON, CSV or
a text table.

Overdue (display_server.complaints.timing): answered or closed after the due day, or still
unanswered past it on the day the report runs.
"""

from __future__ import annotations

import statistics
from datetime import date
from typing import Any, TextIO

from sqlalchemy import Connection, select

from display_server.archive.tables import complaints
from display_server.complaints import OPEN_STATUSES, category_name, tenant_name, timing
from display_server.config import SiteConfig
from display_server.reporting import formats
from texts import N_, t

GROUPINGS = ("category", "tenant")
COLUMNS = ("key", "name", "received", "answered", "closed", "open", "overdue",
           "oldest_open_days", "median_days_to_answer")
HEADINGS = {
    "key": N_("report.key"), "name": N_("report.name"),
    "received": N_("complaint.report.received"), "answered": N_("complaint.report.answered"),
    "closed": N_("complaint.report.closed"), "open": N_("complaint.report.open"),
    "overdue": N_("complaint.report.overdue"),
    "oldest_open_days": N_("complaint.report.oldest_open_days"),
    "median_days_to_answer": N_("complaint.report.median_days"),
}
UNASSIGNED = "-"


def _figures(key: str, name: str, rows: list[tuple[Any, Any]]) -> dict[str, Any]:
    waits = [timed.days_to_answer for _, timed in rows if timed.days_to_answer is not None]
    ages = [timed.age_days for row, timed in rows if row.status in OPEN_STATUSES]
    return {
        "key": key, "name": name,
        "received": len(rows),
        "answered": sum(1 for row, _ in rows if row.answered_ms is not None),
        "closed": sum(1 for row, _ in rows if row.closed_ms is not None),
        "open": sum(1 for row, _ in rows if row.status in OPEN_STATUSES),
        "overdue": sum(1 for _, timed in rows if timed.overdue),
        "oldest_open_days": max(ages) if ages else None,
        "median_days_to_answer": round(statistics.median(waits), 2) if waits else None,
    }


def complaints_report(connection: Connection, site: SiteConfig, first: date, last: date,
                      by: str, today: date) -> dict[str, Any]:
    """`{"from", "to", "by", "answer_days", "working_days", "rows": [ROW...], "total": ROW}`;
    rows in the config's order of categories or tenants (unassigned last), only those with
    complaints."""
    found = connection.execute(select(complaints).where(
        complaints.c.site == site.id, complaints.c.day >= first.isoformat(),
        complaints.c.day <= last.isoformat())).all()
    timed = [(row, timing(row, site, today)) for row in found]
    order = [c.id for c in site.complaints.categories] if by == "category" else \
        [tenant.id for tenant in site.tenants]
    groups: dict[str, list[tuple[Any, Any]]] = {}
    for row, timing_of_row in timed:
        groups.setdefault(_key(row, by), []).append((row, timing_of_row))
    keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
    return {
        "from": first.isoformat(), "to": last.isoformat(), "by": by,
        "answer_days": site.complaints.answer_days,
        "working_days": site.complaints.working_days,
        "rows": [_figures(key, _name(site, key, by), groups[key]) for key in keys],
        "total": _figures("total", t("complaint.report.total"), timed),
    }


def _key(row: Any, by: str) -> str:
    return str(row.category) if by == "category" else str(row.tenant or UNASSIGNED)


def _name(site: SiteConfig, key: str, by: str) -> str:
    if by == "category":
        return category_name(site, key)
    if key == UNASSIGNED:
        return t("complaint.report.unassigned")
    return tenant_name(site, key) or key


def _lines(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [*report["rows"], report["total"]]


def write_csv(report: dict[str, Any], out: TextIO) -> None:
    formats.write_csv_of(report, out, COLUMNS, HEADINGS)


def write_table(report: dict[str, Any], out: TextIO) -> None:
    formats.write_table_of(report, out, COLUMNS, HEADINGS)
