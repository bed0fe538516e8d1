"""antrian backup and restore on Redis's distributed modes, all real processes on loopback
ports: on a Redis Cluster (3 masters, 3 replicas) the site's keys are read from, and put back
on, the master of the slot of the site's hash tag; on Sentinel from and to the primary the
sentinels name (after a failover, the promoted one). A site with tickets, calls, a survey
answer, a complaint and changed settings is backed up, wiped and restored, and shows the same
state, settings, reports and ticket pages; a restore onto the live site is refused as on plain
Redis. And the cluster and Sentinel clients under a burst: 300 concurrent actions on a server
whose pool has 4 connections all succeed, waiting for a connection as the plain
BlockingConnectionPool does."""

from __future__ import annotations

import asyncio
import base64
import json
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from conftest import ServerProcess, wait_until, write_site
from redis_topologies import Cluster, SentinelSet
from site_api import SiteApi
from test_backup import Site, build_state, reports, state

from display_server.keys import SiteKeys
from display_server.store import BoundedCluster, connect


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    started = Cluster(tmp_path_factory.mktemp("cluster")).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def sentinels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelSet]:
    started = SentinelSet(tmp_path_factory.mktemp("sentinel")).start()
    yield started
    started.stop()


class NodeSite(Site):
    """A test site on a cluster or Sentinel: `holder` gives a client of the server holding
    its keys now (the slot's master, the named primary)."""

    def __init__(self, tmp_path: Path, redis_url: str, holder: Callable[[str], redis.Redis],
                 monkeypatch: pytest.MonkeyPatch) -> None:
        database_url = f"sqlite:///{tmp_path / 'arsip.sqlite3'}"
        monkeypatch.setenv("ANTRIAN_DATABASE_URL", database_url)
        monkeypatch.delenv("ANTRIAN_REDIS_URL", raising=False)
        monkeypatch.delenv("ANTRIAN_CONFIG", raising=False)
        super().__init__(tmp_path, redis_url, database_url)
        self.holder = holder

    def redis_client(self) -> redis.Redis:
        return self.holder(self.site_id)

    def keys(self, client: redis.Redis | None = None) -> set[str]:
        client = client or self.redis_client()
        try:
            return {k if isinstance(k, str) else k.decode() for k in client.scan_iter(
                match=SiteKeys(self.site_id).prefix + "*", count=1000)}
        finally:
            client.close()


def office(api: SiteApi) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.admin_token()}"}


def change_settings(api: SiteApi) -> None:
    """The office changes the running text and a service's quota (kept in Redis)."""
    for change in ({"site": {"running_text": ["Layanan KTP pindah ke lantai 2."]}},
                   {"services": {"D": {"quota": 5}}}):
        r = api.client.patch("/api/settings", json=change, headers=office(api))
        assert r.status_code == 200, r.text


def settings(api: SiteApi) -> dict[str, Any]:
    body = api.client.get("/api/settings", headers=office(api)).json()
    history = api.client.get("/api/settings/history", headers=office(api)).json()
    return {"settings": body, "history": history}


def backed_up_keys(out: Path) -> list[str]:
    with tarfile.open(out) as tar:
        member = tar.extractfile("redis.jsonl")
        assert member is not None
        lines = member.read().decode().splitlines()
    return [base64.b64decode(json.loads(line)["k"]).decode() for line in lines]


def back_up_wipe_restore(site: NodeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                         between: Callable[[], None] = lambda: None) -> None:
    """Build a site's state, back it up, refuse a restore onto it while it runs, wipe it, run
    `between` (a failover), restore it and check it is the same site again."""
    api = site.start()
    made = build_state(api)
    change_settings(api)
    site.archived()
    before, before_settings = state(api), settings(api)
    tickets = made["served"] + made["waiting"]
    before_status = [api.status(t).json() for t in tickets]
    before_reports = reports(site, capsys)

    out = tmp_path / "cadangan.tar.gz"
    capsys.readouterr()
    assert site.cli("backup", "--config", str(site.config), "--out", str(out)) == 0
    said = capsys.readouterr()
    assert str(out) in said.out and "kunci Redis" in said.out, said
    keys = SiteKeys(site.site_id)
    saved = backed_up_keys(out)
    assert all(k.startswith(keys.prefix) for k in saved)
    assert keys("events") in saved and keys("archiver") not in saved
    assert sum(":t:" in k for k in saved) == len(tickets), saved  # every ticket's hash

    # onto the live site: refused, and the site goes on as it was
    assert site.cli("restore", str(out)) == 2
    said = capsys.readouterr()
    assert "Redis tujuan sudah berisi" in said.err and "--force" in said.err, said
    assert state(api) == before

    site.stop()
    site.wipe()
    assert not site.keys()
    between()
    assert site.cli("restore", str(out)) == 0
    assert f"situs {site.site_id} dipulihkan" in capsys.readouterr().out
    assert site.keys() >= set(saved)  # on the server holding the site now

    api = site.start(site.data / "site.toml")
    site.archived()
    assert state(api) == before
    assert settings(api) == before_settings
    assert [api.status(t).json() for t in tickets] == before_status
    assert reports(site, capsys) == before_reports
    # the counters go on: 2 finishes its visitor, 1 calls the waiting A
    assert api.act(2, "done", {"outcome": "completed"}).status_code == 200
    assert api.call(1)["ticket"]["code"] == made["waiting"][2]["code"]


def test_backup_and_restore_on_a_cluster_use_the_master_of_the_sites_slot(
        cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def master(site_id: str) -> redis.Redis:
        return cluster.master_of(SiteKeys(site_id)("events")).client()

    site = NodeSite(tmp_path, cluster.url, master, monkeypatch)
    try:
        back_up_wipe_restore(site, tmp_path, capsys)
        # every key of the site is on that one master, none on the others
        holder = cluster.master_of(SiteKeys(site.site_id)("events"))
        masters = [n for n in cluster.alive()
                   if n.client().info("replication")["role"] == "master"]
        assert len(masters) == 3 and holder in masters
        assert site.keys(holder.client())
        assert all(not site.keys(n.client()) for n in masters if n is not holder)
    finally:
        site.stop()


def test_backup_and_restore_on_sentinel_use_the_named_primary_even_after_a_failover(
        sentinels: SentinelSet, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = {n.port: n for n in (sentinels.primary, sentinels.replica)}

    def primary(site_id: str) -> redis.Redis:
        return nodes[sentinels.primary_port()].client()

    def fail_over() -> None:
        """The sentinels promote the replica between the backup and the restore."""
        old = sentinels.primary_port()
        sentinel = redis.Redis(port=sentinels.sentinel_ports[0], socket_timeout=5)
        wait_until(lambda: sentinel.execute_command(  # type: ignore[no-untyped-call]
            "SENTINEL", "FAILOVER", sentinels.service),
                   timeout=30, what="a failover the sentinels accept")
        sentinel.close()
        wait_until(lambda: sentinels.primary_port() != old
                   and nodes[sentinels.primary_port()].client().info("replication")["role"]
                   == "master", timeout=30, what="the replica promoted")
        wait_until(lambda: nodes[old].client().info("replication").get("master_link_status")
                   == "up", timeout=30, what="the old primary following the new one")

    site = NodeSite(tmp_path, sentinels.url, primary, monkeypatch)
    try:
        first = sentinels.primary_port()
        back_up_wipe_restore(site, tmp_path, capsys, between=fail_over)
        assert sentinels.primary_port() != first
        assert site.keys(nodes[sentinels.primary_port()].client())  # restored on the new one
    finally:
        site.stop()


def topology(request: pytest.FixtureRequest, name: str) -> tuple[str, Callable[[str], redis.Redis]]:
    """The URL of the started cluster or Sentinel set, and a client of the server holding a
    key now."""
    if name == "cluster":
        cluster: Cluster = request.getfixturevalue("cluster")
        return cluster.url, lambda key: cluster.master_of(key).client()
    sentinels: SentinelSet = request.getfixturevalue("sentinels")
    nodes = {n.port: n for n in (sentinels.primary, sentinels.replica)}
    return sentinels.url, lambda key: nodes[sentinels.primary_port()].client()


@pytest.mark.parametrize("name", ["cluster", "sentinel"])
def test_a_burst_of_300_actions_waits_for_the_4_connections(
        request: pytest.FixtureRequest, name: str, tmp_path: Path) -> None:
    """redis-py's cluster client and its Sentinel pool fail a command at once when every
    connection is busy; antrian's wait for one. 300 tickets asked at once of a server with a
    pool of 4: every one issued, numbered once, no error in the log."""
    url, _ = topology(request, name)
    site_id = f"p{uuid.uuid4().hex[:8]}"
    data = tmp_path / "data"
    data.mkdir()
    config = write_site(data / "site.toml", site_id, counters=4)
    server = ServerProcess(config, url, data, extra_env={
        "ANTRIAN_REDIS_POOL_SIZE": "4", "ANTRIAN_MAX_CONNECTIONS_PER_CLIENT": "1000",
        "ANTRIAN_DATABASE_URL": f"sqlite:///{tmp_path / 'arsip.sqlite3'}"}).start()
    try:
        headers = server.api.kiosk_auth()

        async def burst() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
            async with httpx.AsyncClient(base_url=server.url, timeout=60,
                                         limits=limits) as client:
                return await asyncio.gather(*(
                    client.post("/api/tickets", json={"service": "AB"[i % 2]},
                                headers=headers) for i in range(300)))

        answers = asyncio.run(burst())
        failed = [r for r in answers if r.status_code != 201]
        assert not failed, (len(failed), failed[0].text)
        codes = [r.json()["code"] for r in answers]
        assert sorted(codes) == [f"{s}{n:03d}" for s in "AB" for n in range(1, 151)]
        waiting = server.api.state()["waiting"]
        assert waiting["A"] == 150 and waiting["B"] == 150, waiting
        log = server.log.read_text()
        assert "MaxConnectionsError" not in log and "Too many connections" not in log, log[-2000:]
    finally:
        server.stop()


@pytest.mark.parametrize("name", ["cluster", "sentinel"])
def test_a_client_past_its_pool_waits_then_says_no_connection(
        request: pytest.FixtureRequest, name: str) -> None:
    """Two commands hold both connections of a pool of 2: a third waits its pool_timeout,
    then fails as the plain pool does (a ConnectionError: the API's 503); once they are done,
    it runs."""
    url, holder = topology(request, name)
    key, kept = SiteKeys("pool").prefix + "lock", SiteKeys("pool").prefix + "x"
    other = holder(key)

    def busy(client: Any) -> bool:
        if isinstance(client, BoundedCluster):
            return client._turns.locked()
        return len(client.connection_pool._in_use_connections) == 2

    async def run() -> None:
        client = connect(url, pool_size=2, pool_timeout=0.5, timeout=60)
        assert isinstance(client, BoundedCluster) == (name == "cluster")
        try:
            async def pop() -> Any:
                return await client.blpop([key], timeout=50)

            holders = [asyncio.create_task(pop()) for _ in range(2)]
            while not busy(client):
                await asyncio.sleep(0.01)
            with pytest.raises(redis.ConnectionError, match="No connection available"):
                await client.get(kept)
            other.rpush(key, "a", "b")
            assert sorted(str(r[1]) for r in await asyncio.gather(*holders)) == ["a", "b"]
            assert await client.set(kept, "1")
            assert await client.get(kept) == "1"
        finally:
            await client.aclose()

    asyncio.run(run())
    other.close()
