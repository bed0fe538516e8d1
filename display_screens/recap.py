"""The yearly recap in the office's form: per tenant, jumlah pengunjung (issued), jumlah yang
mengurus (served) and jumlah yang terselesaikan (completed), with wait p50/p90 in minutes.
`write_pdf` prints the page with headless Chromium (`antrian report --recap --year Y --out
F.pdf`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from display_screens.pages import STATIC, templates
from display_server.config import SiteConfig
from display_server.report import ReportError
from texts import long_date, number, t


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
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise ReportError(t("recap.no_chromium"))
    html = page_html(site, year, report, inline_css=(STATIC / "recap.css").read_text())
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "rekap.html"
        page.write_text(html, encoding="utf-8")
        command = [browser, "--headless", "--disable-gpu", "--no-pdf-header-footer",
                   f"--user-data-dir={scratch}/profile", f"--print-to-pdf={out.resolve()}",
                   page.as_uri()]
        if os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium's sandbox refuses to run as root
        subprocess.run(command, check=True, capture_output=True, timeout=120)
