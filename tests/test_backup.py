"""antrian backup and antrian restore: a site backed up, wiped (Redis keys, data dir, archive)
and restored shows the same queue, report figures, tokens and status links; a backup taken
while counters work restores to a consistent state; broken backups and non-empty targets are
refused. Real Redis, real `antrian serve` processes, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis
from conftest import ServerProcess, free_port, site_keys, wait_until, write_site
from site_api import SiteApi
from sqlalchemy import select, text

from antrian.cli import main
from display_server.archive import db, tables
from display_server.backup import prune
from display_server.keys import SiteKeys

JAKARTA = ZoneInfo("Asia/Jakarta")


class Site:
    """One test site: its config, data dir, archive and Redis, and a server on them."""

    def __init__(self, tmp_path: Path, redis_url: str, database_url: str) -> None:
        self.site_id = f"b{free_port()}"
        self.config = write_site(tmp_path / "site.toml", self.site_id, counters=4)
        self.config.write_text(self.config.read_text()
                               + '\n[complaints]\nrate = "100/60"\n')
        self.data = tmp_path / "data"
        self.redis_url = redis_url
        self.database_url = database_url
        self.server: ServerProcess | None = None

    def start(self, config: Path | None = None) -> SiteApi:
        self.data.mkdir(exist_ok=True)
        self.server = ServerProcess(config or self.config, self.redis_url, self.data,
                                    extra_env={"ANTRIAN_DATABASE_URL": self.database_url})
        self.server.start()
        return self.server.api

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def archived(self) -> None:
        """Wait until the archive has every event of the stream."""
        assert self.server is not None
        wait_until(lambda: httpx.get(self.server.url + "/api/health").json()  # type: ignore
                   ["archive"]["lag"] == 0, timeout=20, what="the archive")

    def cli(self, *args: str) -> int:
        return main([*args, "--data-dir", str(self.data), "--redis-url", self.redis_url])

    def redis_client(self) -> redis.Redis:
        """A client of the Redis server holding the site's keys."""
        return redis.Redis.from_url(self.redis_url)

    def wipe(self) -> None:
        """Every trace of the site: its Redis keys, the data dir, the archive's tables."""
        client = self.redis_client()
        for key in client.scan_iter(match=SiteKeys(self.site_id).prefix + "*"):
            client.delete(key)
        client.close()
        shutil.rmtree(self.data)
        engine = db.engine(self.database_url)
        with engine.begin() as connection:
            tables.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()


@pytest.fixture
def site(tmp_path: Path, redis_url: str, database_url: str,
         monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("ANTRIAN_DATABASE_URL", database_url)
    monkeypatch.delenv("ANTRIAN_REDIS_URL", raising=False)
    monkeypatch.delenv("ANTRIAN_CONFIG", raising=False)
    made = Site(tmp_path, redis_url, database_url)
    yield made
    made.stop()


def today() -> str:
    return datetime.now(JAKARTA).date().isoformat()


def build_state(api: SiteApi) -> dict[str, Any]:
    """Tickets waiting, served and being served, a survey answer and a complaint."""
    served = [api.ticket("A") for _ in range(3)]
    waiting = [api.ticket("B") for _ in range(2)] + [api.ticket("A")]
    for _ in served:
        api.call(1)
        assert api.act(1, "done", {"outcome": "completed"}).status_code == 200
    r = api.client.post(served[0]["status_url"] + "/survey", json={"answers": [4, 3] * 4 + [4]})
    assert r.status_code == 201, r.text
    api.call(2)  # serving: the first B
    r = api.client.post("/api/complaints", data={
        "category": "petugas", "text": "Antrean lama sekali dan petugas tidak ada di loket.",
        "ticket": served[1]["status_url"].removeprefix("/t/")})
    assert r.status_code == 201, r.text
    return {"served": served, "waiting": waiting, "tracking": r.json()["tracking"]}


VOLATILE = {"now"}


def state(api: SiteApi) -> dict[str, Any]:
    body = api.client.get("/api/state").json()
    return {k: v for k, v in body.items() if k not in VOLATILE}


def reports(site: Site, capsys: pytest.CaptureFixture[str]) -> list[Any]:
    """The visit report per service and counter, the SKM report, the complaints report."""
    found = []
    for extra in (["--by", "service"], ["--by", "counter"], ["--skm"], ["--complaints"]):
        capsys.readouterr()
        assert main(["report", "--config", str(site.config), "--data-dir", str(site.data),
                     "--from", today(), "--format", "json", *extra]) == 0
        found.append(json.loads(capsys.readouterr().out))
    return found


def tokens(site: Site, capsys: pytest.CaptureFixture[str]) -> list[str]:
    printed = []
    for who in (["--counter", "1"], ["--counter", "4"], ["--admin"], ["--kiosk"]):
        capsys.readouterr()
        assert main(["token", "--config", str(site.config), "--data-dir", str(site.data),
                     *who]) == 0
        printed.append(capsys.readouterr().out.strip())
    return printed


def test_backup_wipe_restore_gives_the_same_queue_report_tokens_and_links(
        site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api = site.start()
    made = build_state(api)
    site.archived()
    before = state(api)
    before_reports = reports(site, capsys)
    before_tokens = tokens(site, capsys)
    before_status = [api.status(t).json() for t in made["served"] + made["waiting"]]
    assert before_reports[0]["rows"] and before_reports[3]["rows"]

    out = tmp_path / "cadangan" / "situs.tar.gz"
    capsys.readouterr()
    assert site.cli("backup", "--config", str(site.config), "--out", str(out)) == 0
    said = capsys.readouterr().out
    assert str(out) in said and "kunci Redis" in said
    assert out.stat().st_mode & 0o077 == 0  # it holds the secret
    site.stop()

    site.wipe()
    assert not site_keys(site.redis_url, site.site_id)
    assert site.cli("restore", str(out)) == 0
    restored_config = site.data / "site.toml"
    assert "konfigurasi situs ditulis ke" in capsys.readouterr().out
    assert restored_config.read_text() == site.config.read_text()

    api = site.start(restored_config)
    site.archived()
    assert state(api) == before
    assert reports(site, capsys) == before_reports
    assert tokens(site, capsys) == before_tokens
    assert [api.status(t).json() for t in made["served"] + made["waiting"]] == before_status
    # the counters' old tokens still work: counter 2 finishes its visitor, 1 calls the waiting A
    assert api.act(2, "done", {"outcome": "completed"}).status_code == 200
    assert api.call(1)["ticket"]["code"] == made["waiting"][2]["code"]  # its first service: A
    # the visitor's complaint is still there under its tracking code
    assert api.client.get(f"/api/complaints/{made['tracking']}").status_code == 200
    # a new complaint gets a new id (PostgreSQL's sequence was moved past the restored ids)
    r = api.client.post("/api/complaints", data={
        "category": "petugas", "text": "Kursi ruang tunggu kurang banyak untuk lansia."})
    assert r.status_code == 201, r.text


def test_a_backup_taken_while_counters_work_restores_to_a_consistent_state(
        site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Counters call and finish and kiosks issue while the backup runs: after wipe and restore
    every ticket is in the same place in the archive and in the live state, the report's
    figures count exactly the restored tickets, and the counters' tokens are the old ones."""
    api = site.start()
    assert site.server is not None
    before_tokens = tokens(site, capsys)
    base, secret = site.server.url, api.secret
    out = tmp_path / "beban.tar.gz"

    async def load() -> int:
        stop = asyncio.Event()
        worker = SiteApi(httpx.Client(), secret, site.site_id)

        async def counter(client: httpx.AsyncClient, number: int) -> None:
            headers = worker.auth(number)
            while not stop.is_set():
                await client.post(f"/api/counters/{number}/call-next", json=None, headers=headers)
                await client.post(f"/api/counters/{number}/done",
                                  json={"outcome": "completed"}, headers=headers)

        async def kiosk(client: httpx.AsyncClient, service: str) -> None:
            while not stop.is_set():
                await client.post("/api/tickets", json={"service": service},
                                  headers=worker.kiosk_auth())

        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            tasks = [asyncio.create_task(counter(client, n)) for n in (1, 2, 3)]
            tasks += [asyncio.create_task(kiosk(client, service)) for service in "AB"]
            await asyncio.sleep(1.0)  # the load is under way
            code = await asyncio.to_thread(
                site.cli, "backup", "--config", str(site.config), "--out", str(out))
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.gather(*tasks)
        return code

    assert asyncio.run(load()) == 0
    site.stop()
    site.wipe()
    assert site.cli("restore", str(out)) == 0
    site.start(site.data / "site.toml")
    site.archived()  # the events the archive copy lacked are archived again

    client = redis.Redis.from_url(site.redis_url, decode_responses=True)
    keys = SiteKeys(site.site_id)
    engine = db.engine(site.database_url)
    with engine.connect() as connection:
        visits = {(r.day, r.code): r for r in connection.execute(
            select(tables.visits).where(tables.visits.c.site == site.site_id))}

    def story(code: str) -> str:
        """A ticket's events in the archive and in the stream, for a failure's message."""
        with engine.connect() as connection:
            archived = list(connection.execute(
                select(tables.events.c.event_id, tables.events.c.type)
                .where(tables.events.c.ticket == code)))
        streamed = [(i, json.loads(f["d"])["type"]) for i, f in client.xrange(keys("events"))
                    if json.loads(f["d"]).get("ticket") == code]
        return f"{code}: archive {archived}, stream {streamed}, manifest {manifest}"

    with tarfile.open(out) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))["archive"]  # type: ignore[arg-type]
    tickets = {tuple(k.removeprefix(keys.prefix + "t:").split(":")): client.hgetall(k)
               for k in client.scan_iter(match=keys.prefix + "t:*")}
    assert len(visits) > 10
    # the archive and the live state hold the same tickets, each in the same place
    assert set(visits) == set(tickets)
    serving = {}
    for number in (1, 2, 3, 4):
        counter = client.hgetall(keys("counter", number))
        if counter.get("status") == "serving":
            serving[counter["ticket"]] = number
    for (day, code), ticket in tickets.items():
        visit = visits[(day, code)]
        if ticket["status"] == "served":
            assert visit.outcome == "completed", story(code)
        elif ticket["status"] == "waiting":
            assert visit.outcome is None and visit.first_call_ms is None, story(code)
            assert client.zscore(keys("queue", day, ticket["service"]), f"{day}:{code}")
        else:  # being served: its counter says so (no half action)
            assert ticket["status"] == "called", ticket
            assert serving.get(f"{day}:{code}") == int(ticket["counter"]), (code, serving)
            assert visit.outcome is None and visit.first_call_ms is not None, story(code)
    # the report (from the restored archive) counts exactly the restored tickets
    days = sorted({day for day, _ in tickets})
    capsys.readouterr()
    assert main(["report", "--config", str(site.config), "--data-dir", str(site.data),
                 "--from", days[0], "--to", days[-1], "--format", "json",
                 "--by", "service"]) == 0
    rows = {row["key"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    for service in "AB":
        mine = [t for t in tickets.values() if t["service"] == service]
        assert rows[service]["issued"] == len(mine), service
        assert rows[service]["completed"] == sum(t["status"] == "served" for t in mine), service
        assert rows[service]["called"] == sum(t["status"] != "waiting" for t in mine), service
    assert tokens(site, capsys) == before_tokens
    client.close()
    engine.dispose()


def test_broken_backups_and_non_empty_targets_are_refused(
        site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api = site.start()
    api.ticket("A")
    site.archived()
    out = tmp_path / "cadangan.tar.gz"
    assert site.cli("backup", "--config", str(site.config), "--out", str(out)) == 0
    site.stop()
    capsys.readouterr()

    # the site is still there: refused, nothing changed
    keys = site_keys(site.redis_url, site.site_id)
    assert site.cli("restore", str(out)) == 2
    said = capsys.readouterr().err
    assert "Redis tujuan sudah berisi" in said and "rahasia situs" in said
    assert "arsip tujuan sudah berisi" in said and "--force" in said
    assert site_keys(site.redis_url, site.site_id) == keys

    # not a backup, cut short, one member changed: refused before anything is written
    site.wipe()
    junk = tmp_path / "bukan.tar.gz"
    junk.write_bytes(b"ini bukan cadangan")
    assert site.cli("restore", str(junk)) == 2
    assert "rusak atau bukan cadangan antrian" in capsys.readouterr().err
    cut = tmp_path / "terpotong.tar.gz"
    cut.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    assert site.cli("restore", str(cut)) == 2
    assert "rusak" in capsys.readouterr().err
    changed = tmp_path / "diubah.tar.gz"
    with tarfile.open(out) as source, tarfile.open(changed, "w:gz") as target:
        for member in source:
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "secret":
                data = b"0" * len(data)
            target.addfile(member, io.BytesIO(data))
    assert site.cli("restore", str(changed)) == 2
    assert "checksum secret tidak cocok" in capsys.readouterr().err
    assert not site_keys(site.redis_url, site.site_id)
    assert not (site.data / "secret").exists()

    # the good one goes back; again with --force over it
    assert site.cli("restore", str(out)) == 0
    assert site.cli("restore", str(out)) == 2
    assert site.cli("restore", str(out), "--force") == 0
    lease = SiteKeys(site.site_id)("archiver")  # the archiver's lease is not backed up
    assert site_keys(site.redis_url, site.site_id).keys() - {lease} == keys.keys() - {lease}


def test_backups_in_a_folder_keep_the_newest(site: Site, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "harian"
    folder.mkdir()
    stamps = ["20261101T020000Z", "20261102T020000Z", "20261103T020000Z"]
    for stamp in stamps:
        (folder / f"antrian-{site.site_id}-{stamp}.tar.gz").write_bytes(b"lama")
    other = folder / "antrian-lain-20261101T020000Z.tar.gz"
    other.write_bytes(b"situs lain")
    site.start()
    site.stop()
    assert site.cli("backup", "--config", str(site.config), "--out-dir", str(folder),
                    "--keep", "2") == 0
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 3 and other.name in kept
    assert f"antrian-{site.site_id}-{stamps[2]}.tar.gz" in kept
    newest = [p for p in folder.iterdir() if p.name not in (other.name,)
              and stamps[2] not in p.name]
    with tarfile.open(newest[0]) as tar:
        assert json.load(tar.extractfile("manifest.json"))["site"] == site.site_id  # type: ignore
    assert prune(folder, site.site_id, 1) == [folder / f"antrian-{site.site_id}-{stamps[2]}.tar.gz"]
    capsys.readouterr()
    assert site.cli("backup", "--config", str(site.config), "--out", "x", "--keep", "1") == 2
    assert "--keep perlu --out-dir" in capsys.readouterr().err
    # a cluster nobody answers, a sentinel URL without its name: one line, no traceback
    # (tests/test_backup_distributed.py backs up from real ones)
    assert main(["backup", "--config", str(site.config), "--data-dir", str(site.data),
                 "--out", str(tmp_path / "x"), "--redis-url", "redis+cluster://127.0.0.1:1"]) == 2
    said = capsys.readouterr().err
    assert "127.0.0.1:1 tidak dapat dihubungi" in said and "Traceback" not in said
    assert main(["backup", "--config", str(site.config), "--data-dir", str(site.data),
                 "--out", str(tmp_path / "x"), "--redis-url", "redis+sentinel://s1:26379"]) == 2
    assert "redis+sentinel://s1:26379 tidak dikenali" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_an_sqlite_backup_restores_into_postgresql(
        tmp_path: Path, redis_url: str, postgres: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A site moving from SQLite to PostgreSQL: the restore inserts the SQLite copy's rows."""
    monkeypatch.delenv("ANTRIAN_REDIS_URL", raising=False)
    sqlite_url = f"sqlite:///{tmp_path / 'arsip.sqlite3'}"
    monkeypatch.setenv("ANTRIAN_DATABASE_URL", sqlite_url)
    site = Site(tmp_path, redis_url, sqlite_url)
    try:
        api = site.start()
        made = build_state(api)
        site.archived()
        before = reports(site, capsys)
        out = tmp_path / "pindah.tar.gz"
        assert site.cli("backup", "--config", str(site.config), "--out", str(out)) == 0
    finally:
        site.stop()
    site.wipe()
    site.database_url = postgres.create_database()
    monkeypatch.setenv("ANTRIAN_DATABASE_URL", site.database_url)
    assert site.cli("restore", str(out)) == 0
    assert reports(site, capsys) == before
    try:
        api = site.start(site.data / "site.toml")
        assert api.client.get(f"/api/complaints/{made['tracking']}").status_code == 200
    finally:
        site.stop()
