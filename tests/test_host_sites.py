"""Several sites served by ONE `antrian serve` process (issue 14): `--config` repeated, each
site naming its `[site] hosts`, the request's Host choosing the site. Two sites on one process
and one Redis: each Host gets its own site's state, pages and tokens, a token or cookie of one
is refused on the other's host, a screen on one host never sees the other's events, an unknown
Host is the contract's 404; a server of one config still answers any Host."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from conftest import RedisServer, ServerProcess, site_document, write_site
from site_api import SiteApi
from starlette.applications import Starlette

from antrian.cli import main
from antrian.host_sites import HostSites
from display_server.config import parse_config
from display_server.tokens import SECRET_FILE, load_secret

ALFA, BETA = "kota-alfa", "kab-beta"
ALFA_HOSTS = ("alfa.mpp.example", "antrian.alfa.example")
BETA_HOST = "beta.mpp.example"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
CONSOLE_CSRF = re.compile(r'"csrf": ?"([0-9a-f]+)"')


def site_toml(path: Path, site_id: str, name: str, hosts: tuple[str, ...] | None) -> Path:
    write_site(path, site_id)
    text = path.read_text().replace('name = "MPP Uji"\n', f'name = "{name}"\n', 1)
    if hosts is not None:
        text = text.replace('timezone = "Asia/Jakarta"\n',
                            f'timezone = "Asia/Jakarta"\nhosts = {json.dumps(list(hosts))}\n', 1)
    path.write_text(text)
    return path


class TwoSites:
    """One server process serving two sites, chosen by Host, on one Redis."""

    def __init__(self, root: Path) -> None:
        self.redis = RedisServer(root / "redis").start()
        self.data = root / "data"
        self.data.mkdir()
        alfa = site_toml(root / "alfa.toml", ALFA, "MPP Alfa", ALFA_HOSTS)
        beta = site_toml(root / "beta.toml", BETA, "MPP Beta", (BETA_HOST,))
        self.server = ServerProcess(alfa, self.redis.url, self.data, host=ALFA_HOSTS[0],
                                    extra_args=["--config", str(beta)]).start()
        self.alfa = self.api(ALFA, ALFA_HOSTS[0])
        self.beta = self.api(BETA, BETA_HOST)

    def client(self, host: str) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, headers={"Host": host}, timeout=10)

    def api(self, site_id: str, host: str) -> SiteApi:
        """The site's API on its own host, signed with the secret of its own data dir."""
        return SiteApi(self.client(host), load_secret(self.data / site_id, None), site_id)

    def stop(self) -> None:
        self.server.stop()
        self.alfa.client.close()
        self.beta.client.close()
        self.redis.stop()


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoSites]:
    sites = TwoSites(tmp_path_factory.mktemp("hostsites"))
    try:
        yield sites
    finally:
        sites.stop()


def refused(r: httpx.Response, status: int, code: str) -> bool:
    body = r.json()
    return (r.status_code == status and body["error"]["code"] == code
            and bool(body["error"]["message"]))


def test_each_host_gets_its_own_sites_state_pages_and_data_dir(two: TwoSites) -> None:
    """/api/state and the pages of each Host are its own site's; the Host's port and case do
    not matter; each site keeps its secret in its own data dir."""
    assert two.alfa.state()["site"]["id"] == ALFA
    assert two.beta.state()["site"]["id"] == BETA
    for host in ("ANTRIAN.Alfa.example", f"alfa.mpp.example:{two.server.port}",
                 "alfa.mpp.example."):
        with two.client(host) as c:
            assert c.get("/api/state").json()["site"]["id"] == ALFA, host
    with two.client(BETA_HOST) as c:
        page = c.get("/display", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "MPP Beta" in page.text
        assert "MPP Alfa" not in page.text
    with two.client(ALFA_HOSTS[1]) as c:
        page = c.get("/display", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "MPP Alfa" in page.text
    assert (two.data / ALFA / SECRET_FILE).exists() and (two.data / BETA / SECRET_FILE).exists()
    assert not (two.data / SECRET_FILE).exists()
    assert two.alfa.secret != two.beta.secret
    # a ticket on one host is that site's: the other's waiting count does not move
    before = two.beta.state()["waiting"]
    ticket = two.alfa.ticket("A")
    assert two.alfa.status(ticket).status_code == 200
    assert two.beta.state()["waiting"] == before
    assert two.beta.status(ticket).status_code == 404


def test_a_token_or_cookie_of_one_site_is_refused_on_the_others_host(two: TwoSites) -> None:
    """A's counter and office tokens, and A's console cookie, are 401 on B's host; the same
    token on A's host works."""
    a, b = two.alfa, two.beta
    a.ticket("A")
    assert a.act(1, "call-next").status_code == 200
    r = b.client.post("/api/counters/1/call-next", json={}, headers=a.auth(1))
    assert refused(r, 401, "unauthorized"), r.text
    office = {"Authorization": f"Bearer {a.admin_token()}"}
    assert refused(b.client.get("/api/screens", headers=office), 401, "unauthorized")
    assert a.client.get("/api/screens", headers=office).status_code == 200
    # A's console session, signed in on A's host, opens nothing on B's
    with two.client(ALFA_HOSTS[0]) as browser:
        form = CSRF_FIELD.search(browser.get("/counter/2").text)
        assert form is not None
        r = browser.post("/counter/2/login", data={"token": a.token(2), "csrf": form[1]},
                         follow_redirects=True)
        found = CONSOLE_CSRF.search(r.text)
        assert r.status_code == 200 and found is not None, r.text[:300]
        cookie = f"antrian_loket_2={browser.cookies['antrian_loket_2']}"
    own = a.client.get("/counter/2/tickets/waiting", headers={"Cookie": cookie})
    assert own.status_code == 200
    other = b.client.get("/counter/2/tickets/waiting", headers={"Cookie": cookie})
    assert other.status_code == 401
    press = b.client.post("/counter/2/actions/call-next", json={},
                          headers={"Cookie": cookie, "X-CSRF-Token": found[1]})
    assert refused(press, 401, "unauthorized")


async def receive(ws: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 20))
    return message


def screen(two: TwoSites, host: str) -> Any:
    """A display screen's WebSocket, its Host header the site's name (dialled to 127.0.0.1)."""
    return websockets.connect(f"ws://{host}:{two.server.port}/ws/display", host="127.0.0.1",
                              port=two.server.port)


async def test_a_screen_on_one_host_never_sees_the_other_sites_events(two: TwoSites) -> None:
    """B's screen gets B's calls and none of A's, though both sites live in one process."""
    a, b = two.alfa, two.beta
    async with screen(two, BETA_HOST) as b_screen, screen(two, ALFA_HOSTS[1]) as a_screen:
        b_first = await receive(b_screen)
        a_first = await receive(a_screen)
        assert b_first["type"] == a_first["type"] == "snapshot"
        assert b_first["site"]["id"] == BETA and a_first["site"]["id"] == ALFA
        a.ticket("A")
        a_call = a.call(3)
        assert (await receive(a_screen))["type"] == "ticket"
        assert (await receive(a_screen))["event_id"] == a_call["event_id"]
        b.ticket("A")
        b_call = b.call(2)
        first = await receive(b_screen)  # B's own ticket event, never A's before it
        assert (first["type"], first["ticket"]) == ("ticket", b_call["ticket"]["code"])
        live = await receive(b_screen)
        assert (live["type"], live["counter"], live["event_id"]) == (
            "call", 2, b_call["event_id"])


async def test_an_unknown_host_is_the_contracts_404(two: TwoSites) -> None:
    """No site names the Host: 404 `not_found` with the contract's body, for the API and a
    page alike; a WebSocket to it is refused."""
    for host in ("lain.mpp.example", "127.0.0.1", "beta.mpp.example.lain"):
        with two.client(host) as c:
            for path in ("/api/state", "/api/health", "/display"):
                assert refused(c.get(path), 404, "not_found"), (host, path)
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with screen(two, "lain.mpp.example"):
            pass


def test_a_single_config_server_answers_any_host(server_factory: Any) -> None:
    server = server_factory()
    for host in ("apa.saja.example", "127.0.0.1", "beta.mpp.example"):
        r = httpx.get(server.url + "/api/state", headers={"Host": host}, timeout=10)
        assert r.status_code == 200 and r.json()["site"]["id"] == server_factory.site_id


def test_several_sites_need_hosts_and_distinct_ids(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A site without `[site] hosts` when several are served, a host or a site id named twice:
    a config error in Indonesian before anything starts (exit 2)."""
    alfa = site_toml(tmp_path / "alfa.toml", ALFA, "MPP Alfa", ALFA_HOSTS)
    bare = site_toml(tmp_path / "bare.toml", BETA, "MPP Beta", None)
    again = site_toml(tmp_path / "again.toml", BETA, "MPP Beta", (ALFA_HOSTS[1],))
    twin = site_toml(tmp_path / "twin.toml", ALFA, "MPP Kembar", ("kembar.example",))
    data = str(tmp_path / "data")
    cases = ((bare, "harus menyebut nama host"), (again, "sudah dipakai"),
             (twin, f"id situs {ALFA} sudah dipakai"))
    for other, words in cases:
        code = main(["serve", "--config", str(alfa), "--config", str(other), "--data-dir", data,
                     "--redis-url", "redis://127.0.0.1:1"])
        err = capsys.readouterr().err
        assert code == 2 and words in err, err
    bad = tmp_path / "bad.toml"
    bad.write_text(alfa.read_text().replace("alfa.mpp.example", "alfa mpp/example"))
    code = main(["serve", "--config", str(bad), "--data-dir", data])
    assert code == 2 and "bukan nama host yang sah" in capsys.readouterr().err


def test_several_sites_with_workers(tmp_path: Path, redis_url: str) -> None:
    """`--workers 2`: every worker serves both sites (the configs reach them through the
    environment); many fresh connections on each Host get its own site, a stranger the 404."""
    alfa = site_toml(tmp_path / "alfa.toml", ALFA + "-w", "MPP Alfa", ALFA_HOSTS)
    beta = site_toml(tmp_path / "beta.toml", BETA + "-w", "MPP Beta", (BETA_HOST,))
    server = ServerProcess(alfa, redis_url, tmp_path, host=BETA_HOST,
                           extra_args=["--config", str(beta), "--workers", "2"]).start()
    try:
        for _ in range(12):  # a new connection each: both workers answer
            for host, site_id in ((ALFA_HOSTS[0], ALFA + "-w"), (BETA_HOST, BETA + "-w")):
                r = httpx.get(server.url + "/api/state", headers={"Host": host}, timeout=10)
                assert r.json()["site"]["id"] == site_id
            r = httpx.get(server.url + "/api/state", headers={"Host": "x.example"}, timeout=10)
            assert refused(r, 404, "not_found")
    finally:
        server.stop()


async def test_a_site_that_fails_to_start_fails_the_start_and_stops_the_others() -> None:
    """The lifespan starts the sites in turn: when one fails, the ones started are stopped
    again and the server is told the start failed."""
    events: list[str] = []

    def app(name: str, fail: bool) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            if fail:
                raise RuntimeError(f"{name} cannot start")
            events.append(f"{name} up")
            yield
            events.append(f"{name} down")
        return Starlette(lifespan=lifespan)

    alfa = parse_config(site_document(ALFA, hosts=["a.example"]))
    beta = parse_config(site_document(BETA, hosts=["b.example"]))
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "lifespan.startup"}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    dispatcher = HostSites([(alfa, app("A", False)), (beta, app("B", True))])
    await dispatcher({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    assert "B cannot start" in sent[0]["message"]
    assert events == ["A up", "A down"]
    # both start: complete, and both stop on shutdown
    events.clear()
    sent.clear()
    inbox[:] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    dispatcher = HostSites([(alfa, app("A", False)), (beta, app("B2", False))])
    await dispatcher({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete",
                                         "lifespan.shutdown.complete"]
    assert events == ["A up", "B2 up", "B2 down", "A down"]
