"""GET /metrics: parsed with prometheus-client's own parser, its figures follow what the site
does (tickets, calls, screens, played reports), the site-wide counters survive a restart and
the day's end, and only loopback, the office's token or its /admin session may read it."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets
from conftest import ROOT, Api, FakeClock, RedisServer, ServerProcess, free_port, wait_until
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient
from test_sessions import sign_in

from antrian.main import build_app
from display_server.archive import db as archive_db
from display_server.config import SiteConfig
from display_server.keys import SiteKeys

Labels = tuple[tuple[str, str], ...]


def scrape(client: httpx.Client, headers: dict[str, str] | None = None,
           by_process: bool = False) -> dict[str, float]:
    """Every sample of /metrics by name and labels, e.g. `antrian_waiting{service=A}`; the
    `process` label is left out (each name summed over the processes) unless `by_process`."""
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items())
                              if by_process or k != "process")
            name = f"{sample.name}{{{labels}}}"
            samples[name] = samples.get(name, 0.0) + sample.value
    return samples


def office(api: Api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.admin_token()}"}


@pytest.fixture
def metrics(api: Api) -> Iterator[Any]:
    """Scrape the `api` app as the office (TestClient's client is not a loopback address)."""
    yield lambda: scrape(api.client, office(api))


def test_figures_follow_tickets_calls_and_waiting(api: Api, metrics: Any) -> None:
    before = metrics()
    assert before["antrian_tickets_issued_total{service=A}"] == 0
    assert before["antrian_redis_up{}"] == 1
    for _ in range(3):
        api.ticket("A")
    api.ticket("B")
    after = metrics()
    assert after["antrian_tickets_issued_total{service=A}"] == 3
    assert after["antrian_tickets_issued_total{service=B}"] == 1
    assert after["antrian_tickets_issued_total{service=D}"] == 0
    assert after["antrian_waiting{service=A}"] == 3
    assert after["antrian_calls_total{counter=1}"] == 0

    called = api.call(1)["ticket"]
    assert called["service"] == "A"
    wait_until(lambda: metrics()["antrian_call_broadcast_seconds_count{}"] == 1,
               what="the call measured once the fan-out sent it")
    now = metrics()
    assert now["antrian_calls_total{counter=1}"] == 1
    assert now["antrian_calls_total{counter=2}"] == 0
    assert now["antrian_waiting{service=A}"] == 2
    # the fake clock stands still: the event went out 0 s after its `at`, in the first bucket
    assert now["antrian_call_broadcast_seconds_bucket{le=0.005}"] == 1
    assert api.act(1, "done", {"outcome": "completed"}).status_code == 200
    assert metrics()["antrian_served_total{service=A}"] == 1


def test_screens_announcers_and_played_reports(api: Api, metrics: Any) -> None:
    api.register_screen("tv-lobi")
    ticket = api.ticket("A")
    assert ticket["code"] == "A001"
    with api.client.websocket_connect("/ws/display") as first, \
            api.client.websocket_connect("/ws/display?services=B") as second:
        assert first.receive_json()["type"] == "snapshot"
        assert second.receive_json()["type"] == "snapshot"
        figures = metrics()
        assert figures["antrian_screens_connected{}"] == 2
        assert figures["antrian_announcers_connected{}"] == 0
        event_id = api.call(2)["event_id"]
        assert first.receive_json()["type"] == "call"
        first.send_json({"type": "played", "event_id": event_id, "screen": "tv-lobi"})
        wait_until(lambda: metrics()["antrian_announcers_connected{}"] == 1,
                   what="the screen that reported a play counted as an announcer")
        figures = metrics()
        assert figures["antrian_played_acknowledgements_total{outcome=played}"] == 1
        assert figures["antrian_played_acknowledgements_total{outcome=dropped}"] == 0
    wait_until(lambda: metrics()["antrian_screens_connected{}"] == 0,
               what="closed screens no longer counted")
    r = api.client.post("/api/played", json={"event_id": event_id, "screen": "tv-lobi",
                                             "dropped": True})
    assert r.status_code == 200
    assert metrics()["antrian_played_acknowledgements_total{outcome=dropped}"] == 1
    # an unknown screen's report is refused and not counted
    r = api.client.post("/api/played", json={"event_id": event_id, "screen": "tak-dikenal"})
    assert r.status_code == 404
    assert metrics()["antrian_played_acknowledgements_total{outcome=played}"] == 1


def test_site_counters_survive_a_restart_and_midnight(site: SiteConfig, clock: FakeClock,
                                                      redis_url: str, tmp_path: Path) -> None:
    """Issued and calls are the site's, from Redis: a new process sees them, and the day's end
    adds the next day's to them instead of starting at 0."""
    def started() -> TestClient:
        return TestClient(build_app(site, redis_url, tmp_path, clock=clock))

    with started() as client:
        api = Api(client, site, tmp_path)
        for _ in range(2):
            api.ticket("A")
        api.call(3)
    with started() as client:  # another process: its own memory is empty
        api = Api(client, site, tmp_path)
        figures = scrape(client, office(api))
        assert figures["antrian_tickets_issued_total{service=A}"] == 2
        assert figures["antrian_calls_total{counter=3}"] == 1
        assert figures["antrian_call_broadcast_seconds_count{}"] == 0  # that one is per process
        assert figures["antrian_served_total{service=A}"] == 0
        clock.advance(days=1)
        # called yesterday, finished today: counted on its own day's aggregates
        assert api.act(3, "done", {"outcome": "completed"}).status_code == 200
        api.ticket("A")
        figures = scrape(client, office(api))
        assert figures["antrian_served_total{service=A}"] == 1
        assert figures["antrian_tickets_issued_total{service=A}"] == 3
        assert figures["antrian_waiting{service=A}"] == 1  # yesterday's ticket waits no more
        clock.advance(days=2)  # now those days are summed once for the day
        api.ticket("A")
        api.call(3)
        figures = scrape(client, office(api))
        assert figures["antrian_tickets_issued_total{service=A}"] == 4
        assert figures["antrian_calls_total{counter=3}"] == 2
        assert figures["antrian_served_total{service=A}"] == 1


def test_who_may_read(api: Api, site: SiteConfig, clock: FakeClock, redis_url: str,
                      tmp_path: Path) -> None:
    # TestClient's own client address ("testclient") is not loopback
    for headers in ({}, {"Authorization": "Bearer salah"},
                    {"Authorization": f"Bearer {api.token(1)}"}):
        r = api.client.get("/metrics", headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["error"]["code"] == "unauthorized"
    cookie, _ = sign_in(api, "admin")
    assert "antrian_waiting" in api.client.get("/metrics", headers={"Cookie": cookie}).text
    cookie, _ = sign_in(api, 1)  # a counter's console session is not the office's
    assert api.client.get("/metrics", headers={"Cookie": cookie}).status_code == 401

    app = build_app(site, redis_url, tmp_path, clock=clock)
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert "antrian_screens_connected" in local.get("/metrics").text
        # relayed by a proxy on this machine for someone else: not loopback
        for relayed in ({"X-Forwarded-For": "203.0.113.7"},
                        {"Forwarded": "for=203.0.113.7"}):
            assert local.get("/metrics", headers=relayed).status_code == 401
    with TestClient(app, client=("::1", 40000)) as local:
        assert local.get("/metrics").status_code == 200
    with TestClient(app, client=("10.0.0.8", 40000)) as lan:
        assert lan.get("/metrics").status_code == 401
        assert lan.post("/metrics").status_code == 405


def test_real_server_behind_a_trusted_proxy(server_factory: Any) -> None:
    """`antrian serve` with ANTRIAN_TRUSTED_PROXIES: a client the proxy forwards is refused
    without the office token; the machine itself is answered."""
    server: ServerProcess = server_factory(extra_env={"ANTRIAN_TRUSTED_PROXIES": "127.0.0.1"})
    server.api.ticket("B")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        forwarded = {"X-Forwarded-For": "198.51.100.20"}
        r = client.get("/metrics", headers=forwarded)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        token = {"Authorization": f"Bearer {server.api.admin_token()}"}
        figures = scrape(client, {**forwarded, **token})
        assert figures["antrian_tickets_issued_total{service=B}"] == 1
        assert scrape(client)["antrian_waiting{service=B}"] == 1
        # `antrian serve` archives into the data dir's SQLite: this one process leads
        wait_until(lambda: scrape(client)["antrian_archive_lag_events{}"] == 0,
                   what="the archiver caught up")
        figures = scrape(client)
        assert figures["antrian_archive_leading{}"] == 1
        assert figures["antrian_archive_errors_total{}"] == 0


def test_redis_down_is_answered_and_counted(site: SiteConfig, clock: FakeClock,
                                            tmp_path: Path) -> None:
    """Without Redis, /metrics still answers (this process's figures, `antrian_redis_up 0`)
    and counts the failed reads and the requests that failed on Redis."""
    own = RedisServer(tmp_path / "redis").start()
    try:
        with TestClient(build_app(site, own.url, tmp_path, clock=clock),
                        client=("127.0.0.1", 40000)) as client:
            assert scrape(client)["antrian_redis_up{}"] == 1
            own.stop()
            assert client.get("/api/state").status_code == 503
            figures = scrape(client)
            assert figures["antrian_redis_up{}"] == 0
            assert "antrian_tickets_issued_total{service=A}" not in figures
            assert figures["antrian_screens_connected{}"] == 0
            # the /api/state above and the scrape's own read
            assert figures["antrian_redis_errors_total{kind=unavailable}"] == 2
    finally:
        own.stop()


def test_archive_errors_and_lag_follow_a_failing_archive(site: SiteConfig, clock: FakeClock,
                                                         redis_url: str, tmp_path: Path) -> None:
    """The archive's `events` table gone for a while (as a database that fails under the
    running server): every failed round counts in `antrian_archive_errors_total` and the
    events wait in `antrian_archive_lag_events`; once the table is back the lag goes to 0 and
    the errors stay as they were."""
    path = tmp_path / "archive.sqlite3"
    url = f"sqlite:///{path}"
    engine = archive_db.engine(url)
    archive_db.migrate(engine)
    engine.dispose()

    def rename(old: str, new: str) -> None:
        with sqlite3.connect(path) as connection:
            connection.execute(f"ALTER TABLE {old} RENAME TO {new}")

    with TestClient(build_app(site, redis_url, tmp_path, clock=clock, database_url=url),
                    client=("127.0.0.1", 40000)) as client:
        api = Api(client, site, tmp_path)
        api.ticket("A")
        wait_until(lambda: scrape(client).get("antrian_archive_lag_events{}") == 0,
                   what="the first ticket archived")
        assert scrape(client)["antrian_archive_errors_total{}"] == 0
        rename("events", "events_away")
        api.ticket("A")
        api.ticket("B")
        wait_until(lambda: scrape(client)["antrian_archive_errors_total{}"] >= 2,
                   what="failed archive rounds counted")
        assert scrape(client)["antrian_archive_lag_events{}"] == 2
        rename("events_away", "events")
        wait_until(lambda: scrape(client)["antrian_archive_lag_events{}"] == 0,
                   what="the archive caught up")
        errors = scrape(client)["antrian_archive_errors_total{}"]
        api.call(1)
        wait_until(lambda: scrape(client)["antrian_archive_lag_events{}"] == 0,
                   what="the call archived")
        assert scrape(client)["antrian_archive_errors_total{}"] == errors
        assert scrape(client)["antrian_archive_leading{}"] == 1


def test_the_lag_counts_every_event_while_the_archive_never_worked(
        site: SiteConfig, clock: FakeClock, redis_url: str, tmp_path: Path) -> None:
    """An archive whose tables are missing from the start (no round ever got as far as making
    the archiver's group): the lag is every event of the stream, in /metrics and
    /api/health, not absent; once the archive works it goes to 0."""
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    engine = archive_db.engine(url)  # not migrated
    try:
        with TestClient(build_app(site, redis_url, tmp_path, clock=clock, database_url=url),
                        client=("127.0.0.1", 40000)) as client:
            api = Api(client, site, tmp_path)
            assert scrape(client)["antrian_archive_lag_events{}"] == 0  # no event yet
            api.ticket("A")
            api.ticket("B")
            wait_until(lambda: scrape(client)["antrian_archive_errors_total{}"] >= 1,
                       what="a failed archive round")
            assert scrape(client)["antrian_archive_lag_events{}"] == 2
            assert client.get("/api/health").json()["archive"]["lag"] == 2
            archive_db.migrate(engine)
            wait_until(lambda: scrape(client)["antrian_archive_lag_events{}"] == 0,
                       what="the archive caught up")
            assert client.get("/api/health").json()["archive"]["lag"] == 0
    finally:
        engine.dispose()


def test_the_documented_names_are_the_ones_served(site: SiteConfig, clock: FakeClock,
                                                 redis_url: str, tmp_path: Path) -> None:
    """Every metric of operations.md's tables is in a scrape of a server with an archive, with
    its documented type, and nothing undocumented is; the names the contract requires are
    among them."""
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    engine = archive_db.engine(url)
    archive_db.migrate(engine)
    engine.dispose()
    operations = (ROOT / "docs" / "operations.md").read_text()
    section = operations[operations.index("### Metrics"):operations.index("## Limits")]
    documented = dict(re.findall(r"^\| `(antrian_\w+)` \| (\w+) \|", section, re.M))
    contract = (ROOT / "docs" / "contract.md").read_text()
    required = set(re.findall(r"`(antrian_\w+)[`{]", contract))
    assert len(documented) >= 15 and len(required) == 5
    with TestClient(build_app(site, redis_url, tmp_path, clock=clock, database_url=url),
                    client=("127.0.0.1", 40000)) as client:
        api = Api(client, site, tmp_path)
        api.ticket("A")
        api.call(1)
        wait_until(lambda: "antrian_archive_lag_events{}" in scrape(client),
                   what="the archiver's first round")
        served = {}
        for family in text_string_to_metric_families(client.get("/metrics").text):
            name = family.name + ("_total" if family.type == "counter" else "")
            served[name] = family.type
    assert served == documented
    assert required <= set(served)


async def test_every_process_on_the_site_is_shown_by_any(server_factory: Any,
                                                       redis_url: str) -> None:
    """Two servers on one Redis (as the workers of one `antrian serve --workers 2`): whichever
    answers shows both processes' screens, each under its own `process`; a process gone silent
    is left out and its figures deleted."""
    one: ServerProcess = server_factory()
    two: ServerProcess = server_factory()
    with httpx.Client(base_url=one.url, timeout=10) as first, \
            httpx.Client(base_url=two.url, timeout=10) as second:
        async with websockets.connect(two.ws_url + "/ws/display") as a, \
                websockets.connect(two.ws_url + "/ws/display") as b, \
                websockets.connect(one.ws_url + "/ws/display") as c:
            for ws in (a, b, c):
                assert json.loads(await ws.recv())["type"] == "snapshot"
            scrape(second)  # the answering process writes its figures first
            per_process = {name: value for name, value in scrape(first, by_process=True).items()
                           if name.startswith("antrian_screens_connected")}
            assert sorted(per_process.values()) == [1, 2], per_process
            assert scrape(first)["antrian_screens_connected{}"] == 3
        # a process that stopped writing 60 s ago is gone
        keys = SiteKeys(server_factory.site_id)
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        try:
            old = json.dumps({"at": time.time() - 60, "text": "antrian_screens_connected 7\n"})
            client.hset(keys("metrics_processes"), "lama:1", old)

            def none_connected() -> bool:
                scrape(second)
                return scrape(first)["antrian_screens_connected{}"] == 0

            wait_until(none_connected, what="closed screens and the gone process left out")
            assert client.hexists(keys("metrics_processes"), "lama:1") == 0
            assert 0 < client.ttl(keys("metrics_processes")) <= 3600
        finally:
            client.close()


def dashboard_queries() -> list[str]:
    """Every PromQL expression of the Grafana dashboard, its variables filled in as Grafana
    would for job "antrian" and a 15-minute range."""
    dashboard = json.loads((ROOT / "docs" / "grafana-antrian.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"]
             for target in panel.get("targets", [])]
    assert len(exprs) >= 20
    return [e.replace("$job", "antrian").replace("$__range", "15m") for e in exprs]


async def test_the_grafana_dashboard_queries_a_real_prometheus(server_factory: Any,
                                                              tmp_path: Path) -> None:
    """Debian's Prometheus scrapes a real server every second; each query of
    docs/grafana-antrian.json is valid PromQL there and has data, and the figures are the
    server's."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("Prometheus is not installed (apt-get install prometheus)")
    server: ServerProcess = server_factory()
    for _ in range(3):
        server.api.ticket("A")
    server.api.call(4)
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n"
                      f"scrape_configs:\n  - job_name: antrian\n"
                      f"    static_configs: [{{targets: ['127.0.0.1:{server.port}']}}]\n")
    log = (tmp_path / "prometheus.log").open("wb")
    prometheus = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)
    try:
        async with websockets.connect(server.ws_url + "/ws/display") as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as promql:
                def query(expr: str) -> list[Any]:
                    r = promql.get("/api/v1/query", params={"query": expr})
                    assert r.status_code == 200 and r.json()["status"] == "success", (expr, r.text)
                    return list(r.json()["data"]["result"])

                def scraped(times: int) -> bool:
                    with contextlib.suppress(httpx.HTTPError):
                        found = query("count_over_time(antrian_redis_up[1m])")
                        return bool(found) and float(found[0]["value"][1]) >= times
                    return False

                # a starting Prometheus answers queries 503 until its storage is open
                wait_until(lambda: promql.get("/-/ready").status_code == 200, timeout=30,
                           what="Prometheus ready")
                wait_until(lambda: scraped(2), timeout=30, what="two scrapes by Prometheus")
                server.api.ticket("B")
                server.api.call(2)
                wait_until(lambda: scraped(5), timeout=30, what="five scrapes by Prometheus")
                for expr in dashboard_queries():
                    assert query(expr), f"no data: {expr}"
                [waiting] = query('sum(antrian_waiting{job=~"antrian"})')
                assert float(waiting["value"][1]) == 2
                [screens] = query('sum(antrian_screens_connected{job=~"antrian"})')
                assert float(screens["value"][1]) == 1
                issued = query('sum by (service) (antrian_tickets_issued_total{job=~"antrian"})')
                assert {r["metric"]["service"]: float(r["value"][1]) for r in issued} == {
                    "A": 3, "B": 1, "C": 0, "D": 0}
    finally:
        prometheus.terminate()
        prometheus.wait(10)
        log.close()
