"""The office's report downloads (/admin/laporan.csv and .xlsx ?dari=&sampai=&per=) and the date
range they and the dashboard take: counts per service, tenant, counter or day from the daily
aggregates in Redis, with Indonesian column headings. A bad range is a 400 page that says why."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from starlette.requests import Request
from starlette.responses import Response

from display_server import api
from display_server.config import SiteConfig
from display_server.errors import ApiError
from display_server.report import COLUMNS, HEADINGS, days, summarize
from display_server.store import Store
from texts import N_, t

MAX_DAYS = 732  # two years and a leap day: the longest range a page or a download reads
DEFAULT_DAYS = 30
GROUPINGS = {"service": N_("report.service"), "tenant": N_("admin.tenant"),
             "counter": N_("admin.counter"), "day": N_("admin.day")}
FIELDS = ("key", "name", *COLUMNS, "avg_wait_min", "avg_service_min")
COLUMN_HEADINGS = {**HEADINGS, "name": N_("admin.name")}


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date

    def days(self) -> list[date]:
        return list(days(self.first, self.last))

    def query(self) -> str:
        return f"dari={self.first.isoformat()}&sampai={self.last.isoformat()}"


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError("invalid_parameter", t("admin.range.bad_date", name=name, value=raw[:40])) \
            from None


def parse_range(params: Any, today: date) -> DateRange:
    """`dari` and `sampai` (YYYY-MM-DD; default the 30 days up to today): ApiError 400 for a
    malformed date, an inverted range, one that ends after today or spans over MAX_DAYS."""
    last = _day(params["sampai"], "sampai") if params.get("sampai") else today
    first = _day(params["dari"], "dari") if params.get("dari") else \
        last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ApiError("invalid_parameter", t("admin.range.inverted", first=first.isoformat(),
                                              last=last.isoformat()))
    if last > today:
        raise ApiError("invalid_parameter", t("admin.range.future", last=last.isoformat()))
    if (last - first).days + 1 > MAX_DAYS:
        raise ApiError("invalid_parameter", t("admin.range.too_long", n=MAX_DAYS))
    return DateRange(first, last)


async def daily_stats(store: Store, span: DateRange) -> list[tuple[date, dict[str, int]]]:
    """Each day's aggregates of the range, one pipelined read."""
    span_days = span.days()
    async with store.redis.pipeline(transaction=False) as pipe:
        for day in span_days:
            pipe.hgetall(store.keys("stats", day.isoformat()))
        raw = await pipe.execute()
    return [(day, {k: int(v) for k, v in stats.items()})
            for day, stats in zip(span_days, raw, strict=True)]


def _group(site: SiteConfig, per: str, day: date, key: str) -> str | None:
    """The row a stats field of `key` (a service code or 'c<counter>') adds to, if any."""
    if per == "counter":
        return key if key.startswith("c") else None
    if key.startswith("c"):
        return None
    if per == "tenant":
        service = site.service(key)
        return service.tenant if service else None
    return day.isoformat() if per == "day" else key


def report_rows(site: SiteConfig, per: str, daily: list[tuple[date, dict[str, int]]],
                ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of the grouping `per` over the days, and their total (counts, average minutes)."""
    grouped: dict[str, int] = {}
    total: dict[str, int] = {}
    for day, stats in daily:
        for field, value in stats.items():
            column, _, key = field.partition(":")
            group = _group(site, per, day, key)
            if group is not None:
                grouped[f"{column}:{group}"] = grouped.get(f"{column}:{group}", 0) + value
            if _group(site, "service", day, key) is not None:
                total[f"{column}:"] = total.get(f"{column}:", 0) + value
    names = _names(site, per, daily)
    rows = [{"key": key.removeprefix("c"), "name": name, **row}
            for (key, name), row in zip(names.items(), summarize(grouped, list(names)),
                                        strict=True)]
    return rows, {"key": "", "name": t("report.total"), **summarize(total, [""])[0]}


def _names(site: SiteConfig, per: str, daily: list[tuple[date, dict[str, int]]],
           ) -> dict[str, str]:
    if per == "counter":
        return {f"c{c.number}": c.name for c in site.counters}
    if per == "tenant":
        return {tenant.id: tenant.name for tenant in site.tenants}
    if per == "day":
        return {day.isoformat(): day.isoformat() for day, _ in daily}
    return {s.code: s.name for s in site.services}


async def _report(request: Request) -> tuple[DateRange, str, list[dict[str, Any]]]:
    c = api.ctx(request)
    span = parse_range(request.query_params, date.fromisoformat(c.store.today()))
    per = request.query_params.get("per", "service")
    if per not in GROUPINGS:
        raise ApiError("invalid_parameter", t("admin.range.bad_grouping", value=per[:40]))
    rows, total = report_rows(c.site, per, await daily_stats(c.store, span))
    return span, per, [*rows, total]


def _attachment(span: DateRange, per: str, ext: str) -> dict[str, str]:
    name = f"laporan-{span.first.isoformat()}-{span.last.isoformat()}-{per}.{ext}"
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


def _cells(row: dict[str, Any]) -> list[Any]:
    return [row[f] if row[f] is not None else "" for f in FIELDS]


async def report_csv(request: Request) -> Response:
    """GET /admin/laporan.csv: the report as CSV, a heading row in Indonesian."""
    span, per, rows = await _report(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t(COLUMN_HEADINGS[f]) for f in FIELDS])
    writer.writerows(_cells(row) for row in rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers=_attachment(span, per, "csv"))


async def report_xlsx(request: Request) -> Response:
    """GET /admin/laporan.xlsx: the report as a workbook, one sheet named after the grouping,
    counts with a thousands format and minutes with one decimal."""
    span, per, rows = await _report(request)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t(GROUPINGS[per])
    sheet.append([t(COLUMN_HEADINGS[f]) for f in FIELDS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row[f] for f in FIELDS])
    for column, field in enumerate(FIELDS, start=1):
        fmt = "#,##0" if field in COLUMNS else "0.0" if field.startswith("avg_") else None
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            if fmt:
                cell.number_format = fmt
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), headers=_attachment(span, per, "xlsx"), media_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
