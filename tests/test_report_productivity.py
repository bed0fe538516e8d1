"""`antrian report --productivity` on a scripted day (real Redis, the queue scripts, the
archiver, SQLite and PostgreSQL): served per open hour and pause seconds per reason against
figures worked out by hand; the same table on /admin."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Api, FakeClock, write_site
from starlette.testclient import TestClient
from test_sessions import sign_in

from antrian.cli import main
from antrian.main import build_app
from display_screens.dashboard import open_time
from display_server.archive import db
from display_server.archive.archiver import Archiver
from display_server.config import SiteConfig, load_config
from display_server.store import Store, connect

DAY = "2026-11-25"


def wib(hour: int, minute: int) -> datetime:
    """hour:minute WIB on the scripted day."""
    return datetime(2026, 11, 25, hour - 7, minute, tzinfo=UTC)


async def drain(archiver: Archiver) -> None:
    while await archiver.step() or not archiver.state.leading:
        pass


@pytest.fixture
async def day(tmp_path: Path, redis_url: str, database_url: str,
              monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Path, SiteConfig]]:
    """The scripted day archived: the site's config file and the site."""
    config = write_site(tmp_path / "site.toml", f"prod{tmp_path.name[-6:]}")
    site = load_config(config)
    clock = FakeClock(wib(8, 0))
    db.upgrade(database_url)
    engine = db.engine(database_url)
    redis = connect(redis_url, pool_size=4, pool_timeout=5)
    store = Store(redis, site, clock)
    archiver = Archiver(redis, site, engine, clock, block_ms=10)

    async def at(hour: int, minute: int) -> None:
        clock.now = wib(hour, minute)

    # counter 1: a pause before its first call (outside the span), the span 09:00-10:40 with
    # 30 min Istirahat and 15 min Rapat, then an Ibadah pause after its last finish (outside)
    await store.act(1, "pause", "Istirahat")
    await at(8, 30)
    await store.act(1, "resume")
    await at(9, 0)
    for service in ("A", "A", "A", "A", "B", "B"):
        await store.issue(service)
    await store.call(1, ticket="A001")
    await at(9, 10)
    await store.act(1, "done", "completed")
    await store.act(1, "pause", "Istirahat")
    # counter 2: the span 09:30-10:30, 10 min Gangguan then 10 min Istirahat
    await at(9, 30)
    await store.call(2, ticket="B001")
    await at(9, 40)
    await store.act(1, "resume")
    await at(9, 45)
    await store.call(1, ticket="A002")
    await at(9, 50)
    await store.act(2, "done", "completed")
    await store.act(2, "pause", "Gangguan")
    await at(10, 0)
    await store.call(1, ticket="A003")              # completes A002
    await store.act(2, "resume")
    await store.act(2, "pause", "Istirahat")
    await at(10, 5)
    await store.act(1, "done", "not_completed")
    await store.act(1, "pause", "Rapat")
    await at(10, 10)
    await store.act(2, "resume")
    await store.call(2, ticket="B002")
    await at(10, 20)
    await store.act(1, "resume")
    await at(10, 30)
    await store.call(1, ticket="A004")
    await store.act(2, "transfer", "A")             # B002 leaves counter 2: not served there
    await at(10, 40)
    await store.act(1, "skip")                      # a no-show: not served
    await at(11, 0)
    await store.act(1, "pause", "Ibadah")           # never resumed, after the last finish
    # counter 3: open 5 minutes, one served: too short for a rate (not 12 an hour)
    await store.issue("A")
    await store.call(3, ticket="A005")
    await at(11, 5)
    await store.act(3, "done", "completed")
    await drain(archiver)
    await redis.aclose()
    engine.dispose()
    monkeypatch.setenv("ANTRIAN_DATABASE_URL", database_url)
    yield config, site


def run(config: Path, capsys: pytest.CaptureFixture[str], *options: str) -> str:
    assert main(["report", "--config", str(config), "--productivity", "--from", DAY,
                 *options]) == 0
    return capsys.readouterr().out


async def test_served_per_open_hour_and_pause_seconds_by_reason(
        day: tuple[Path, SiteConfig], capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = day
    got = json.loads(run(config, capsys, "--format", "json"))
    assert (got["from"], got["to"]) == (DAY, DAY)
    assert got["reasons"] == ["Gangguan", "Istirahat", "Rapat"]
    figures = [(r["key"], r["served"], r["open_s"], r["served_per_open_hour"], r["pause_s"],
                r["pause_total_s"]) for r in got["rows"]]
    assert figures == [
        # 100 min span − 45 min paused = 3,300 s; 3 served (A001, A002, A003): 3.27 an hour
        ("1", 3, 3300, 3.27, {"Istirahat": 1800, "Rapat": 900}, 2700),
        # 60 min span − 20 min paused = 2,400 s; B001 served (B002 transferred): 1.5 an hour
        ("2", 1, 2400, 1.5, {"Gangguan": 600, "Istirahat": 600}, 1200),
        ("3", 1, 300, None, {}, 0),  # under 15 minutes open: no rate
        ("4", 0, 0, None, {}, 0),
    ]
    total = got["total"]
    assert (total["served"], total["open_s"], total["served_per_open_hour"], total["pause_s"],
            total["pause_total_s"]) == (
        5, 6000, 3.0, {"Gangguan": 600, "Istirahat": 2400, "Rapat": 900}, 3900)


async def test_productivity_as_csv_and_an_indonesian_table(
        day: tuple[Path, SiteConfig], capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = day
    lines = run(config, capsys, "--format", "csv").splitlines()
    assert lines[0] == ("Kode,Nama,Dilayani,Waktu buka (detik),Dilayani per jam buka,"
                        "Jeda (detik),Jeda Gangguan (detik),Jeda Istirahat (detik),"
                        "Jeda Rapat (detik)")
    assert lines[1].split(",")[2:] == ["3", "3300", "3.27", "2700", "0", "1800", "900"]
    table = run(config, capsys, "--format", "table")
    assert "3,27" in table and "3.300" in table and "6.000" in table
    assert lines[3].split(",")[2:5] == ["1", "300", ""]  # counter 3: no rate yet
    assert main(["report", "--config", str(config), "--productivity", "--format", "xlsx",
                 "--out", "x.xlsx"]) == 2
    assert "produktivitas" in capsys.readouterr().err


async def test_the_dashboard_loads_the_ranges_productivity_table(
        day: tuple[Path, SiteConfig], redis_url: str, database_url: str, tmp_path: Path) -> None:
    _, site = day
    app = build_app(site, redis_url, tmp_path, clock=FakeClock(wib(12, 0)),
                    database_url=database_url)
    with TestClient(app) as client:
        office = Api(client, site, tmp_path)
        cookie, _ = sign_in(office, "admin")
        page = client.get(f"/admin?dari={DAY}&sampai={DAY}", headers={"Cookie": cookie})
        assert "Produktivitas loket" in page.text
        assert f'data-src="/admin/produktivitas?dari={DAY}&amp;sampai={DAY}"' in page.text
        part = client.get(f"/admin/produktivitas?dari={DAY}&sampai={DAY}",
                          headers={"Cookie": cookie})
        assert part.status_code == 200
        rows = {m[0]: m[1] for m in re.findall(
            r'<tr data-counter="(\w+)"[^>]*>(.*?)</tr>', part.text, re.S)}
        assert sorted(rows) == ["1", "2", "3", "total"]        # idle counters are left out
        cells = [re.findall(r'<td class="n">([^<]*)</td>', rows[k])
                 for k in ("1", "2", "3", "total")]
        # served, open time, served per open hour, paused minutes, then Gangguan, Istirahat,
        # Rapat; counter 3, open 5 minutes, has no rate (not 12 an hour)
        assert cells == [["3", "55 menit", "3,27", "45", "0", "30", "15"],
                         ["1", "40 menit", "1,5", "20", "10", "10", "0"],
                         ["1", "5 menit", "–", "0", "0", "0", "0"],
                         ["5", "1 jam 40 menit", "3", "65", "10", "40", "15"]]
        assert "sedikitnya 15 menit" in part.text
        assert [open_time(s) for s in (0, 30, 60, 3600, 3661, 4_000_000)] == [
            "0 menit", "kurang dari 1 menit", "1 menit", "1 jam", "1 jam 1 menit",
            "1.111 jam 6 menit"]
        assert client.get("/admin/produktivitas").status_code == 401
