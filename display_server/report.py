"""`antrian report`: the visit report read from the archive (display_server.reporting), its
options checked with an Indonesian message and exit 2 for each bad one, `--recap`, the
yearly recap per tenant as a PDF (printed by the page layer, handed in by antrian.cli), and
`--productivity`, the counter-productivity report."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from display_server import officers
from display_server.archive.db import DatabaseError, database_url, engine
from display_server.clock import local_now, system_clock
from display_server.config import SiteConfig, load_config
from display_server.paths import data_dir
from display_server.redis_local import default_url
from display_server.reporting import complaints as complaint_report
from display_server.reporting.figures import GROUPINGS
from display_server.reporting.formats import (
    write_csv,
    write_json,
    write_productivity_csv,
    write_productivity_table,
    write_table,
    write_xlsx,
)
from display_server.reporting.productivity import productivity_report
from display_server.reporting.skm_report import SKM_GROUPINGS, skm_report
from display_server.reporting.skm_report import write_csv as write_skm_csv
from display_server.reporting.skm_report import write_table as write_skm_table
from display_server.reporting.skm_report import write_xlsx as write_skm_xlsx
from display_server.reporting.visit import Progress, visit_report
from display_server.store import Store, connect
from texts import t

# today's live figures from Redis's daily aggregates (the /admin page and its downloads)
COLUMNS = ("issued", "called", "served", "completed", "not_completed", "no_show", "transferred")
FORMATS = ("table", "csv", "json", "xlsx")
MAX_DAYS = 3653  # ten years
# (site, year, the year's report by tenant, the PDF's path): the recap printed to PDF
RecapPdf = Callable[[SiteConfig, int, dict[str, Any], Path], None]
# (archive, site, first day, last day, today, the PDF's path): the SKM report printed to PDF
SkmPdf = Callable[[Connection, SiteConfig, date, date, date, Path], None]


def days(first: date, last: date) -> Iterator[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


def summarize(stats: dict[str, int], keys: list[str]) -> list[dict[str, Any]]:
    """Rows of counts and average minutes for each key (a service code or 'c<counter>') from a
    day's aggregates in Redis."""
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


class ReportError(Exception):
    """A bad option or an archive that cannot be read: the Indonesian message says which."""


def _day(option: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ReportError(t("report.error.bad_date", option=option, value=raw)) from None


def days_asked(raw_from: str | None, raw_to: str | None, today: date) -> tuple[date, date]:
    """--from (default today) and --to (default --from), checked: in order, at most ten
    years."""
    first = _day("--from", raw_from) if raw_from else today
    last = _day("--to", raw_to) if raw_to else first
    if last < first:
        raise ReportError(t("report.error.inverted", first=first.isoformat(),
                            last=last.isoformat()))
    if (last - first).days + 1 > MAX_DAYS:
        raise ReportError(t("report.error.too_long", days=(last - first).days + 1))
    return first, last


def groupings_asked(raw: str, output: str) -> list[str]:
    """--by: one grouping, or several separated by commas for XLSX (a sheet each)."""
    asked = [g.strip() for g in raw.split(",") if g.strip()]
    for grouping in asked or [raw]:
        if grouping not in GROUPINGS:
            raise ReportError(t("report.error.bad_grouping", value=grouping,
                                choices=", ".join(GROUPINGS)))
    if len(asked) > 1 and output != "xlsx":
        raise ReportError(t("report.error.one_grouping", format=output))
    return asked


@contextmanager
def archive(url: str) -> Iterator[Connection]:
    """A connection to the archive, or ReportError naming it (never a traceback)."""
    shown = make_url(url).render_as_string(hide_password=True)
    parsed = make_url(url)
    if parsed.drivername == "sqlite" and not Path(parsed.database or "").is_file():
        raise ReportError(t("report.error.no_archive", url=shown))
    db = engine(url)
    try:
        with db.connect() as connection:
            yield connection
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ReportError(t("report.error.database", url=shown, error=detail)) from None
    finally:
        db.dispose()


@contextmanager
def _progress() -> Iterator[Progress | None]:
    """A progress bar on the terminal's stderr when rich is there and stderr is a terminal."""
    try:
        from rich.progress import Progress as Bar
    except ImportError:  # rich comes with the counter extra
        yield None
        return
    if not sys.stderr.isatty():
        yield None
        return
    with Bar(transient=True) as bar:
        task = bar.add_task(t("report.progress"), total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def officer_names(args: argparse.Namespace, site: SiteConfig) -> dict[str, str]:
    """The officers' names by id from their accounts in the site's Redis (--redis-url,
    ANTRIAN_REDIS_URL or the local Redis of `antrian serve`): the archive keeps only ids. No
    Redis: none, and one line on stderr says the rows show ids."""
    url = default_url(args.redis_url, data_dir(args.data_dir))

    async def read() -> dict[str, str]:
        redis = connect(url, pool_size=1, pool_timeout=2, retries=0, timeout=2)
        try:
            return await officers.names(Store(redis, site))
        finally:
            await redis.aclose()

    try:
        return asyncio.run(read())
    except (RedisError, OSError):
        print("antrian:", t("report.officer_names_unavailable"), file=sys.stderr)
        return {}


def _report(args: argparse.Namespace, recap_pdf: RecapPdf | None,
            skm_pdf: SkmPdf | None = None) -> int:
    try:
        return _run(args, recap_pdf, skm_pdf)
    except (ReportError, DatabaseError) as exc:
        print(f"antrian: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, recap_pdf: RecapPdf | None,
         skm_pdf: SkmPdf | None = None) -> int:
    site = load_config(args.config)
    today = local_now(system_clock, site.tz).date()
    if args.skm and args.format == "pdf":
        return _skm_pdf(args, site, today, skm_pdf)
    if args.format not in FORMATS:
        raise ReportError(t("report.error.bad_format", value=args.format,
                            choices=", ".join(FORMATS)))
    if args.productivity:
        return _productivity(args, site, today)
    if args.skm:
        return _skm(args, site, today)
    if args.complaints:
        return _complaints(args, site, today)
    if args.recap:
        year = args.year or today.year
        if recap_pdf is None or not args.out or not 2000 <= year <= 2100:
            raise ReportError(t("report.error.recap_needs", year=year))
        first, last, groupings = date(year, 1, 1), date(year, 12, 31), ["tenant"]
    else:
        first, last = days_asked(args.start, args.end, today)
        groupings = groupings_asked(args.by, args.format)
    if (args.format == "xlsx" or args.recap) and not args.out:
        raise ReportError(t("report.error.needs_out", format=args.format))
    url = database_url(data_dir(args.data_dir))
    names = officer_names(args, site) if "officer" in groupings else {}
    with archive(url) as connection, _progress() as progress:
        reports = [visit_report(connection, site, first, last, by, progress, names)
                   for by in groupings]
    if args.recap:
        assert recap_pdf is not None
        recap_pdf(site, first.year, reports[0], Path(args.out))
    elif args.format == "xlsx":
        write_xlsx(reports, Path(args.out))
    else:
        write = {"json": write_json, "csv": write_csv, "table": write_table}[args.format]
        if args.out:
            with open(args.out, "w", encoding="utf-8", newline="") as out:
                write(reports[0], out)
        else:
            write(reports[0], sys.stdout)
    return 0


def _productivity(args: argparse.Namespace, site: SiteConfig, today: date) -> int:
    """`--productivity`: the counter-productivity report as a table, CSV or JSON."""
    if args.format not in ("table", "csv", "json"):
        raise ReportError(t("report.error.productivity_format", format=args.format))
    first, last = days_asked(args.start, args.end, today)
    with archive(database_url(data_dir(args.data_dir))) as connection:
        report = productivity_report(connection, site, first, last)
    write = {"json": write_json, "csv": write_productivity_csv,
             "table": write_productivity_table}[args.format]
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            write(report, out)
    else:
        write(report, sys.stdout)
    return 0


def _skm(args: argparse.Namespace, site: SiteConfig, today: date) -> int:
    """`--skm`: the satisfaction survey report (reporting.skm_report), the visit report's
    options with `officer` as one more grouping."""
    first, last = days_asked(args.start, args.end, today)
    groupings = [g.strip() for g in args.by.split(",") if g.strip()]
    for grouping in groupings or [args.by]:
        if grouping not in SKM_GROUPINGS:
            raise ReportError(t("report.error.bad_grouping", value=grouping,
                                choices=", ".join(SKM_GROUPINGS)))
    if len(groupings) > 1 and args.format != "xlsx":
        raise ReportError(t("report.error.one_grouping", format=args.format))
    if args.format == "xlsx" and not args.out:
        raise ReportError(t("report.error.needs_out", format=args.format))
    names = officer_names(args, site) if "officer" in groupings else {}
    with archive(database_url(data_dir(args.data_dir))) as connection:
        reports = [skm_report(connection, site, first, last, by, names) for by in groupings]
    if args.format == "xlsx":
        write_skm_xlsx(reports, Path(args.out))
        return 0
    write = {"json": write_json, "csv": write_skm_csv, "table": write_skm_table}[args.format]
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            write(reports[0], out)
    else:
        write(reports[0], sys.stdout)
    return 0


def _skm_pdf(args: argparse.Namespace, site: SiteConfig, today: date,
             skm_pdf: SkmPdf | None) -> int:
    """`--skm --format pdf --out F`: the printable SKM report of the range, printed by the page
    layer (handed in by antrian.cli)."""
    if skm_pdf is None or not args.out:
        raise ReportError(t("report.error.needs_out", format=args.format))
    first, last = days_asked(args.start, args.end, today)
    with archive(database_url(data_dir(args.data_dir))) as connection:
        skm_pdf(connection, site, first, last, today, Path(args.out))
    return 0


def _complaints(args: argparse.Namespace, site: SiteConfig, today: date) -> int:
    """`--complaints`: the complaint desk's report (reporting.complaints) per category (the
    default) or tenant, as a table, CSV or JSON."""
    by = "category" if args.by == "service" else args.by
    if by not in complaint_report.GROUPINGS:
        raise ReportError(t("report.error.bad_grouping", value=by,
                            choices=", ".join(complaint_report.GROUPINGS)))
    if args.format not in ("table", "csv", "json"):
        raise ReportError(t("complaint.report.format", format=args.format))
    first, last = days_asked(args.start, args.end, today)
    with archive(database_url(data_dir(args.data_dir))) as connection:
        report = complaint_report.complaints_report(connection, site, first, last, by, today)
    write = {"json": write_json, "csv": complaint_report.write_csv,
             "table": complaint_report.write_table}[args.format]
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            write(report, out)
    else:
        write(report, sys.stdout)
    return 0


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None],
             recap_pdf: RecapPdf | None = None, skm_pdf: SkmPdf | None = None) -> None:
    p = sub.add_parser("report", help=t("help.report"))
    common(p)
    p.add_argument("--from", dest="start", help=t("help.report_from"))
    p.add_argument("--to", dest="end", help=t("help.report_to"))
    p.add_argument("--by", default="service",
                   help=t("help.report_by", groupings=" | ".join(GROUPINGS)))
    p.add_argument("--format", default="table", help=" | ".join(FORMATS))
    p.add_argument("--out", help=t("help.report_out"))
    p.add_argument("--redis-url", help=t("help.report_redis_url"))
    p.add_argument("--recap", action="store_true",
                   help=t("help.report_recap"))
    p.add_argument("--year", type=int, help=t("help.report_year"))
    p.add_argument("--productivity", action="store_true",
                   help=t("help.report_productivity"))
    p.add_argument("--skm", action="store_true",
                   help=t("help.report_skm"))
    p.add_argument("--complaints", action="store_true",
                   help=t("help.report_complaints"))
    p.set_defaults(func=lambda args: _report(args, recap_pdf, skm_pdf))
