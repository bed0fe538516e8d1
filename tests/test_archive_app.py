"""The archive in the product: `antrian serve` migrates it on start and runs the archiver, two
server processes archive each event once, /api/health shows the archiver; `antrian db upgrade`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from conftest import wait_until

from antrian.cli import main
from display_server.archive import db
from display_server.archive.tables import events, visits
from display_server.keys import SiteKeys


def count(url: str, table: sa.Table, site: str) -> int:
    engine = db.engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(
                sa.select(sa.func.count()).select_from(table).where(table.c.site == site)) or 0)
    finally:
        engine.dispose()


def test_two_servers_migrate_and_archive_each_event_once(server_factory: Any, redis_url: str,
                                                         database_url: str) -> None:
    env = {"ANTRIAN_DATABASE_URL": database_url}
    one, two = server_factory(extra_env=env), server_factory(extra_env=env)
    site = server_factory.site_id
    for _ in range(6):
        one.api.ticket("A")
    two.api.call(1)
    one.api.call(2)
    assert one.api.act(1, "done", {"outcome": "completed"}).status_code == 200
    stream = SiteKeys(site)("events")
    added = int(redis.Redis.from_url(redis_url).xlen(stream))
    assert added == 9
    wait_until(lambda: count(database_url, events, site) == added, timeout=10,
               what="every event archived")
    reports = [server.api.client.get("/api/health").json()["archive"] for server in (one, two)]
    assert sorted(r["leading"] for r in reports) == [False, True]
    assert {r["lag"] for r in reports} == {0}
    assert {r["alarm"] for r in reports} == {None}
    assert count(database_url, visits, site) == 6


def test_db_upgrade_migrates_the_archive_and_names_a_database_it_cannot_reach(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ANTRIAN_DATABASE_URL", raising=False)
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 0
    assert "archive.sqlite3" in capsys.readouterr().out
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    assert count(url, events, "any") == 0
    monkeypatch.setenv("ANTRIAN_DATABASE_URL", "postgresql://arsip:rahasia@127.0.0.1:1/arsip")
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "postgresql+psycopg://arsip:***@127.0.0.1:1/arsip" in err
    assert "tidak dapat dipakai" in err and "Traceback" not in err and "rahasia" not in err
