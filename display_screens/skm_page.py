"""The printable SKM report (Survei Kepuasan Masyarakat, Permenpan RB No. 14/2017) in the
regulation's usual layout: unit, period, respondents, their profile, NRR per element with the
weighted NRR (x 1/9), the index and its conversion (x 25), mutu and kinerja, the weakest
elements, the index per service and month. `/admin/skm?dari=&sampai=` shows it behind the
office session and `/admin/skm.pdf` prints the same page with headless Chromium
(recap.html_to_pdf), as `antrian report --skm --format pdf` does (print_report, handed to
the report command by antrian.cli); the figures are reporting.skm_report.summary's."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from display_screens import console_auth, downloads
from display_screens.pages import SECURITY_HEADERS, STATIC, error_page, templates
from display_screens.recap import html_to_pdf
from display_server import api
from display_server.config import SiteConfig
from display_server.errors import ApiError
from display_server.report import ReportError
from display_server.reporting.skm import (
    GRADES,
    IKM_DECIMALS,
    SCALE,
    Tally,
    element_means,
    grade,
    half_up,
    row,
    total,
)
from display_server.reporting.skm_report import skm_report, summary, tallies
from texts import long_date, t
from texts.formats import fixed

# each of the nine elements' weight: the regulation writes it 0,111, but the SPEC's index is
# the plain mean of the nine NRR, so the weighted NRR are NRR x 1/9 exactly and their sum is
# that mean (x 25 = the IKM); with 0,111 the sum fell short of the index it stands beside
WEIGHT = Fraction(1, 9)
# the regulation's table: perception value, interval of the mean (NI), of the index (NIK)
INTERVALS = (("1", "1,00 – 2,5996", "25,00 – 64,99"), ("2", "2,60 – 3,064", "65,00 – 76,60"),
             ("3", "3,0644 – 3,532", "76,61 – 88,30"), ("4", "3,5324 – 4,00", "88,31 – 100,00"))


def view(site: SiteConfig, report: dict[str, Any], means: list[Fraction] | None) -> dict[str, Any]:
    """What skm.html shows, every number already written the Indonesian way; `means` are the
    exact element means (reporting.skm.element_means), so NRR, the weighted NRR and their
    sum (= the mean of the nine NRR, the index before x 25) are rounded once, from the exact
    values."""
    whole = report["total"]
    responses = whole["responses"]
    elements = []
    weighted_sum = Fraction(0)
    for n, element in enumerate(report["elements"]):
        entry: dict[str, Any] = {"number": n + 1, "code": f"U{n + 1}", "name": element["name"],
                                 "nrr": "-", "weighted": "-", "index": "-", "grade": "-"}
        if means is not None:
            weighted = means[n] * WEIGHT
            weighted_sum += weighted
            index = half_up(means[n] * SCALE, IKM_DECIMALS)
            entry.update(nrr=fixed(half_up(means[n], Decimal("0.001")), 3),
                         weighted=fixed(half_up(weighted, Decimal("0.0001")), 4),
                         index=fixed(index, 2), grade=grade(index)[0])
        elements.append(entry)
    profile = []
    for field in report["profile"].values():
        choices = [{"label": c["label"], "count": c["count"],
                    "percent": fixed(Decimal(100 * c["count"]) / responses, 2)
                    if responses else "-"} for c in field["choices"]]
        profile.append({"label": field["label"], "choices": choices})
    answered = means is not None
    mean = sum(means, Fraction(0)) / len(means) if means else Fraction(0)
    return {
        "site_name": site.name, "responses": responses, "answered": answered,
        "first": long_date(date.fromisoformat(report["from"])),
        "last": long_date(date.fromisoformat(report["to"])),
        "elements": elements, "profile": profile,
        "weighted_sum": fixed(half_up(weighted_sum, Decimal("0.0001")), 4) if answered else "-",
        "mean": fixed(half_up(mean, Decimal("0.0001")), 4) if answered else "-",
        "ikm": fixed(whole["ikm"], 2) if answered else "-",
        "grade": whole["grade"] or "-", "mutu": whole["mutu"] or "-",
        "weakest": [{"code": w["key"].upper(), "name": w["name"], "nrr": fixed(w["mean"], 3),
                     "index": fixed(w["ikm"], 2)} for w in report["weakest"]],
        "by_tenant": [_line(r) for r in report["by_tenant"]],
        "by_service": [_line(r) for r in report["by_service"]],
        "trend": [_line(r) for r in report["trend"]],
        "scale": [{"value": value, "ni": ni, "nik": nik, "grade": letter, "mutu": t(mutu)}
                  for (value, ni, nik), (letter, _, mutu) in zip(INTERVALS, reversed(GRADES),
                                                                 strict=True)],
    }


def _line(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the per-tenant, per-service or monthly table: name, responses, index, grade."""
    answered = row["ikm"] is not None
    return {"name": row["name"], "responses": row["responses"],
            "ikm": fixed(row["ikm"], 2) if answered else "-",
            "grade": row["grade"] if answered else "-"}


def page_html(site: SiteConfig, report: dict[str, Any], means: list[Fraction] | None,
              today: date, query: str = "", *, inline_css: str = "") -> str:
    """The report page of `report` (reporting.skm_report.summary of the range), printed on
    `today`; `query` (dari=&sampai=) makes its PDF link, none in the PDF itself. `inline_css`,
    our own stylesheet for the PDF, goes in unescaped (escaped, its `>` and quotes were
    entities the CSS parser dropped, and the PDF lost its layout)."""
    return templates.env.get_template("skm.html").render(
        **view(site, report, means), query=query, inline_css=inline_css, printed=long_date(today))


Figures = tuple[dict[str, Any], list[Fraction] | None]


def figures(connection: Connection, site: SiteConfig, first: date, last: date) -> Figures:
    """The range's summary (reporting.skm_report.summary) with the rows per tenant
    (`by_tenant`), and the exact element means."""
    by_tenant = tallies(connection, site.id, first, last, "tenant")  # one sweep for both
    names = {tenant.id: tenant.name for tenant in site.tenants}
    keys = [*names, *sorted(k for k in by_tenant if k is not None and k not in names)]
    report = summary(connection, site, first, last)
    report["by_tenant"] = [row(k, names.get(k, k), by_tenant.get(k, Tally())) for k in keys]
    return report, element_means(total(by_tenant.values()))


def print_report(connection: Connection, site: SiteConfig, first: date, last: date,
                 today: date, out: Path) -> None:
    """`antrian report --skm --format pdf --out F`: the range's report printed to `out`."""
    write_pdf(site, *figures(connection, site, first, last), today, out)


def write_pdf(site: SiteConfig, report: dict[str, Any], means: list[Fraction] | None,
              today: date, out: Path) -> None:
    """The report printed to `out` by headless Chromium (the page with its stylesheet inline);
    ReportError when the machine has no Chromium."""
    html = page_html(site, report, means, today, inline_css=(STATIC / "skm.css").read_text())
    html_to_pdf(html, out)


async def _summary(request: Request) -> tuple[downloads.DateRange, Figures]:
    """The office's session, the range asked (default the 30 days up to today) and its
    figures; ApiError for a bad range, no session or no archive."""
    if await console_auth.session(request, console_auth.ADMIN) is None:
        raise ApiError("unauthorized", t("error.detail.office_token"))
    c = api.ctx(request)
    span = downloads.parse_range(request.query_params, date.fromisoformat(c.store.today()))
    engine = downloads.archive(request)

    def build() -> Figures:
        with engine.connect() as connection:
            return figures(connection, c.site, span.first, span.last)

    return span, await asyncio.to_thread(build)


async def skm_page(request: Request) -> Response:
    """GET /admin/skm?dari=&sampai=: the printable SKM report of the range, for the office."""
    try:
        span, (report, means) = await _summary(request)
    except ApiError as exc:
        return error_page(request, exc)
    c = api.ctx(request)
    html = page_html(c.site, report, means, date.fromisoformat(c.store.today()), span.query())
    return HTMLResponse(html, headers=SECURITY_HEADERS)


async def skm_pdf(request: Request) -> Response:
    """GET /admin/skm.pdf?dari=&sampai=: the same report as a PDF download."""
    try:
        span, (report, means) = await _summary(request)
    except ApiError as exc:
        return error_page(request, exc)
    c = api.ctx(request)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "skm.pdf"
        try:
            await asyncio.to_thread(write_pdf, c.site, report, means,
                                    date.fromisoformat(c.store.today()), out)
        except ReportError as exc:
            return error_page(request, ApiError("internal", str(exc)))
        data = out.read_bytes()
    name = f"skm-{span.first.isoformat()}-{span.last.isoformat()}.pdf"
    return Response(data, media_type="application/pdf", headers={
        **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


def _index_line(row: dict[str, Any]) -> dict[str, Any]:
    """A total ROW as the dashboard shows it: responses, IKM, grade, mutu (None unanswered)."""
    if row["ikm"] is None:
        return {"responses": 0, "ikm": None, "grade": None, "mutu": None}
    return {"responses": row["responses"], "ikm": fixed(row["ikm"], 2), "grade": row["grade"],
            "mutu": row["mutu"]}


async def dashboard_index(request: Request, span: downloads.DateRange) -> dict[str, Any] | None:
    """The index on /admin: today's and the range's `{"today", "range"}` (see _index_line)
    and the range's days as people read them; None when the process has no archive."""
    c = api.ctx(request)
    if c.archiver is None:
        return None
    engine = c.archiver.db
    today = date.fromisoformat(c.store.today())

    def build() -> dict[str, Any]:
        with engine.connect() as connection:
            return {"today": _index_line(skm_report(connection, c.site, today, today,
                                                    "day")["total"]),
                    "range": _index_line(skm_report(connection, c.site, span.first, span.last,
                                                    "month")["total"]),
                    "first": long_date(span.first), "last": long_date(span.last)}

    return await asyncio.to_thread(build)


routes: list[BaseRoute] = [Route("/admin/skm", skm_page), Route("/admin/skm.pdf", skm_pdf)]
