"""Officer accounts: `antrian officer add|list|reset-pin|disable` against a real Redis (argon2
hashes stored, never the PIN), the console's PIN sign-in with its lockout per officer id and
per client, the officer on every action's event and ticket, visits.officer in the archive, and
the office's /admin/petugas."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
import sqlalchemy as sa
from conftest import Api, write_site
from test_sessions import CONSOLE_CSRF, CSRF_FIELD, sign_in

from display_server import officers
from display_server.archive import db
from display_server.archive.archiver import Archiver
from display_server.archive.tables import visits
from display_server.clock import system_clock
from display_server.config import SiteConfig
from display_server.keys import SiteKeys
from display_server.reporting.visit import visit_report
from display_server.settings import Settings
from display_server.store import Event, Store, connect
from texts import t

PIN = "482913"


def antrian(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "antrian", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ})


def stored(redis_url: str, site_id: str, officer_id: str) -> dict[str, str]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return dict(client.hgetall(SiteKeys(site_id)("officer", officer_id)))  # type: ignore[arg-type]
    finally:
        client.close()


async def archive_once(redis_url: str, api: Api) -> None:
    """One round of the archiver into an SQLite archive in the test's data dir."""
    url = f"sqlite:///{api.data_dir / 'archive.sqlite3'}"
    db.upgrade(url)
    client, engine = connect(redis_url, pool_size=2, pool_timeout=5), db.engine(url)
    try:
        await Archiver(client, api.site, engine, system_clock, block_ms=10).step()
    finally:
        await client.aclose()
        engine.dispose()


def test_cli_adds_lists_resets_and_disables_officers(tmp_path: Path, redis_url: str) -> None:
    """The office's commands on a real Redis: Indonesian output, the PIN kept only as its argon2
    hash, a new PIN replaces the old one, a disabled officer is listed as nonaktif; bad values
    and a taken id exit 2 without a traceback."""
    site_id = f"cli-officer-{os.getpid()}"
    config = write_site(tmp_path / "site.toml", site_id)
    common = ("--config", str(config), "--data-dir", str(tmp_path), "--redis-url", redis_url)
    empty = antrian("officer", "list", *common)
    assert empty.returncode == 0 and empty.stdout.strip() == "Belum ada petugas."
    added = antrian("officer", "add", "--id", "198501012010011001", "--name", "Siti Aminah",
                    "--tenant", "samsat", "--counters", "1, 3", "--pin", PIN, *common)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == ("Petugas 198501012010011001 (Siti Aminah) ditambahkan: "
                                    "Samsat, Loket 1, 3.")
    record = stored(redis_url, site_id, "198501012010011001")
    assert record["pin"].startswith("$argon2id$") and PIN not in json.dumps(record)
    assert officers.pin_matches(record["pin"], PIN)
    assert record["counters"] == "1,3" and record["active"] == "1"

    listed = antrian("officer", "list", *common)
    assert listed.returncode == 0
    head, row = listed.stdout.strip().splitlines()
    assert head.split() == ["ID", "Nama", "Tenan", "Loket", "Status"]
    assert row.split() == ["198501012010011001", "Siti", "Aminah", "Samsat", "1,", "3", "aktif"]
    assert PIN not in listed.stdout and "argon2" not in listed.stdout

    edited = antrian("officer", "edit", "198501012010011001", "--counters", "2", *common)
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.strip() == ("Petugas 198501012010011001 (Siti Aminah) diubah: Samsat, "
                                     "Loket 2.")
    assert stored(redis_url, site_id, "198501012010011001")["counters"] == "2"
    reset = antrian("officer", "reset-pin", "198501012010011001", "--pin", "7777", *common)
    assert reset.returncode == 0 and "sudah diganti" in reset.stdout
    renewed = stored(redis_url, site_id, "198501012010011001")["pin"]
    assert officers.pin_matches(renewed, "7777") and not officers.pin_matches(renewed, PIN)

    disabled = antrian("officer", "disable", "198501012010011001", *common)
    assert disabled.returncode == 0 and "dinonaktifkan" in disabled.stdout
    assert antrian("officer", "list", *common).stdout.strip().endswith("nonaktif")

    for args, words in [
        (("--id", "198501012010011001", "--name", "X", "--tenant", "samsat", "--counters", "1",
          "--pin", "1234"), "sudah terdaftar"),
        (("--id", "budi", "--name", "Budi", "--tenant", "samsat", "--counters", "1",
          "--pin", "12ab"), "PIN harus 4 sampai 8 angka"),
        (("--id", "budi", "--name", "Budi", "--tenant", "samsat", "--counters", "1,99",
          "--pin", "1234"), "Loket '99' tidak ada"),
        (("--id", "budi", "--name", "Budi", "--tenant", "pajak", "--counters", "1",
          "--pin", "1234"), "tenan 'pajak' tidak ada"),
        (("--id", "Budi Santoso", "--name", "Budi", "--tenant", "samsat", "--counters", "1",
          "--pin", "1234"), "ID petugas"),
    ]:
        refused = antrian("officer", "add", *args, *common)
        assert refused.returncode == 2, refused.stdout
        assert words in refused.stderr and "Traceback" not in refused.stderr
    unknown = antrian("officer", "reset-pin", "tidakada", "--pin", "1234", *common)
    assert unknown.returncode == 2 and "tidak terdaftar" in unknown.stderr
    assert stored(redis_url, site_id, "budi") == {}


def test_the_rules_of_ids_counters_and_sign_in(site: SiteConfig) -> None:
    assert officers.check_id(" Siti.A ") == "siti.a"
    for bad_id in ("", "siti aminah", "-x", "a" * 33, "siti:1"):
        with pytest.raises(officers.OfficerError):
            officers.check_id(bad_id)
    for bad_pin in ("123", "123456789", "12a4", "١٢٣٤"):
        with pytest.raises(officers.OfficerError):
            officers.check_pin(bad_pin)
    assert officers.check_counters(site, "3, 1,3") == (3, 1)
    for bad in ("", "0", "1;2", "١"):
        with pytest.raises(officers.OfficerError):
            officers.check_counters(site, bad)
    assert officers.locked([4, 0], 5) is False and officers.locked([0, 5], 5) is True
    someone = officers.Officer("siti", "Siti", "samsat", (1, 3), True, "", "")
    assert officers.decide(None, True, 1) == "wrong"
    assert officers.decide(someone, False, 1) == "wrong"
    assert officers.decide(someone, True, 2) == "not_allowed"
    assert officers.decide(someone, True, 3) == "ok"
    retired = officers.Officer("siti", "Siti", "samsat", (1,), False, "", "")
    assert officers.decide(retired, True, 1) == "disabled"


# ---- the console's PIN sign-in, in the app (TestClient) -----------------------------------

def add_officer(api: Api, officer_id: str, counters: str, pin: str = PIN,
                name: str = "Siti Aminah") -> None:
    """Add an account through the office's /admin/petugas form."""
    office, csrf = sign_in(api, "admin")
    r = api.client.post("/admin/petugas", data={
        "csrf": csrf, "id": officer_id, "name": name, "tenant": "samsat",
        "counters": counters, "pin": pin}, headers={"Cookie": office}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/admin/petugas?selesai=ditambah&id={officer_id}"


def pin_sign_in(api: Api, counter: int, officer_id: str, pin: str) -> tuple[str, str | None]:
    """A fresh browser tries a PIN at counter n: where it is sent, and its session cookie."""
    browser = api.client
    browser.cookies.clear()
    form = CSRF_FIELD.search(browser.get(f"/counter/{counter}").text)
    assert form is not None
    r = browser.post(f"/counter/{counter}/login/pin",
                     data={"officer": officer_id, "pin": pin, "csrf": form[1]},
                     follow_redirects=False)
    assert r.status_code == 303
    cookie = browser.cookies.get(f"antrian_loket_{counter}")
    browser.cookies.clear()
    return r.headers["location"], cookie and f"antrian_loket_{counter}={cookie}"


def console_csrf(api: Api, counter: int, cookie: str) -> str:
    found = CONSOLE_CSRF.search(api.client.get(f"/counter/{counter}",
                                               headers={"Cookie": cookie}).text)
    assert found is not None
    return found[1]


def officer_day(api: Api) -> None:
    """An officer account and a wrong PIN (test_keys: every key of the layout is used)."""
    add_officer(api, "siti", "1,3")
    assert pin_sign_in(api, 1, "siti", "0000")[0] == "/counter/1?salah=pin&sisa=4&petugas=siti"


def test_wrong_pins_lock_the_id_and_the_client_even_for_the_right_pin(
        api: Api, redis_url: str) -> None:
    """Four wrong PINs say how many tries are left; the fifth locks, and then the right PIN is
    refused too, for the id (ANTRIAN_PIN_LOCK_SECONDS) and for this client, with any id."""
    add_officer(api, "siti", "1")
    add_officer(api, "budi", "1", pin="2468", name="Budi")
    for left in (4, 3, 2, 1):
        assert pin_sign_in(api, 1, "siti", "0000") == (
            f"/counter/1?salah=pin&sisa={left}&petugas=siti", None)
    lock = Settings().pin_lock_s
    assert pin_sign_in(api, 1, "siti", "0000") == (
        f"/counter/1?salah=kunci&detik={lock}&petugas=siti", None)
    where, cookie = pin_sign_in(api, 1, "siti", PIN)
    assert cookie is None and where.startswith("/counter/1?salah=kunci&detik=")
    assert 0 < int(parse_qs(urlsplit(where).query)["detik"][0]) <= lock
    assert pin_sign_in(api, 1, "budi", "2468")[1] is None  # the client is locked as well
    page = api.client.get(where).text
    assert "Terlalu banyak PIN salah. Masuk dikunci; coba lagi dalam 5 menit." in page
    assert 'maxlength="32" value="siti"' in page  # the id stays typed in
    keys = SiteKeys(api.site.id)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert 0 < client.ttl(keys("pin_failures_officer", "siti")) <= lock
    client.delete(keys("pin_failures_officer", "siti"), keys("pin_failures_client", "testclient"))
    where, cookie = pin_sign_in(api, 1, "siti", PIN)
    assert where == "/counter/1" and cookie is not None
    client.close()


def terminal_sign_in(api: Api, counter: int, officer_id: str, pin: str) -> Any:
    """The terminal client's PIN sign-in (POST /counter/{n}/session, JSON)."""
    return api.client.post(f"/counter/{counter}/session", json={"officer": officer_id, "pin": pin})


def test_the_terminal_and_the_console_count_wrong_pins_and_lock_together(api: Api) -> None:
    """Wrong PINs typed at the console and at the terminal client are one count, and the lock
    one tries to get round on the other holds there too, the right PIN included."""
    add_officer(api, "siti", "1")
    for left in (4, 3):
        assert pin_sign_in(api, 1, "siti", "0000")[0] == (
            f"/counter/1?salah=pin&sisa={left}&petugas=siti")
    for left in (2, 1):
        r = terminal_sign_in(api, 1, "siti", "0000")
        assert r.status_code == 401
        assert r.json()["error"] == {"code": "wrong_pin",
                                     "message": t("officer.login.wrong", left=str(left))}
    where, cookie = pin_sign_in(api, 1, "siti", "0000")  # the fifth: locked
    assert where.startswith("/counter/1?salah=kunci&detik=") and cookie is None
    locked = terminal_sign_in(api, 1, "siti", PIN)
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "pin_locked"
    assert 0 < int(locked.headers["Retry-After"]) <= Settings().pin_lock_s
    assert "session" not in locked.json()


def test_the_session_route_signs_a_console_cookie_out_only_with_its_csrf_token(
        api: Api) -> None:
    """DELETE /counter/{n}/session with the console's cookie (not the terminal's bearer) is
    CSRF-checked like its actions: without the token 403 and the session lives on."""
    add_officer(api, "siti", "1")
    where, cookie = pin_sign_in(api, 1, "siti", PIN)
    assert where == "/counter/1" and cookie is not None
    waiting = "/counter/1/tickets/waiting"
    r = api.client.delete("/counter/1/session", headers={"Cookie": cookie})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert api.client.get(waiting, headers={"Cookie": cookie}).status_code == 200
    csrf = console_csrf(api, 1, cookie)
    r = api.client.delete("/counter/1/session", headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json() == {"signed_out": True}
    assert api.client.get(waiting, headers={"Cookie": cookie}).status_code == 401


def test_officer_not_allowed_on_the_counter_disabled_and_unknown(api: Api) -> None:
    add_officer(api, "siti", "1,3")
    assert pin_sign_in(api, 2, "siti", PIN) == ("/counter/2?salah=bukan_loket&petugas=siti", None)
    page = api.client.get("/counter/2?salah=bukan_loket").text
    assert "Anda tidak terdaftar untuk Loket 2." in page
    assert pin_sign_in(api, 3, "tidakada", PIN) == (
        "/counter/3?salah=pin&sisa=4&petugas=tidakada", None)
    where, cookie = pin_sign_in(api, 3, "siti", PIN)
    assert where == "/counter/3" and cookie is not None
    office, csrf = sign_in(api, "admin")
    r = api.client.post("/admin/petugas/siti/aktif", data={"csrf": csrf, "aktif": "0"},
                        headers={"Cookie": office}, follow_redirects=False)
    assert r.status_code == 303
    # the open session ends at once, and the right PIN now says the account is disabled
    assert api.client.get("/counter/3/tickets/waiting",
                          headers={"Cookie": cookie}).status_code == 401
    assert pin_sign_in(api, 3, "siti", PIN) == ("/counter/3?salah=nonaktif&petugas=siti", None)


def test_actions_of_an_officer_session_name_the_officer_and_reach_the_archive(
        api: Api, redis_url: str) -> None:
    """Call and done from a PIN session carry `officer` on the events and the ticket, and the
    archive's visit has it; a token session's call does not, and a later call by a token clears
    the ticket's officer."""
    add_officer(api, "siti", "1")
    for _ in range(2):
        api.ticket("A")
    where, cookie = pin_sign_in(api, 1, "siti", PIN)
    assert where == "/counter/1" and cookie is not None
    csrf = console_csrf(api, 1, cookie)
    headers = {"Cookie": cookie, "X-CSRF-Token": csrf}
    page = api.client.get("/counter/1", headers={"Cookie": cookie}).text
    assert "Petugas: Siti Aminah" in page
    called = api.client.post("/counter/1/actions/call-next", json={}, headers=headers)
    assert called.status_code == 200 and called.json()["ticket"]["code"] == "A001"
    done = api.client.post("/counter/1/actions/done", json={"outcome": "completed"},
                           headers=headers)
    assert done.status_code == 200
    token_call = api.act(1, "call-next").json()
    assert token_call["ticket"]["code"] == "A002"

    keys = SiteKeys(api.site.id)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    stream = [json.loads(fields["d"]) for _, fields in client.xrange(keys("events"))]
    by_type = {(e["type"], e.get("ticket")): e for e in stream}
    assert by_type[("call", "A001")]["officer"] == "siti"
    assert by_type[("done", "A001")]["officer"] == "siti"
    assert "officer" not in by_type[("call", "A002")]
    # the screens' WebSocket messages leave the officer out (the lobby needs no one's NIP)
    first_id, first = next((i, f) for i, f in client.xrange(keys("events"))
                           if json.loads(f["d"])["type"] == "call")
    assert json.loads(first["d"])["officer"] == "siti"
    message = json.loads(Event(first_id, first["d"]).message())
    assert message["type"] == "call" and message["event_id"] == first_id
    assert "officer" not in message and message["ticket"] == "A001"
    day = api.client.get("/api/state").json()["day"]
    assert client.hget(keys("ticket", f"{day}:A001"), "officer") == "siti"
    assert client.hget(keys("ticket", f"{day}:A002"), "officer") is None
    client.close()

    asyncio.run(archive_once(redis_url, api))
    engine = db.engine(f"sqlite:///{api.data_dir / 'archive.sqlite3'}")
    with engine.connect() as connection:
        rows = dict(connection.execute(sa.select(visits.c.code, visits.c.officer).where(
            visits.c.site == api.site.id)).all())
        today = date.fromisoformat(day)
        report = visit_report(connection, api.site, today, today, "officer")
    engine.dispose()
    assert rows == {"A001": "siti", "A002": None}
    # antrian report --by officer: a row per officer who served; token work only in the total
    assert [(r["key"], r["called"], r["completed"], r["issued"]) for r in report["rows"]] == [
        ("siti", 1, 1, 0)]
    assert (report["total"]["issued"], report["total"]["called"]) == (2, 2)


def test_token_sign_in_still_works_and_the_device_remembers_its_counter(api: Api) -> None:
    """With officer accounts the page offers the PIN first and the counter's access code (the
    token) under "Masuk dengan kode akses"; either sign-in makes /counter open that counter."""
    add_officer(api, "siti", "3")
    page = api.client.get("/counter/3").text
    assert 'action="/counter/3/login/pin"' in page and "Masuk dengan kode akses" in page
    cookie, _ = sign_in(api, 3)  # the token form, as devices and integrations use it
    assert api.client.get("/counter/3/tickets/waiting",
                          headers={"Cookie": cookie}).status_code == 200
    api.client.cookies.clear()
    chooser = api.client.get("/counter", follow_redirects=False)
    assert chooser.status_code == 200 and 'href="/counter/4"' in chooser.text
    where, _ = pin_sign_in(api, 3, "siti", PIN)
    assert where == "/counter/3"
    r = api.client.get("/counter", follow_redirects=False,
                       headers={"Cookie": "antrian_loket_terakhir=3"})
    assert r.status_code == 303 and r.headers["location"] == "/counter/3"
    bad = api.client.get("/counter", follow_redirects=False,
                         headers={"Cookie": "antrian_loket_terakhir=99"})
    assert bad.status_code == 200
    remembered = api.client.get("/counter/3", headers={"Cookie": "antrian_petugas_terakhir=siti"})
    assert 'name="officer" required maxlength="32" value="siti"' in remembered.text


def test_office_page_adds_resets_and_disables_without_showing_a_pin(
        api: Api, redis_url: str) -> None:
    office, csrf = sign_in(api, "admin")
    assert "/admin/petugas" in api.client.get("/admin", headers={"Cookie": office}).text
    bad = api.client.post("/admin/petugas", data={
        "csrf": csrf, "id": "siti", "name": "Siti", "tenant": "samsat", "counters": "1",
        "pin": "12"}, headers={"Cookie": office})
    assert bad.status_code == 400 and "PIN harus 4 sampai 8 angka" in bad.text
    assert 'value="siti"' in bad.text  # the entered values stay, the PIN does not
    add_officer(api, "siti", "1")
    office, csrf = sign_in(api, "admin")
    listed = api.client.get("/admin/petugas?selesai=ditambah&id=siti",
                            headers={"Cookie": office}).text
    assert "Petugas siti ditambahkan." in listed and PIN not in listed and "argon2" not in listed
    forged = api.client.post("/admin/petugas/siti/pin", data={"csrf": "x", "pin": "1111"},
                             headers={"Cookie": office})
    assert forged.status_code == 403
    r = api.client.post("/admin/petugas/siti/pin", data={"csrf": csrf, "pin": "1111"},
                        headers={"Cookie": office}, follow_redirects=False)
    assert r.status_code == 303
    assert officers.pin_matches(stored(redis_url, api.site.id, "siti")["pin"], "1111")
    moved = api.client.post("/admin/petugas/siti/loket", data={"csrf": csrf, "counters": "2, 3"},
                            headers={"Cookie": office}, follow_redirects=False)
    assert moved.headers["location"] == "/admin/petugas?selesai=loket&id=siti"
    assert pin_sign_in(api, 1, "siti", "1111")[0].startswith("/counter/1?salah=bukan_loket")
    assert pin_sign_in(api, 2, "siti", "1111")[0] == "/counter/2"
    nowhere = api.client.post("/admin/petugas/siti/loket", data={"csrf": csrf, "counters": "77"},
                              headers={"Cookie": office})
    assert nowhere.status_code == 400 and "Loket &#39;77&#39; tidak ada" in nowhere.text
    unknown = api.client.post("/admin/petugas/nobody/aktif", data={"csrf": csrf, "aktif": "0"},
                              headers={"Cookie": office})
    assert unknown.status_code == 400 and "tidak terdaftar" in unknown.text
    assert api.client.get("/admin/petugas", follow_redirects=False).status_code == 303


def test_sign_in_rejects_hostile_forms_without_a_500(api: Api) -> None:
    add_officer(api, "siti", "1")
    form = CSRF_FIELD.search(api.client.get("/counter/1").text)
    assert form is not None
    for data in ({"officer": "x" * 5000, "pin": "1" * 5000, "csrf": form[1]},
                 {"officer": "../../etc", "pin": "", "csrf": form[1]},
                 {"officer": "siti", "pin": PIN, "csrf": "wrong"}):
        r = api.client.post("/counter/1/login/pin", data=data, follow_redirects=False)
        assert r.status_code == 303 and "salah=" in r.headers["location"]
    assert re.search(r"salah=csrf", r.headers["location"])


def test_a_burst_of_parallel_tries_gets_no_more_than_the_allowed_pins_checked(
        site: SiteConfig, redis_url: str) -> None:
    """Twenty wrong PINs at once: four are told how many tries are left, the fifth locks, the
    other fifteen are refused as locked without their PIN being checked; and a shared device
    where six officers sign in one after another is never locked by their right PINs."""
    async def go() -> tuple[list[str], list[str]]:
        client = connect(redis_url, pool_size=24, pool_timeout=10)
        store = Store(client, site)
        try:
            await officers.add(store, "siti", "Siti", "samsat", "1", PIN)
            burst = await asyncio.gather(*[
                officers.sign_in(store, "siti", "0000", 1, "192.0.2.1", attempts=5,
                                 lock_seconds=300) for _ in range(20)])
            shared = []
            for n in range(6):
                await officers.add(store, f"p{n}", f"P {n}", "samsat", "1", "2468")
                result = await officers.sign_in(store, f"p{n}", "2468", 1, "192.0.2.9",
                                                attempts=5, lock_seconds=300)
                shared.append(result.outcome)
            return [r.outcome for r in burst], shared
        finally:
            await client.aclose()

    burst, shared = asyncio.run(go())
    assert sorted(burst) == ["locked"] * 16 + ["wrong"] * 4
    assert shared == ["ok"] * 6


def test_settings_read_the_lock_from_the_environment() -> None:
    settings = Settings.from_env({"ANTRIAN_PIN_ATTEMPTS": "3", "ANTRIAN_PIN_LOCK_SECONDS": "60"})
    assert (settings.pin_attempts, settings.pin_lock_s) == (3, 60)
    assert (Settings().pin_attempts, Settings().pin_lock_s) == (5, 300)
