"""`antrian report --skm` on SQLite and PostgreSQL: survey events written by the archiver's own
batch writer (once, however often a batch is written again), then the report per service,
tenant, counter, officer, day and month, its formats, the profile counts and the summary of
the printable report, figures computed by hand."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import write_site
from openpyxl import load_workbook
from sqlalchemy import create_engine, func, select

from antrian.cli import main
from display_server import officers
from display_server.archive.db import upgrade
from display_server.archive.tables import events, survey_responses
from display_server.archive.writing import write
from display_server.config import load_config
from display_server.reporting import skm_report
from display_server.store import Store, connect

SITE = "skm"
TENANT_OF = {"A": "samsat", "B": "capil", "C": "samsat", "D": "capil"}


def survey(code: str, day: str, service: str, counter: int, answers: list[int],
           officer: str | None = None, profile: dict[str, str] | None = None) -> dict[str, Any]:
    """A `survey` event as survey.lua appends it."""
    event: dict[str, Any] = {
        "type": "survey", "ticket": code, "ticket_day": day, "service": service,
        "tenant": TENANT_OF[service], "counter": counter, "outcome": "completed",
        "via": "status", "answers": answers, "at": f"{day}T11:00:00.000+07:00"}
    if officer:
        event["officer"] = officer
    if profile:
        event["profile"] = profile
    return event


BATCH = [
    ("1764043200000-0", survey("A001", "2026-11-25", "A", 1, [4] * 9, "budi",
                               {"gender": "p", "age": "30-39", "education": "s1"})),
    ("1764043200000-1", survey("A002", "2026-11-25", "A", 1, [3] * 9, "budi",
                               {"gender": "l", "occupation": "swasta"})),
    ("1764043200001-0", survey("B001", "2026-11-25", "B", 3, [4, 3, 2, 4, 3, 2, 4, 3, 2],
                               profile={"gender": "p"})),
    ("1764043200002-0", survey("B002", "2026-11-25", "B", 3, [1, 2, 3, 4, 1, 2, 3, 4, 1],
                               "sari")),
    ("1764561600000-0", survey("A001", "2026-12-01", "A", 2, [2] * 9, "budi")),
]


@pytest.fixture
def config(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    upgrade(database_url)
    db = create_engine(database_url)
    try:
        for _ in range(2):  # the archiver writes a batch again after a crash: no second row
            write(db, SITE, TENANT_OF, BATCH, 0)
        write(db, "other", TENANT_OF, BATCH[:1], 0)
        with db.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(survey_responses).where(
                survey_responses.c.site == SITE)) == 5
            assert connection.scalar(select(func.count()).select_from(events).where(
                events.c.site == SITE)) == 5
    finally:
        db.dispose()
    monkeypatch.setenv("ANTRIAN_DATABASE_URL", database_url)
    return write_site(tmp_path / "site.toml", SITE)


def report(config: Path, capsys: pytest.CaptureFixture[str], *options: str) -> dict[str, Any]:
    assert main(["report", "--skm", "--config", str(config), "--format", "json", *options]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["key"], row["responses"], row["ikm"], row["grade"], row["mutu"])


def test_a_day_by_service(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A: answers 4 and 3 throughout: every mean 3,5, IKM 87,50 B. B: element sums 5 5 5 8 4 4
    7 7 3 over 2: means 2,5 2,5 2,5 4 2 2 3,5 3,5 1,5, their mean 48/18, x 25 = 66,666... ->
    66,67 C. The total: sums 12 12 12 15 11 11 14 14 10 over 4: 111/36 x 25 = 77,08 B."""
    got = report(config, capsys, "--from", "2026-11-25", "--by", "service")
    assert (got["from"], got["to"], got["by"]) == ("2026-11-25", "2026-11-25", "service")
    assert list(got) == ["from", "to", "by", "rows", "total"]
    assert [figures(r) for r in got["rows"]] == [
        ("A", 2, 87.5, "B", "Baik"), ("B", 2, 66.67, "C", "Kurang Baik"),
        ("C", 0, None, None, None), ("D", 0, None, None, None)]
    b = got["rows"][1]
    assert [b[f"u{n}"] for n in range(1, 10)] == [2.5, 2.5, 2.5, 4.0, 2.0, 2.0, 3.5, 3.5, 1.5]
    assert b["name"] == "KTP-el"
    assert got["rows"][2]["u1"] is None
    assert figures(got["total"]) == ("total", 4, 77.08, "B", "Baik")
    assert list(got["total"]) == ["key", "name", "responses", *(f"u{n}" for n in range(1, 10)),
                                  "ikm", "grade", "mutu"]


def test_by_tenant_counter_officer_and_month(config: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    day = ("--from", "2026-11-25")
    assert [figures(r) for r in report(config, capsys, *day, "--by", "tenant")["rows"]] == [
        ("samsat", 2, 87.5, "B", "Baik"), ("capil", 2, 66.67, "C", "Kurang Baik")]
    assert [figures(r)[:3] for r in report(config, capsys, *day, "--by", "counter")["rows"]] == [
        ("1", 2, 87.5), ("2", 0, None), ("3", 2, 66.67), ("4", 0, None)]
    # officers with answers only; B001 was served with no officer signed in: in the total only.
    # sari: 1 2 3 4 1 2 3 4 1 = 21/9 x 25 = 58,33 D
    by_officer = report(config, capsys, *day, "--by", "officer")
    assert [figures(r) for r in by_officer["rows"]] == [
        ("budi", 2, 87.5, "B", "Baik"), ("sari", 1, 58.33, "D", "Tidak Baik")]
    assert by_officer["total"]["responses"] == 4
    # December: one answer of 2 throughout: 50,00 D
    months = report(config, capsys, "--from", "2026-11-01", "--to", "2026-12-31", "--by", "month")
    assert [figures(r) for r in months["rows"]] == [
        ("2026-11", 4, 77.08, "B", "Baik"), ("2026-12", 1, 50.0, "D", "Tidak Baik")]
    assert [r["name"] for r in months["rows"]] == ["November 2026", "Desember 2026"]
    # five answers: sums 14 14 14 17 13 13 16 16 12 = 129/45 x 25 = 71,666... -> 71,67 C
    assert figures(months["total"]) == ("total", 5, 71.67, "C", "Kurang Baik")
    days = report(config, capsys, "--from", "2026-11-24", "--to", "2026-11-26", "--by", "day")
    assert [figures(r)[:2] for r in days["rows"]] == [
        ("2026-11-24", 0), ("2026-11-25", 4), ("2026-11-26", 0)]


def test_officer_rows_are_named_from_the_accounts_in_redis(
        config: Path, capsys: pytest.CaptureFixture[str], redis_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The archive keeps only officer ids: with the site's Redis (ANTRIAN_REDIS_URL) a row is
    named by the officer's account ('Budi Santoso', not 'budi'); an id without an account keeps
    the id. Without a reachable Redis the rows keep their ids and stderr says why."""
    site = load_config(str(config))

    async def accounts() -> None:
        redis = connect(redis_url, pool_size=1, pool_timeout=5)
        try:
            store = Store(redis, site)
            if await officers.get(store, "budi") is None:
                await officers.add(store, "budi", "Budi Santoso", "samsat", "1", "2468")
        finally:
            await redis.aclose()

    asyncio.run(accounts())
    monkeypatch.setenv("ANTRIAN_REDIS_URL", redis_url)
    day = ("--from", "2026-11-25", "--by", "officer")
    named = report(config, capsys, *day)["rows"]
    assert [(r["key"], r["name"]) for r in named] == [("budi", "Budi Santoso"), ("sari", "sari")]
    assert main(["report", "--skm", "--config", str(config), *day, "--format", "csv"]) == 0
    assert "budi,Budi Santoso," in capsys.readouterr().out
    monkeypatch.setenv("ANTRIAN_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    assert main(["report", "--skm", "--config", str(config), *day, "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert [(r["key"], r["name"]) for r in json.loads(out)["rows"]] == [
        ("budi", "budi"), ("sari", "sari")]
    assert "Redis tidak terjangkau" in err and "ID petugas" in err


def test_csv_table_and_xlsx(config: Path, capsys: pytest.CaptureFixture[str],
                            tmp_path: Path) -> None:
    base = ["report", "--skm", "--config", str(config), "--from", "2026-11-25"]
    assert main([*base, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("Kode,Nama,Responden,U1,U2,U3,U4,U5,U6,U7,U8,U9,IKM,Mutu,"
                        "Kinerja unit pelayanan")
    assert lines[1] == "A,Perpanjangan STNK,2,3.5,3.5,3.5,3.5,3.5,3.5,3.5,3.5,3.5,87.5,B,Baik"
    assert lines[-1].startswith(",Jumlah,4,3.0,")
    assert main([*base, "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert "Kinerja unit pelayanan" in table and "87,5" in table and "Kurang Baik" in table
    out = tmp_path / "skm.xlsx"
    assert main([*base, "--format", "xlsx", "--by", "service,officer", "--out", str(out)]) == 0
    book = load_workbook(out)
    assert book.sheetnames == ["Layanan", "Petugas"]
    assert [c.value for c in book["Petugas"]["A"]][1:3] == ["budi", "sari"]


def test_bad_options_are_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["report", "--skm", "--config", str(config)]
    assert main([*base, "--by", "weekday"]) == 2
    assert "officer" in capsys.readouterr().err
    assert main([*base, "--by", "service,tenant", "--format", "csv"]) == 2
    assert main([*base, "--format", "xlsx"]) == 2
    assert main([*base, "--from", "2026-11-26", "--to", "2026-11-25"]) == 2


def test_profile_counts_weakest_and_the_summary(config: Path, database_url: str) -> None:
    site = load_config(str(config))
    db = create_engine(database_url)
    try:
        with db.connect() as connection:
            first, last = date(2026, 11, 25), date(2026, 11, 25)
            counts = skm_report.profile_counts(connection, SITE, first, last)
            assert counts["gender"] == {"l": 1, "p": 2, "": 1}
            assert counts["education"]["s1"] == 1 and counts["education"][""] == 3
            assert counts["occupation"]["swasta"] == 1
            assert sum(counts["age"].values()) == 4
            summary = skm_report.summary(connection, site, first, last)
            trend = skm_report.trend(connection, site, date(2026, 11, 1), date(2026, 12, 31))
    finally:
        db.dispose()
    assert summary["total"]["ikm"] == 77.08
    assert [e["name"] for e in summary["elements"]][:2] == [
        "Persyaratan", "Sistem, mekanisme dan prosedur"]
    assert [(w["key"], w["mean"]) for w in summary["weakest"]] == [
        ("u9", 2.5), ("u5", 2.75), ("u6", 2.75)]
    gender = summary["profile"]["gender"]
    assert gender["label"] == "Jenis kelamin"
    assert gender["choices"] == [{"value": "l", "label": "Laki-laki", "count": 1},
                                 {"value": "p", "label": "Perempuan", "count": 2},
                                 {"value": "", "label": "Tidak diisi", "count": 1}]
    assert [r["key"] for r in summary["by_service"]] == ["A", "B", "C", "D"]
    assert [(m["month"], m["ikm"]) for m in trend] == [("2026-11", 77.08), ("2026-12", 50.0)]
