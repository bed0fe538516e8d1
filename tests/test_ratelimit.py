"""Ticket issue limits: anonymous clients get a few tickets a window each, the kiosk token
none, a wrong token nothing; proxies' X-Forwarded-For counts only when the site trusts them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import FakeClock, site_keys, token
from starlette.testclient import TestClient

from antrian.cli import main
from antrian.main import build_app
from display_server.config import SiteConfig
from display_server.ratelimit import client_key
from display_server.settings import Rate, Settings
from display_server.tokens import admin_token, kiosk_token, load_secret

A = {"service": "A"}


@pytest.fixture
def client(site: SiteConfig, clock: FakeClock, redis_url: str,
           tmp_path: Path) -> Iterator[TestClient]:
    """The app with 3 tickets a minute per client at /api/tickets and 2 at the kiosk page."""
    settings = Settings(ticket_rate=Rate(3, 60), kiosk_rate=Rate(2, 60))
    app = build_app(site, redis_url, tmp_path, clock=clock, settings=settings)
    with TestClient(app) as test_client:
        yield test_client


def kiosk(site: SiteConfig, data_dir: Path) -> dict[str, str]:
    return {"Authorization": f"Bearer {kiosk_token(load_secret(data_dir), site.id)}"}


def test_a_client_past_its_limit_gets_429_and_changes_nothing(
    client: TestClient, site: SiteConfig, clock: FakeClock, redis_url: str
) -> None:
    """The 4th ticket in a minute is refused with Retry-After until the window ends, leaving
    every queue, counter and statistic as it was; the next window takes tickets again."""
    assert [client.post("/api/tickets", json=A).status_code for _ in range(3)] == [201] * 3
    before = site_keys(redis_url, site.id)
    r = client.post("/api/tickets", json={"service": "B"})
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limited"
    assert "Terlalu banyak permintaan" in r.json()["error"]["message"]
    assert r.headers["retry-after"] == "60"  # the fake clock stands at a minute's start
    clock.advance(seconds=45)
    assert client.post("/api/tickets", json=A).headers["retry-after"] == "15"
    assert site_keys(redis_url, site.id) == before
    clock.advance(seconds=15)
    assert client.post("/api/tickets", json=A).json()["code"] == "A004"


def test_the_kiosk_token_is_not_limited_and_a_wrong_token_is_401(
    client: TestClient, site: SiteConfig, tmp_path: Path, redis_url: str
) -> None:
    """Kiosks and integrations with `antrian token --kiosk` take any number of tickets; a
    counter's token, the office's or a made-up one is refused without issuing anything."""
    for _ in range(3):
        client.post("/api/tickets", json=A)
    assert client.post("/api/tickets", json=A).status_code == 429
    codes = [client.post("/api/tickets", json=A, headers=kiosk(site, tmp_path)).json()["code"]
             for _ in range(10)]
    assert codes == [f"A{n:03d}" for n in range(4, 14)]
    before = site_keys(redis_url, site.id)
    office = admin_token(load_secret(tmp_path), site.id)
    for bad in (f"Bearer {token(tmp_path, site, 1)}", f"Bearer {office}", "Bearer x",
                "Basic a2lvc2s6"):
        r = client.post("/api/tickets", json=A, headers={"Authorization": bad})
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert site_keys(redis_url, site.id) == before


def test_the_kiosk_page_has_its_own_limit(client: TestClient, tmp_path: Path,
                                         site: SiteConfig) -> None:
    """POST /kiosk/tickets counts against `kiosk_rate` only, not against /api/tickets."""
    assert [client.post("/kiosk/tickets", json=A).status_code for _ in range(3)] == [201, 201, 429]
    refused = client.post("/kiosk/tickets", json=A)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) > 0
    assert [client.post("/api/tickets", json=A).status_code for _ in range(3)] == [201] * 3
    assert client.post("/kiosk/tickets", json=A, headers=kiosk(site, tmp_path)).status_code == 201


def test_clients_are_counted_by_address_and_ipv6_by_network() -> None:
    """An IPv6 client cannot dodge the limit by changing the last 64 bits of its address."""
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")


def test_antrian_token_kiosk_prints_the_accepted_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server_factory: Any
) -> None:
    """`antrian token --kiosk` prints the token the server exempts; it is no counter's or
    office's token."""
    server = server_factory(extra_env={"ANTRIAN_TICKET_RATE": "1/60"})
    args = ["--config", str(server_factory.config), "--data-dir", str(tmp_path)]
    assert main(["token", "--kiosk", *args]) == 0
    printed = capsys.readouterr().out.strip()
    assert main(["token", "--admin", *args]) == 0
    assert main(["token", "--counter", "1", *args]) == 0
    assert printed not in capsys.readouterr().out.split()
    headers = {"Authorization": f"Bearer {printed}"}
    answers = [httpx.post(server.url + "/api/tickets", json=A, headers=headers).status_code
               for _ in range(3)]
    assert answers == [201] * 3
    assert httpx.post(server.url + "/api/tickets", json=A).status_code == 201
    assert httpx.post(server.url + "/api/tickets", json=A).status_code == 429


@pytest.mark.parametrize("trusted", [False, True])
def test_forwarded_for_counts_only_from_a_trusted_proxy(server_factory: Any,
                                                        trusted: bool) -> None:
    """Two requests from 127.0.0.1 naming different clients in X-Forwarded-For share one limit,
    unless 127.0.0.1 is a configured proxy: then each named client has its own."""
    env = {"ANTRIAN_TICKET_RATE": "1/60"}
    if trusted:
        env["ANTRIAN_TRUSTED_PROXIES"] = "127.0.0.1"
    server = server_factory(extra_env=env)
    answers = [httpx.post(server.url + "/api/tickets", json=A,
                          headers={"X-Forwarded-For": visitor}).status_code
               for visitor in ("198.51.100.1", "198.51.100.2")]
    assert answers == ([201, 201] if trusted else [201, 429])
