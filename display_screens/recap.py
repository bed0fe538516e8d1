"""The yearly recap in the office's form: per tenant, jumlah pengunjung (issued), jumlah yang
mengurus (served) and jumlah yang terselesaikan (completed), with wait p50/p90 in minutes.
`/admin/rekap?tahun=Y` shows it behind the office session; `write_pdf` prints the same page
with headless Chromium (`antrian report --recap --year Y --out F.pdf`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from display_screens import console_auth
from display_screens.pages import SECURITY_HEADERS, STATIC, error_page, templates
from display_server import api
from display_server.clock import local_now
from display_server.config import SiteConfig
from display_server.errors import ApiError
from display_server.report import ReportError
from display_server.reporting.visit import visit_report
from texts import long_date, number, t

FIRST_YEAR, LAST_YEAR = 2000, 2100


def _minutes(seconds: int | None) -> str:
    return "-" if seconds is None else number(round(seconds / 60, 1))


def _line(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "wait_p50_min": _minutes(row["wait_p50_s"]),
            "wait_p90_min": _minutes(row["wait_p90_s"])}


def page_html(site: SiteConfig, year: int, report: dict[str, Any], *,
              inline_css: str = "") -> str:
    """The recap page of `report` (the year's visit report by tenant)."""
    return templates.env.get_template("recap.html").render(
        site_name=site.name, year=year, rows=[_line(r) for r in report["rows"]],
        total=_line(report["total"]), inline_css=inline_css,
        first=long_date(date.fromisoformat(report["from"])),
        last=long_date(date.fromisoformat(report["to"])))


def write_pdf(site: SiteConfig, year: int, report: dict[str, Any], out: Path) -> None:
    """The recap printed to `out` by headless Chromium (the page with its stylesheet inline)."""
    html_to_pdf(page_html(site, year, report, inline_css=(STATIC / "recap.css").read_text()), out)


def html_to_pdf(html: str, out: Path) -> None:
    """A self-contained page printed to `out` by headless Chromium (also the SKM report's);
    ReportError when the machine has none."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise ReportError(t("recap.no_chromium"))
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "rekap.html"
        page.write_text(html, encoding="utf-8")
        command = [browser, "--headless", "--disable-gpu", "--no-pdf-header-footer",
                   f"--user-data-dir={scratch}/profile", f"--print-to-pdf={out.resolve()}",
                   page.as_uri()]
        if os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium's sandbox refuses to run as root
        subprocess.run(command, check=True, capture_output=True, timeout=120)


async def recap_page(request: Request) -> Response:
    """GET /admin/rekap?tahun=Y (default this year): the printable recap, for the office."""
    if await console_auth.session(request, console_auth.ADMIN) is None:
        return error_page(request, ApiError("unauthorized", t("error.detail.office_token")))
    c = api.ctx(request)
    raw = request.query_params.get("tahun", "")
    year = local_now(c.clock, c.site.tz).year
    if raw:
        year = int(raw) if raw.isdigit() and len(raw) == 4 else 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return error_page(request, ApiError("invalid_parameter",
                                            t("recap.bad_year", value=raw[:10])))
    if c.archiver is None:
        return error_page(request, ApiError("not_found", t("recap.no_archive")))
    engine = c.archiver.db

    def build() -> dict[str, Any]:
        with engine.connect() as connection:
            return visit_report(connection, c.site, date(year, 1, 1), date(year, 12, 31),
                                "tenant")

    report = await run_in_threadpool(build)
    return HTMLResponse(page_html(c.site, year, report), headers=SECURITY_HEADERS)


routes: list[BaseRoute] = [Route("/admin/rekap", recap_page)]
