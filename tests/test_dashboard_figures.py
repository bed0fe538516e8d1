"""The dashboard's figures and charts with a moved clock: a wait is first call − issue once per
ticket (a transferred ticket's second call adds none), today's live figures are the archive's
report of today, the charts show the range asked, and without an archive the page says so."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import Api, FakeClock
from conftest import wait_until as until
from starlette.testclient import TestClient
from test_sessions import sign_in

from antrian.main import build_app
from display_server import officers
from display_server.archive import db, writing
from display_server.config import SiteConfig
from display_server.store import Store, connect
from texts import number, t


def figures(html: str) -> dict[str, str]:
    found = re.findall(r'data-figure="(\w+)"><span class="a-value">([^<]*)</span>', html)
    return dict(found)


def test_waits_count_each_ticket_once_from_its_first_call(api: Api, clock: FakeClock) -> None:
    """A001 waits 8 minutes, is transferred and called again later; A002 waits 15: the average
    is 11,5 minutes and the longest 15 (not the 14,3 of averaging every call)."""
    api.ticket("A")
    clock.advance(minutes=5)
    api.ticket("A")
    clock.advance(minutes=3)
    assert api.call(1)["ticket"]["code"] == "A001"
    clock.advance(minutes=1)
    assert api.act(1, "transfer", {"service": "B"}).status_code == 200
    clock.advance(minutes=11)
    assert api.call(2)["ticket"]["code"] == "A001"
    assert api.call(3)["ticket"]["code"] == "A002"
    cookie, _ = sign_in(api, "admin")
    live = api.client.get("/admin/langsung", headers={"Cookie": cookie})
    assert live.status_code == 200
    assert figures(live.text) == {"visitors": "2", "served": "0", "waiting": "0",
                                  "avg_wait": "11,5", "max_wait": "15"}


@contextmanager
def archived_app(site: SiteConfig, clock: FakeClock, redis_url: str, tmp_path: Path,
                 alarm: str | None = None) -> Iterator[Api]:
    """The whole app with its archiver on an SQLite archive (which recorded `alarm`, if any)."""
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    db.upgrade(url)
    if alarm is not None:
        engine = db.engine(url)
        writing.save_alarm(engine, site.id, alarm, 0)
        engine.dispose()
    with TestClient(build_app(site, redis_url, tmp_path, clock=clock, database_url=url)) as client:
        yield Api(client, site, tmp_path)


@pytest.fixture
def archived(site: SiteConfig, clock: FakeClock, redis_url: str, tmp_path: Path) -> Iterator[Api]:
    with archived_app(site, clock, redis_url, tmp_path) as api:
        yield api


def archive_caught_up(api: Api) -> None:
    until(lambda: api.client.get("/api/health").json()["archive"]["lag"] == 0, timeout=10,
          what="the archive")


def test_todays_figures_agree_with_the_archive_report(archived: Api, clock: FakeClock) -> None:
    """Visitors, served and the longest wait of today read live from Redis are the archive's
    report of today (issued, served, wait_max_s)."""
    api = archived
    for service in ("A", "B", "A"):
        api.ticket(service)
        clock.advance(minutes=2)
    api.call(1)
    clock.advance(minutes=4)
    api.act(1, "done", {"outcome": "not_completed"})
    api.call(2)
    api.act(2, "skip")
    archive_caught_up(api)
    cookie, _ = sign_in(api, "admin")
    shown = figures(api.client.get("/admin/langsung", headers={"Cookie": cookie}).text)
    csv_text = api.client.get("/admin/laporan.csv?dari=2026-11-25&sampai=2026-11-25",
                              headers={"Cookie": cookie}).text
    total = next(row for row in csv.DictReader(io.StringIO(csv_text)) if row["Kode"] == "total")
    assert (shown["visitors"], shown["served"]) == (total["Diambil"], total["Dilayani"]) \
        == ("3", "1")
    assert shown["max_wait"] == number(int(total[t("report.wait_max_s")]) / 60) == "8"


def test_the_per_officer_download_names_each_officer(archived: Api, clock: FakeClock,
                                                     redis_url: str) -> None:
    """/admin/laporan.csv?per=officer: the archive names the officer by id; the row's Nama is
    the name of their account ('Budi Santoso', not 'budi')."""
    api = archived

    async def served_by_budi() -> None:
        redis = connect(redis_url, pool_size=2, pool_timeout=5)
        try:
            store = Store(redis, api.site, clock)
            await officers.add(store, "budi", "Budi Santoso", "samsat", "1", "2468")
            await store.issue("A")
            await store.call(1, officer="budi")
            clock.advance(minutes=3)
            await store.act(1, "done", "completed", officer="budi")
        finally:
            await redis.aclose()

    asyncio.run(served_by_budi())
    archive_caught_up(api)
    cookie, _ = sign_in(api, "admin")
    answer = api.client.get("/admin/laporan.csv?dari=2026-11-25&sampai=2026-11-25&per=officer",
                            headers={"Cookie": cookie})
    assert answer.status_code == 200
    rows = {row["Kode"]: row for row in csv.DictReader(io.StringIO(answer.text))}
    assert rows["budi"][t("report.name")] == "Budi Santoso"
    assert rows["budi"]["Dilayani"] == "1"


def test_charts_cover_the_range_asked(archived: Api, clock: FakeClock) -> None:
    """Three days asked: three bars, today's with its visitors; the heat map marks Wednesday
    10.00, the wait histogram the 5–10 minutes bin."""
    api = archived
    for _ in range(3):
        api.ticket("A")
    clock.advance(minutes=7)
    api.call(1)
    archive_caught_up(api)
    cookie, _ = sign_in(api, "admin")
    page = api.client.get("/admin?dari=2026-11-23&sampai=2026-11-25",
                          headers={"Cookie": cookie}).text
    svg = {}
    for name in re.findall(r'src="(/admin/grafik/\w+\.svg\?[^"]+)"', page):
        answer = api.client.get(name.replace("&amp;", "&"), headers={"Cookie": cookie})
        assert answer.headers["content-type"] == "image/svg+xml"
        svg[name.split("/")[-1].split(".")[0]] = answer.text
    assert svg["per_day"].count('class="bar"') == 3
    assert "2026-11-25: 3</title>" in svg["per_day"] and "2026-11-24: 0</title>" in svg["per_day"]
    assert "Rabu 10.00: 3</title>" in svg["heat"]
    assert svg["waits"].count('class="bar"') == 13
    assert "Tunggu 5–10 menit: 1</title>" in svg["waits"]
    bad = api.client.get("/admin/grafik/heat.svg?dari=2026-11-26&sampai=2026-11-25",
                         headers={"Cookie": cookie})
    assert bad.status_code == 400


def test_the_archivers_alarm_is_on_the_page(site: SiteConfig, clock: FakeClock,
                                             redis_url: str, tmp_path: Path) -> None:
    """The alarm the archiver recorded (events trimmed before they were archived) is the first
    thing /admin shows, in Indonesian with the archiver's detail."""
    detail = "12 events were trimmed from the stream before they were archived"
    with archived_app(site, clock, redis_url, tmp_path, alarm=detail) as api:
        cookie, _ = sign_in(api, "admin")
        page = api.client.get("/admin", headers={"Cookie": cookie}).text
    alarm = page.index('id="archive-alarm"')
    assert alarm < page.index('id="figures"')
    assert "PERINGATAN ARSIP" in page[alarm:] and detail in page[alarm:]


def test_without_an_archive_the_page_says_so(api: Api) -> None:
    """A process without an archive shows today's figures and says the charts need one; its
    downloads are a 404 page saying why."""
    cookie, _ = sign_in(api, "admin")
    page = api.client.get("/admin", headers={"Cookie": cookie})
    assert page.status_code == 200 and "Arsip laporan tidak tersedia" in page.text
    assert 'data-figure="visitors"' in page.text
    download = api.client.get("/admin/laporan.csv", headers={"Cookie": cookie})
    assert download.status_code == 404 and "Arsip laporan tidak tersedia" in download.text
