"""`antrian report`: the visit report read from the archive (SQLite and PostgreSQL), per
service, tenant, counter, day and month, as JSON, CSV, a table and XLSX; bad options refused."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import Api, FakeClock, write_site
from openpyxl import load_workbook
from sqlalchemy import create_engine, delete, func, insert, select
from starlette.testclient import TestClient
from test_sessions import sign_in

from antrian.cli import main
from antrian.main import build_app
from display_server.archive.db import upgrade
from display_server.archive.tables import archiver_state, legs, report_months, visits
from display_server.config import load_config

SITE = "rpt"
DAY = "2026-11-25"
T0 = int(datetime(2026, 11, 25, 3, 0, tzinfo=UTC).timestamp() * 1000)  # 10:00 WIB


def s(seconds: float) -> int:
    """Epoch ms, `seconds` after 10:00 WIB on the report's day."""
    return T0 + int(seconds * 1000)


def leg(code: str, n: int, service: str, tenant: str, enqueued: float, call: float | None,
        counter: int | None, outcome: str | None, end: float | None,
        day: str = DAY, site: str = SITE) -> dict[str, Any]:
    return {"site": site, "day": day, "code": code, "leg": n, "service": service,
            "tenant": tenant, "enqueued_ms": s(enqueued),
            "first_call_ms": None if call is None else s(call), "counter": counter,
            "called_ms_at_counter": None if call is None else s(call), "outcome": outcome,
            "finished_ms": None if end is None else s(end)}


def visit(first: dict[str, Any], last: dict[str, Any], recalls: int = 0) -> dict[str, Any]:
    return {"site": first["site"], "day": first["day"], "code": first["code"],
            "service": first["service"], "tenant": first["tenant"], "priority": "",
            "issued_ms": first["enqueued_ms"], "first_call_ms": first["first_call_ms"],
            "first_counter": first["counter"], "recalls": recalls,
            "transfers": last["leg"], "final_service": last["service"],
            "final_counter": last["counter"], "outcome": last["outcome"],
            "finished_ms": last["finished_ms"], "officer": None}


def scripted() -> list[list[dict[str, Any]]]:
    """The day's tickets, each as its legs (seconds after 10:00)."""
    return [
        # recalled once, completed at counter 1: wait 60 s, service 300 s
        [leg("A001", 0, "A", "samsat", 0, 60, 1, "completed", 360)],
        # not completed at counter 1: wait 120, service 100
        [leg("A002", 0, "A", "samsat", 10, 130, 1, "not_completed", 230)],
        # skipped at counter 2 and never put back: wait 230
        [leg("A003", 0, "A", "samsat", 20, 250, 2, "no_show", 260)],
        # called at 1 (wait 270), transferred to B, done at counter 3 (service 300)
        [leg("A004", 0, "A", "samsat", 30, 300, 1, "transferred", 330),
         leg("A004", 1, "B", "capil", 330, 630, 3, "completed", 930)],
        # skipped at 2, put back, called again by 2 and completed: wait 360, service 360
        [{**leg("A005", 0, "A", "samsat", 40, 400, 2, "completed", 760)}],
        # never called: closed at midnight (issued, not served)
        [leg("B001", 0, "B", "capil", 50, None, None, "closed", 50_000)],
        # wait 30.9 s (counted as 30), service 60
        [leg("B002", 0, "B", "capil", 60, 90.9, 3, "completed", 150.9)],
        # the next day, and another site's ticket on the same day: outside the day's report
        [leg("A001", 0, "A", "samsat", 86_400, 86_445, 1, "completed", 86_500,
             day="2026-11-26")],
        [leg("A001", 0, "A", "samsat", 0, 5, 1, "completed", 9, site="other")],
    ]


def fill(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A new archive holding the scripted tickets, named in ANTRIAN_DATABASE_URL; the site's
    config file."""
    upgrade(database_url)
    db = create_engine(database_url)
    with db.begin() as connection:
        tickets = scripted()
        connection.execute(insert(legs), [one for ticket in tickets for one in ticket])
        connection.execute(insert(visits), [visit(ticket[0], ticket[-1], recalls=int(
            ticket[0]["code"] == "A001")) for ticket in tickets])
    db.dispose()
    monkeypatch.setenv("ANTRIAN_DATABASE_URL", database_url)
    return write_site(tmp_path / "site.toml", SITE)


@pytest.fixture
def archive(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return fill(database_url, monkeypatch, tmp_path)


def report(config: Path, capsys: pytest.CaptureFixture[str], *options: str) -> dict[str, Any]:
    assert main(["report", "--config", str(config), "--format", "json", *options]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


FIGURES = ("issued", "called", "served", "completed", "not_completed", "no_show", "transferred",
           "wait_p50_s", "wait_p90_s", "wait_max_s", "service_p50_s", "service_p90_s")


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[name] for name in FIGURES)


def test_a_day_by_service_counts_each_event_where_it_happened(
    archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issued where taken, the transfer in the service it left, the later call and outcome in
    the service that did them; nearest-rank percentiles of whole seconds."""
    got = report(archive, capsys, "--from", DAY, "--by", "service")
    assert list(got) == ["from", "to", "by", "rows", "total"]
    assert (got["from"], got["to"], got["by"]) == (DAY, DAY, "service")
    rows = {row["key"]: row for row in got["rows"]}
    assert list(rows) == ["A", "B", "C", "D"]
    assert list(rows["A"]) == ["key", "name", *FIGURES]
    assert rows["A"]["name"] == "Perpanjangan STNK"
    # waits 60 120 230 270 360; services 100 300 360
    assert figures(rows["A"]) == (5, 5, 3, 2, 1, 1, 1, 230, 360, 360, 300, 360)
    # B001 closed (issued only), B002 wait 30; A004's second leg: called, served 300 s here
    assert figures(rows["B"]) == (2, 2, 2, 2, 0, 0, 0, 30, 30, 30, 60, 300)
    assert figures(rows["C"]) == (0, 0, 0, 0, 0, 0, 0, None, None, None, None, None)
    # waits 30 60 120 230 270 360; services 60 100 300 300 360
    assert got["total"]["key"] == "total"
    assert figures(got["total"]) == (7, 7, 5, 4, 1, 1, 1, 120, 360, 360, 300, 360)


def test_by_tenant_counter_day_and_month(archive: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A tenant sums its services; a counter counts what it called and finished (it issues
    nothing); day and month rows cover the whole range, empty ones too."""
    tenants = {r["key"]: r for r in report(archive, capsys, "--from", DAY, "--by",
                                           "tenant")["rows"]}
    assert figures(tenants["samsat"]) == (5, 5, 3, 2, 1, 1, 1, 230, 360, 360, 300, 360)
    assert tenants["capil"]["name"] == "Disdukcapil" and tenants["capil"]["served"] == 2
    counters = {r["key"]: r for r in report(archive, capsys, "--from", DAY, "--by",
                                            "counter")["rows"]}
    assert figures(counters["1"]) == (0, 3, 2, 1, 1, 0, 1, 120, 270, 270, 100, 300)
    assert figures(counters["2"]) == (0, 2, 1, 1, 0, 1, 0, 230, 360, 360, 360, 360)
    assert figures(counters["3"]) == (0, 2, 2, 2, 0, 0, 0, 30, 30, 30, 60, 300)
    assert counters["4"]["called"] == 0 and counters["4"]["wait_p50_s"] is None
    days = report(archive, capsys, "--from", "2026-11-24", "--to", "2026-11-26", "--by", "day")
    assert [(r["key"], r["issued"]) for r in days["rows"]] == [
        ("2026-11-24", 0), (DAY, 7), ("2026-11-26", 1)]
    assert days["rows"][1]["name"] == "Rabu, 25 November 2026"
    assert days["total"]["issued"] == 8 and days["total"]["wait_max_s"] == 360
    months = report(archive, capsys, "--from", "2026-10-31", "--to", "2026-12-01", "--by",
                    "month")
    assert [(r["key"], r["name"], r["issued"]) for r in months["rows"]] == [
        ("2026-10", "Oktober 2026", 0), ("2026-11", "November 2026", 8),
        ("2026-12", "Desember 2026", 0)]


def test_a_closed_month_is_kept_and_reads_the_same(
    archive: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once the archiver has closed every day of November, its tallies are stored on first use
    and later reports read them (the figures do not change, even if rows went away); an open
    month is always read from the visits."""
    november = ("--from", "2026-11-01", "--to", "2026-11-30", "--by", "tenant")
    db = create_engine(database_url)
    open_month = report(archive, capsys, *november)
    with db.begin() as connection:
        assert connection.execute(select(func.count()).select_from(report_months)).scalar() == 0
        connection.execute(insert(archiver_state).values(
            site=SITE, last_event_id="0-0", updated_ms=0, closed_day="2026-11-30",
            trimmed=False))
    assert report(archive, capsys, *november) == open_month
    with db.begin() as connection:
        kept = connection.execute(select(report_months.c.site, report_months.c.by,
                                         report_months.c.month)).all()
        assert kept == [(SITE, "tenant", "2026-11")]
        connection.execute(delete(legs).where(legs.c.site == SITE))
    assert report(archive, capsys, *november) == open_month
    # December is not closed: read live (its legs are gone, so nothing is counted)
    december = report(archive, capsys, "--from", "2026-11-01", "--to", "2026-12-31", "--by",
                      "tenant")
    assert december["total"]["issued"] == open_month["total"]["issued"] == 8
    db.dispose()


def test_csv_table_and_xlsx_have_indonesian_headings(
    archive: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """CSV: Indonesian headings, rows then the total, empty where nothing was measured; the
    table the same for people; XLSX: a sheet per grouping with the same figures."""
    base = ["report", "--config", str(archive), "--from", DAY]
    assert main([*base, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Kode,Nama,Diambil,Dipanggil,Dilayani,Tuntas,Belum tuntas,")
    assert lines[1].startswith("A,Perpanjangan STNK,5,5,3,2,1,1,1,230,360,360,300,360")
    assert lines[3] == "C,Balik Nama,0,0,0,0,0,0,0,,,,,"
    assert lines[-1].startswith("total,Jumlah,7,7,5,")
    assert main([*base]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["Kode", "Nama", "Diambil"]
    assert table[3].split()[0] == "C" and table[3].split()[-1] == "-"
    out = tmp_path / "laporan.xlsx"
    assert main([*base, "--format", "xlsx", "--by", "tenant,service,counter",
                 "--out", str(out)]) == 0
    book = load_workbook(out)
    assert book.sheetnames == ["Tenan", "Layanan", "Loket"]
    sheet = book["Layanan"]
    assert [c.value for c in sheet[1]][:3] == ["Kode", "Nama", "Diambil"]
    assert [c.value for c in sheet[2]] == ["A", "Perpanjangan STNK", 5, 5, 3, 2, 1, 1, 1, 230,
                                           360, 360, 300, 360]
    assert sheet.cell(row=2, column=3).number_format == "#,##0"
    assert [c.value for c in book["Tenan"][book["Tenan"].max_row]][:3] == ["total", "Jumlah", 7]


@pytest.mark.parametrize(("options", "says"), [
    (["--from", "2026-11-26", "--to", "2026-11-25"], "terbalik"),
    (["--from", "2010-01-01", "--to", "2026-01-01"], "terlalu panjang"),
    (["--by", "week"], "week"),
    (["--from", "2026-13-45"], "2026-13-45"),
    (["--format", "pdf"], "pdf"),
    (["--format", "xlsx"], "--out"),
    (["--format", "json", "--by", "day,month"], "xlsx"),
])
def test_bad_options_are_named_in_indonesian(
    options: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bad option: one line naming it, exit 2, no traceback."""
    config = write_site(tmp_path / "site.toml", SITE)
    assert main(["report", "--config", str(config), *options]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


@pytest.mark.parametrize("url", ["postgresql://antrian@127.0.0.1:1/arsip",
                                 "sqlite:////nonexistent/archive.sqlite3"])
def test_an_archive_that_cannot_be_read_is_named(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANTRIAN_DATABASE_URL", url)
    config = write_site(tmp_path / "site.toml", SITE)
    assert main(["report", "--config", str(config), "--from", DAY]) == 2
    err = capsys.readouterr().err
    assert "Arsip" in err and url.split("@")[-1].split("/")[0] in err and "Traceback" not in err


def test_the_yearly_recap_prints_to_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Per tenant: jumlah pengunjung, yang mengurus, yang terselesaikan and the wait in
    minutes, printed by headless Chromium; the PDF's text shows Samsat's figures."""
    config = fill(f"sqlite:///{tmp_path / 'archive.sqlite3'}", monkeypatch, tmp_path)
    out = tmp_path / "rekap-2026.pdf"
    assert main(["report", "--config", str(config), "--recap", "--year", "2026",
                 "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    words = " ".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                                    text=True, check=True).stdout.split())
    assert "Rekapitulasi Pelayanan Tahun 2026" in words and "Jumlah pengunjung" in words
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True,
                           check=True).stdout
    assert "DejaVuSans" in fonts, fonts  # the stylesheet reached the PDF (not escaped away)
    samsat = next(line for line in text.splitlines() if "Samsat" in line).split()
    # A001-A005 and the 26th's A001: 6 visitors, 4 served, 3 completed; waits 45 60 120 230
    # 270 360 s: p50 2 min, p90 6 min
    assert samsat[-5:] == ["6", "4", "3", "2", "6"]
    assert main(["report", "--config", str(config), "--recap", "--year", "2026"]) == 2
    assert "--out" in capsys.readouterr().err


def test_the_recap_page_is_for_the_office(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str, clock: FakeClock
) -> None:
    """/admin/rekap?tahun=2026: the office's recap per tenant in its form; without the office's
    session a 401 page, a year that is not one a 400 page naming it."""
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    site = load_config(str(fill(url, monkeypatch, tmp_path)))
    with TestClient(build_app(site, redis_url, tmp_path, clock=clock,
                              database_url=url)) as client:
        office = Api(client, site, tmp_path)
        assert client.get("/admin/rekap?tahun=2026").status_code == 401
        cookie, _ = sign_in(office, "admin")
        page = client.get("/admin/rekap?tahun=2026", headers={"Cookie": cookie})
        assert page.status_code == 200
        assert "Rekapitulasi Pelayanan Tahun 2026" in page.text
        assert "Jumlah yang terselesaikan" in page.text
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", page.text)
        samsat = cells.index("Samsat")
        assert cells[samsat + 1:samsat + 6] == ["6", "4", "3", "2", "6"]
        bad = client.get("/admin/rekap?tahun=20x6", headers={"Cookie": cookie})
        assert bad.status_code == 400 and "20x6" in bad.text
