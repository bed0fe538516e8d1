"""The office's report downloads (/admin/laporan.csv and .xlsx ?dari=&sampai=&per=) and the date
range they and the dashboard take: the visit report of SPEC.md read from the archive
(display_server.reporting) in the formats of `antrian report`. A bad range is a 400 page that
says why."""

from __future__ import annotations

import asyncio
import io
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response

from display_server import api, officers
from display_server.config import SiteConfig
from display_server.errors import ApiError
from display_server.report import days
from display_server.reporting.formats import SHEETS, write_csv, write_xlsx
from display_server.reporting.visit import visit_report
from texts import t

MAX_DAYS = 732  # two years and a leap day: the longest range a page or a download reads
DEFAULT_DAYS = 30


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


def archive(request: Request) -> Engine:
    """The archive this process reads (404 page when it runs without one)."""
    archiver = api.ctx(request).archiver
    if archiver is None:
        raise ApiError("not_found", t("admin.no_archive"))
    return archiver.db


def _visit_report(db: Engine, site: SiteConfig, span: DateRange, per: str,
                  officer_names: dict[str, str]) -> dict[str, Any]:
    with db.connect() as connection:
        return visit_report(connection, site, span.first, span.last, per,
                            officer_names=officer_names)


async def officer_names(request: Request) -> dict[str, str]:
    """The officers' names by id from their accounts in Redis (the archive has only ids); none
    while Redis is unreachable: the rows keep their ids."""
    try:
        return await officers.names(api.ctx(request).store)
    except RedisError:
        return {}


async def _report(request: Request) -> tuple[DateRange, str, dict[str, Any]]:
    """The visit report (SPEC.md) of the request's range and `per` grouping, from the archive;
    per officer each row named by the officer's account."""
    c = api.ctx(request)
    span = parse_range(request.query_params, date.fromisoformat(c.store.today()))
    per = request.query_params.get("per", "service")
    if per not in SHEETS:
        raise ApiError("invalid_parameter", t("admin.range.bad_grouping", value=per[:40]))
    names = await officer_names(request) if per == "officer" else {}
    return span, per, await asyncio.to_thread(_visit_report, archive(request), c.site, span, per,
                                              names)


def _attachment(span: DateRange, per: str, ext: str) -> dict[str, str]:
    name = f"laporan-{span.first.isoformat()}-{span.last.isoformat()}-{per}.{ext}"
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


async def report_csv(request: Request) -> Response:
    """GET /admin/laporan.csv: the report as CSV, a heading row in Indonesian."""
    span, per, report = await _report(request)
    out = io.StringIO()
    write_csv(report, out)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers=_attachment(span, per, "csv"))


def _xlsx(report: dict[str, Any]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="antrian-xlsx-") as tmp:
        path = Path(tmp) / "laporan.xlsx"
        write_xlsx([report], path)
        return path.read_bytes()


async def report_xlsx(request: Request) -> Response:
    """GET /admin/laporan.xlsx: the report as a workbook (a sheet named after the grouping,
    number formats; display_server.reporting.formats)."""
    span, per, report = await _report(request)
    return Response(await asyncio.to_thread(_xlsx, report),
                    headers=_attachment(span, per, "xlsx"), media_type=(
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
