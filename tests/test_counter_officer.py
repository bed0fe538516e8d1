"""The terminal client's officer sign-in by PIN (`antrian counter --officer ID`), against a real
server and Redis: the session names the officer on every call, done and skip; a wrong PIN says
how many tries are left and the lock is the console's own; signing out ends the session; the
app's title names the officer. Counter tokens keep working (tests/test_counter_client.py)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any, cast

import pytest
import redis
from conftest import ROOT
from test_counter_app import until
from test_counter_client import Site, start_site

from counter_client import Client, Forbidden, Unauthorized, Unavailable
from counter_client.app import CounterApp
from counter_client.keymap import load_keymap
from display_server import officers
from display_server.config import load_config
from display_server.keys import SiteKeys
from display_server.store import Store, connect
from texts import t

PIN = "482913"


@pytest.fixture
def site(server_factory: Any) -> Site:
    return start_site(server_factory)


async def add_officer(site: Site, redis_url: str, officer_id: str, name: str,
                      counters: str) -> None:
    """An account as `antrian officer add` makes it, in the running site's Redis."""
    client = connect(redis_url, pool_size=2, pool_timeout=10)
    try:
        config = load_config(str(site.server.config))
        await officers.add(Store(client, config), officer_id, name, "samsat", counters, PIN)
    finally:
        await client.aclose()


def ticket_officers(site: Site, redis_url: str) -> dict[str, str]:
    """ticket code -> the `officer` field of its record, for every ticket of the site."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        keys = SiteKeys(load_config(str(site.server.config)).id)
        found: dict[str, str] = {}
        for key in client.scan_iter(match=keys("ticket", "*")):
            record = cast(dict[str, str], client.hgetall(key))
            found[record["code"]] = record.get("officer", "")
        return found
    finally:
        client.close()


def end_every_session(site: Site, redis_url: str) -> None:
    """What /admin's "Akhiri semua sesi" does: the site's session generation moves on."""
    client = redis.Redis.from_url(redis_url)
    try:
        client.incr(SiteKeys(load_config(str(site.server.config)).id)("session_generation"))
    finally:
        client.close()


def events_with_officer(site: Site, redis_url: str) -> list[tuple[str, str, str]]:
    """(type, ticket code, officer) of each counter event of the site's stream."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        keys = SiteKeys(load_config(str(site.server.config)).id)
        out = []
        stream = cast(list[tuple[str, dict[str, str]]], client.xrange(keys("events")))
        for _, fields in stream:
            event = json.loads(fields["d"])
            if event.get("type") in ("call", "done", "skip"):
                out.append((event["type"], event["ticket"], event.get("officer", "")))
        return out
    finally:
        client.close()


async def test_a_pin_session_names_the_officer_on_call_done_and_skip(
        site: Site, redis_url: str) -> None:
    await add_officer(site, redis_url, "siti", "Siti Aminah", "1")
    for _ in range(2):
        site.api.ticket("A")
    async with Client(site.server.url, 1, attempts=1) as client:
        signed_in = await client.sign_in("siti", PIN)
        assert (signed_in.officer, signed_in.name, signed_in.counter) == ("siti", "Siti Aminah", 1)
        assert signed_in.expires_in > 3600
        assert [w.code for w in await client.waiting()] == ["A001", "A002"]
        first = await client.call_next()
        await client.done()
        second = await client.call_next()
        await client.skip()
        await client.sign_out()
        assert client.officer is None
    assert first.ticket is not None and second.ticket is not None
    assert ticket_officers(site, redis_url) == {"A001": "siti", "A002": "siti"}
    assert events_with_officer(site, redis_url) == [
        ("call", "A001", "siti"), ("done", "A001", "siti"),
        ("call", "A002", "siti"), ("skip", "A002", "siti")]


async def test_signing_out_ends_the_session_for_a_copy_of_it(site: Site, redis_url: str) -> None:
    """After sign-out the same bearer value opens nothing: 401 on the console's routes."""
    await add_officer(site, redis_url, "siti", "Siti Aminah", "1")
    async with Client(site.server.url, 1, attempts=1) as client:
        signed_in = await client.sign_in("siti", PIN)
        bearer = client._http.headers["Authorization"]
        await client.sign_out()
    async with Client(site.server.url, 1, attempts=1) as copy:
        copy._http.headers["Authorization"] = bearer
        copy.officer = signed_in
        with pytest.raises(Unauthorized):
            await copy.call_next()


async def test_wrong_pins_count_down_then_lock_even_the_right_pin(
        site: Site, redis_url: str) -> None:
    await add_officer(site, redis_url, "siti", "Siti Aminah", "1,3")
    await add_officer(site, redis_url, "budi", "Budi", "2")
    async with Client(site.server.url, 1, attempts=1) as client:
        with pytest.raises(Forbidden) as other:
            await client.sign_in("budi", PIN)
        assert other.value.code == "officer_not_allowed"
        assert other.value.message == t("officer.login.not_allowed", counter="Loket 1")
        for left in (4, 3, 2, 1):
            with pytest.raises(Unauthorized) as wrong:
                await client.sign_in("siti", "0000")
            assert wrong.value.code == "wrong_pin"
            assert wrong.value.message == t("officer.login.wrong", left=str(left))
        with pytest.raises(Unavailable) as locked:
            await client.sign_in("siti", "0000")
        assert locked.value.code == "pin_locked" and locked.value.status == 429
        with pytest.raises(Unavailable) as still:
            await client.sign_in("siti", PIN)  # the right PIN, locked too
        assert still.value.code == "pin_locked"
        assert "Terlalu banyak PIN salah" in still.value.message
        assert client.officer is None


async def test_the_app_titles_the_officer_and_enter_calls_in_their_name(
        site: Site, redis_url: str) -> None:
    await add_officer(site, redis_url, "siti", "Siti Aminah", "1")
    site.api.ticket("A")
    async with Client(site.server.url, 1, attempts=2, max_backoff=0.2) as client:
        await client.sign_in("siti", PIN)
        app = CounterApp(client, load_keymap(None), call_guard=0, max_backoff=0.3)
        async with app.run_test(size=(110, 32)) as pilot:
            await until(pilot, lambda: app.text("link") == t("terminal.link_up"), "the link")
            assert app.text("title").startswith("Loket 1 · Siti Aminah")
            await pilot.press("enter")
            await until(pilot, lambda: app.text("ticket") == "A001", "the call")
            end_every_session(site, redis_url)  # the office's "Akhiri semua sesi"
            await pilot.press("u")  # the session ended: the app says to sign in again
            await until(pilot, lambda: "Sesi petugas sudah berakhir" in app.text("log"),
                        "the ended session")
    assert ticket_officers(site, redis_url) == {"A001": "siti"}


def counter(*args: str, pin: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "ANTRIAN_TOKEN"}
    return subprocess.run([sys.executable, "-m", "antrian", "counter", *args], cwd=ROOT,
                          env=environ, capture_output=True, text=True, timeout=60,
                          input=f"{pin}\n")


def test_the_command_says_a_wrong_pin_in_one_line(site: Site, redis_url: str) -> None:
    """`antrian counter --officer ID` reads the PIN (stdin when it is not a terminal), needs no
    token, and a wrong PIN is one Indonesian line, exit 2."""
    asyncio.run(add_officer(site, redis_url, "siti", "Siti Aminah", "1"))
    result = counter("--counter", "1", "--server", site.server.url, "--officer", "siti",
                     pin="0000")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "antrian counter: " + t("officer.login.wrong", left="4"))
    empty = counter("--counter", "1", "--server", site.server.url, "--officer", "siti", pin="")
    assert empty.returncode == 2 and "PIN tidak dimasukkan." in empty.stderr


def test_hostile_sign_in_requests_are_refused_without_a_500(site: Site) -> None:
    http = site.api.client
    url = "/counter/1/session"
    assert http.post(url, content=b"officer=siti&pin=1234",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}
                     ).status_code == 415
    assert http.post(url, json={}).json()["error"]["code"] == "missing_field"
    assert http.post(url, json={"officer": 1, "pin": "1234"}).status_code == 400
    assert http.post(url, json={"officer": "siti", "pin": "1234", "x": 1}).status_code == 400
    assert http.post(url, json={"officer": "s" * 41, "pin": "1234"}).status_code == 400
    assert http.post("/counter/99/session", json={"officer": "siti", "pin": "1234"}
                     ).status_code == 404
    assert http.delete(url).status_code == 401  # no session to end
    forged = {"Authorization": "Bearer 1.00000000000000000000000000000000.forged"}
    assert http.delete(url, headers=forged).status_code == 401
    token = {"Authorization": f"Bearer {site.api.token(1)}"}  # a counter token is no session
    assert http.post("/counter/1/actions/call-next", json={}, headers=token).status_code == 401
