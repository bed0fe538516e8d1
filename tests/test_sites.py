"""Many sites in one deployment (issue 14): one `antrian serve` process per site config, every
site on ONE redis-server and one shared SQLite archive. Two sites with different ids and
configs, and the SAME configured secret (an integrator who copied one site's TOML to make the
next): each one's counter, office and kiosk tokens, console and PIN cookies, CSRF values,
status links, complaint codes and event ids are tried on the other, as an attacker or a
confused integrator would. Nothing crosses."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import redis
import websockets
from conftest import RedisServer, ServerProcess, wait_until, write_site
from prometheus_client.parser import text_string_to_metric_families

from antrian.cli import main
from display_server.keys import SiteKeys
from display_server.tokens import TokenBook

SECRET = "rahasia-yang-disalin-dari-situs-lain"
ALFA, BETA = "kota-alfa", "kab-beta"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
CONSOLE_CSRF = re.compile(r'"csrf": ?"([0-9a-f]+)"')
PIN = "482913"

BETA_TOML = f"""
[site]
id = "{BETA}"
name = "MPP Beta"
timezone = "Asia/Makassar"
secret = "{SECRET}"

[[tenants]]
id = "imigrasi"
name = "Kantor Imigrasi"

[[services]]
code = "A"
name = "Paspor"
tenant = "imigrasi"

[[services]]
code = "K"
name = "Konsultasi"
tenant = "imigrasi"

[[counters]]
number = 1
services = ["A", "K"]

[[counters]]
number = 2
services = ["K", "A"]

[[counters]]
number = 7
services = ["A"]
"""


class Deployment:
    """Two sites, one process each, on one Redis and one archive."""

    def __init__(self, root: Path) -> None:
        self.redis = RedisServer(root / "redis").start()
        self.archive = f"sqlite:///{root / 'arsip-bersama.sqlite3'}"
        alfa_toml = write_site(root / "alfa.toml", ALFA)
        alfa_toml.write_text(alfa_toml.read_text().replace(
            'timezone = "Asia/Jakarta"\n', f'timezone = "Asia/Jakarta"\nsecret = "{SECRET}"\n', 1))
        (root / "beta.toml").write_text(BETA_TOML)
        env = {"ANTRIAN_DATABASE_URL": self.archive}
        self.servers: list[ServerProcess] = []
        for name in ("alfa", "beta"):
            (root / name).mkdir()
            self.servers.append(ServerProcess(root / f"{name}.toml", self.redis.url, root / name,
                                              extra_env=env).start())
        self.alfa, self.beta = self.servers

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
            server.api.client.close()
        self.redis.stop()


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path_factory.mktemp("sites"))
    try:
        yield deployment
    finally:
        deployment.stop()


def browser(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=10)


def sign_in(server: ServerProcess, scope: int | str) -> tuple[str, str]:
    """A fresh browser signs in at counter N (its token) or /admin: the Cookie header of its
    session and its CSRF token."""
    home = "/admin" if scope == "admin" else f"/counter/{scope}"
    api = server.api
    presented = api.admin_token() if scope == "admin" else api.token(int(scope))
    with browser(server) as b:
        form = CSRF_FIELD.search(b.get(home).text)
        assert form is not None
        r = b.post(f"{home}/login", data={"token": presented, "csrf": form[1]},
                   follow_redirects=True)
        assert r.status_code == 200 and str(r.url).endswith(home), r.url
        name = "antrian_admin" if scope == "admin" else f"antrian_loket_{scope}"
        found = (CSRF_FIELD if scope == "admin" else CONSOLE_CSRF).search(r.text)
        assert found is not None, r.text[:300]
        return f"{name}={b.cookies[name]}", found[1]


def pin_sign_in(server: ServerProcess, counter: int, officer: str, pin: str
                ) -> tuple[str, str | None]:
    """A fresh browser tries an officer's PIN at counter n: where it is sent, its cookie."""
    with browser(server) as b:
        form = CSRF_FIELD.search(b.get(f"/counter/{counter}").text)
        assert form is not None
        r = b.post(f"/counter/{counter}/login/pin",
                   data={"officer": officer, "pin": pin, "csrf": form[1]},
                   follow_redirects=False)
        assert r.status_code == 303
        cookie = b.cookies.get(f"antrian_loket_{counter}")
        return r.headers["location"], cookie and f"antrian_loket_{counter}={cookie}"


def refused(r: httpx.Response, status: int, code: str) -> bool:
    """The contract's error body with that status."""
    body = r.json()
    return (r.status_code == status and body["error"]["code"] == code
            and bool(body["error"]["message"]))


def waiting_list(server: ServerProcess, counter: int, cookie: str) -> int:
    r = server.api.client.get(f"/counter/{counter}/tickets/waiting", headers={"Cookie": cookie})
    return int(r.status_code)


def test_tokens_of_one_site_open_nothing_on_the_other(two: Deployment) -> None:
    """Same secret, same counter numbers: A's counter, office and kiosk tokens are refused by B
    with the contract's 401, and change nothing there."""
    a, b = two.alfa.api, two.beta.api
    assert a.token(1) != b.token(1) and a.admin_token() != b.admin_token()
    b.ticket("A")
    before = b.state()["waiting"]
    for n in (1, 2):
        r = b.client.post(f"/api/counters/{n}/call-next", json={}, headers=a.auth(1))
        assert refused(r, 401, "unauthorized"), r.text
    r = b.client.get("/api/counters/1/waiting", headers=a.auth(1))
    assert refused(r, 401, "unauthorized")
    office = {"Authorization": f"Bearer {a.admin_token()}"}
    for method, path in (("GET", "/api/screens"), ("GET", "/api/settings"),
                         ("GET", "/api/complaints"), ("POST", "/api/screens")):
        r = b.client.request(method, path, headers=office, json={"id": "tv-penyusup"})
        assert refused(r, 401, "unauthorized"), (path, r.text)
    assert b.client.get("/api/screens", headers={
        "Authorization": f"Bearer {b.admin_token()}"}).status_code == 200
    # A's kiosk token is no kiosk token on B: refused, not a ticket
    r = b.client.post("/api/tickets", json={"service": "A"}, headers=a.kiosk_auth())
    assert refused(r, 401, "unauthorized"), r.text
    assert b.state()["waiting"] == before


def test_console_admin_and_pin_cookies_and_csrf_of_one_site_are_refused_by_the_other(
        two: Deployment) -> None:
    """A's console session (token and officer PIN) and A's office session, with their CSRF
    tokens, are 401 on B's console lists, buttons, sign-out everywhere and live settings; A's
    officer account does not exist on B."""
    alfa, beta = two.alfa, two.beta
    console, csrf = sign_in(alfa, 1)
    office, office_csrf = sign_in(alfa, "admin")
    assert waiting_list(alfa, 1, console) == 200
    assert waiting_list(beta, 1, console) == 401
    press = beta.api.client.post("/counter/1/actions/call-next", json={},
                                 headers={"Cookie": console, "X-CSRF-Token": csrf})
    assert refused(press, 401, "unauthorized")
    assert 'id="token"' in beta.api.client.get("/counter/1", headers={"Cookie": console}).text
    assert 'id="token"' in beta.api.client.get("/admin", headers={"Cookie": office}).text
    r = beta.api.client.post("/admin/logout-all", data={"csrf": office_csrf},
                             headers={"Cookie": office}, follow_redirects=False)
    assert r.status_code == 401
    r = beta.api.client.patch("/api/settings", json={"running_text": "disusupi"},
                              headers={"Cookie": office, "X-CSRF-Token": office_csrf})
    assert refused(r, 401, "unauthorized"), r.text

    # an officer account of A, signed in with its PIN on A; B knows no such officer
    r = alfa.api.client.post("/admin/petugas", data={
        "csrf": office_csrf, "id": "siti", "name": "Siti Aminah", "tenant": "samsat",
        "counters": "1,2", "pin": PIN}, headers={"Cookie": office}, follow_redirects=False)
    assert r.status_code == 303, r.text
    where, officer_cookie = pin_sign_in(alfa, 1, "siti", PIN)
    assert where == "/counter/1" and officer_cookie
    assert waiting_list(alfa, 1, officer_cookie) == 200
    assert waiting_list(beta, 1, officer_cookie) == 401
    where, none = pin_sign_in(beta, 1, "siti", PIN)
    assert where.startswith("/counter/1?salah=pin") and none is None
    assert "siti" not in beta.api.client.get("/admin/petugas", headers={
        "Cookie": sign_in(beta, "admin")[0]}).text

    # even a session record of B with the very id of A's cookie does not make that cookie B's:
    # the cookie's signature is bound to the site (two sites sharing one secret)
    session_id = console.split("=", 1)[1].split(".")[1]
    client = redis.Redis.from_url(two.redis.url, decode_responses=True)
    try:
        client.set(SiteKeys(BETA)("session", session_id), "1:0", ex=60)
        assert waiting_list(beta, 1, console) == 401
    finally:
        client.delete(SiteKeys(BETA)("session", session_id))
        client.close()
    secret = SECRET.encode()
    assert (TokenBook(secret, ALFA, [1]).signing_key("console-session")
            != TokenBook(secret, BETA, [1]).signing_key("console-session"))


def test_ending_every_session_of_one_site_leaves_the_other_signed_in(two: Deployment) -> None:
    alfa_console, _ = sign_in(two.alfa, 2)
    beta_console, _ = sign_in(two.beta, 2)
    beta_office, _ = sign_in(two.beta, "admin")
    office, office_csrf = sign_in(two.alfa, "admin")
    r = two.alfa.api.client.post("/admin/logout-all", data={"csrf": office_csrf},
                                 headers={"Cookie": office}, follow_redirects=False)
    assert r.status_code == 303
    assert waiting_list(two.alfa, 2, alfa_console) == 401
    assert waiting_list(two.beta, 2, beta_console) == 200
    assert 'id="token"' not in two.beta.api.client.get("/admin",
                                                       headers={"Cookie": beta_office}).text


def test_tickets_queues_counters_and_links_are_each_sites_own(two: Deployment) -> None:
    """Both sites have service A and counter 1 and issue A-tickets the same day: B's calls take
    B's tickets only, each /api/state shows its own, and A's status links and complaint codes
    are B's 404 (same secret, same code)."""
    a, b = two.alfa.api, two.beta.api
    a_tickets = [a.ticket("A"), a.ticket("A")]
    b_ticket = b.ticket("A")
    a_waiting = a.state()["waiting"]["A"]
    while b.state()["waiting"]["A"]:
        called = b.call(1)["ticket"]
        assert called is not None
        assert b.act(1, "done", {"outcome": "completed"}).status_code == 200
    assert b.call(1)["ticket"] is None and b.call(7)["ticket"] is None
    assert a.state()["waiting"]["A"] == a_waiting
    assert a.counter(1)["ticket"] is None

    a_state, b_state = a.state(), b.state()
    assert [c["number"] for c in b_state["counters"]] == [1, 2, 7]
    assert [c["number"] for c in a_state["counters"]] == [1, 2, 3, 4]
    assert set(b_state["waiting"]) == {"A", "K"} and "K" not in a_state["waiting"]
    assert b_ticket["code"] in {r["ticket"] for r in b_state["recent"]}
    assert all(r["service"] in ("A", "K") for r in b_state["recent"])
    assert all(r["counter"] != 7 for r in a_state["recent"])
    services = {s["code"]: s["name"] for s in b.client.get("/api/services").json()["services"]}
    assert services == {"A": "Paspor", "K": "Konsultasi"}

    for ticket in a_tickets:
        assert ticket["code"] in {"A001", "A002", "A003", "A004"}
        assert a.status(ticket).status_code == 200
        r = b.status(ticket)
        assert refused(r, 404, "unknown_ticket"), r.text
        assert b.client.get(ticket["status_url"]).status_code == 404
        r = b.client.post(ticket["status_url"] + "/survey", json={"answers": [4] * 9})
        assert refused(r, 404, "unknown_ticket"), r.text
    assert b.status(b_ticket).json()["status"] == "served"

    r = a.client.post("/api/complaints", data={
        "category": "petugas", "text": "Antrean lama sekali dan petugas tidak ada di loket."})
    assert r.status_code == 201, r.text
    tracking = r.json()["tracking"]
    assert a.client.get(f"/api/complaints/{tracking}").status_code == 200
    assert b.client.get(f"/api/complaints/{tracking}").status_code == 404


async def receive(ws: Any) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if message["type"] != "heartbeat":
            return dict(message)


def stream_ids(url: str, site: str) -> list[str]:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        entries = cast(list[tuple[str, Any]], client.xrange(SiteKeys(site)("events")))
        return [entry for entry, _ in entries]
    finally:
        client.close()


async def test_screens_of_one_site_never_get_the_others_events(two: Deployment) -> None:
    """A screen of B misses none of B's calls and gets none of A's, live or replayed; an event
    id of A as B's `since` is a fresh snapshot of B, never A's events; the metrics of each
    count its own screens only."""
    a, b = two.alfa.api, two.beta.api
    async with websockets.connect(two.beta.ws_url + "/ws/display") as screen, \
            websockets.connect(two.alfa.ws_url + "/ws/display") as a_screen:
        assert (await receive(screen))["type"] == "snapshot"
        assert (await receive(a_screen))["type"] == "snapshot"
        a.ticket("A")
        a_call = a.call(3)
        assert (await receive(a_screen))["type"] == "ticket"
        assert (await receive(a_screen))["event_id"] == a_call["event_id"]
        b.ticket("K")
        b_call = b.call(2)
        first = await receive(screen)  # B's own ticket event, never A's before it
        assert (first["type"], first["ticket"]) == ("ticket", b_call["ticket"]["code"])
        live = await receive(screen)
        assert (live["type"], live["counter"], live["event_id"]) == (
            "call", 2, b_call["event_id"])

        def screens(server: ServerProcess) -> float:
            text = httpx.get(server.url + "/metrics", timeout=10).text
            return sum(sample.value for family in text_string_to_metric_families(text)
                       for sample in family.samples
                       if sample.name == "antrian_screens_connected")

        async with websockets.connect(two.alfa.ws_url + "/ws/display") as _second:
            await receive(_second)
            wait_until(lambda: screens(two.alfa) == 2 and screens(two.beta) == 1,
                       what="each site's metrics counting its own screens")

    # B's own id replays B's events after it (the control), while A's ids, one between two of
    # B's events and one newer than B's last, are ids B's stream never gave out: a fresh
    # snapshot of B, and then B's events live
    b_own = b.ticket("K")["event_id"]
    a_between = a.ticket("A")["event_id"]
    b_next = b.ticket("K")["event_id"]
    async with websockets.connect(f"{two.beta.ws_url}/ws/display?since={b_own}") as ws:
        replayed = await receive(ws)
        assert (replayed["type"], replayed["event_id"]) == ("ticket", b_next)
    newest_of_a = a.ticket("A")["event_id"]
    for since in (a_between, newest_of_a):
        async with websockets.connect(f"{two.beta.ws_url}/ws/display?since={since}") as ws:
            snapshot = await receive(ws)
            assert snapshot["type"] == "snapshot" and snapshot.get("resync") is True, snapshot
            assert [c["number"] for c in snapshot["counters"]] == [1, 2, 7]
            assert snapshot["event_id"] == stream_ids(two.redis.url, BETA)[-1]
            live = b.ticket("K")
            after = await receive(ws)
            assert (after["type"], after["event_id"]) == ("ticket", live["event_id"])
    assert httpx.get(two.beta.url + "/api/health").status_code == 200


def test_redis_holds_only_keys_of_the_two_sites(two: Deployment) -> None:
    """Nothing global: every key on the shared Redis is a key of one of the sites' layouts."""
    sign_in(two.alfa, 1)
    sign_in(two.beta, 1)
    client = redis.Redis.from_url(two.redis.url, decode_responses=True)
    try:
        keys = list(client.scan_iter(count=1000))
    finally:
        client.close()
    assert keys
    alfa, beta = SiteKeys(ALFA), SiteKeys(BETA)
    for key in keys:
        assert len(alfa.kind(key)) + len(beta.kind(key)) == 1, key
    assert {k.split("}")[0] for k in keys} == {"antrian:{" + ALFA, "antrian:{" + BETA}


def test_backup_and_report_of_one_site_hold_nothing_of_the_other(
        two: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """On the shared Redis and the shared SQLite archive, A's backup holds A's keys and A's
    archive rows only (no byte of B's site id), and A's report counts A's tickets."""
    two.alfa.api.ticket("B")
    two.beta.api.ticket("K")
    for server in two.servers:
        wait_until(lambda s=server: httpx.get(s.url + "/api/health").json()["archive"]["lag"]
                   == 0, timeout=30, what="the archive")
    monkeypatch.setenv("ANTRIAN_DATABASE_URL", two.archive)
    monkeypatch.delenv("ANTRIAN_REDIS_URL", raising=False)
    out = tmp_path / "alfa.tar.gz"
    assert main(["backup", "--config", str(two.alfa.config), "--data-dir",
                 str(two.alfa.data_dir), "--redis-url", two.redis.url, "--out", str(out)]) == 0
    with tarfile.open(out) as tar:
        members = {m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                   for m in tar.getmembers() if m.isfile()}
    assert json.loads(members["manifest.json"])["site"] == ALFA
    lines = [json.loads(line) for line in members["redis.jsonl"].decode().splitlines()]
    keys = [base64.b64decode(line["k"]).decode() for line in lines]
    assert keys and all(k.startswith(SiteKeys(ALFA).prefix) for k in keys)
    archive = members["archive.sqlite3"]
    assert ALFA.encode() in archive and BETA.encode() not in archive
    assert b"Konsultasi" not in archive and b"imigrasi" not in archive

    client = redis.Redis.from_url(two.redis.url, decode_responses=True)
    try:
        for server, site in ((two.alfa, ALFA), (two.beta, BETA)):
            capsys.readouterr()
            assert main(["report", "--config", str(server.config), "--data-dir",
                         str(server.data_dir), "--format", "json", "--by", "service"]) == 0
            report = json.loads(capsys.readouterr().out)
            tickets = list(client.scan_iter(match=SiteKeys(site)("ticket", "*")))
            assert report["total"]["issued"] == len(tickets) > 0, site
            assert {row["key"] for row in report["rows"]} <= set(server.api.state()["waiting"])
    finally:
        client.close()
