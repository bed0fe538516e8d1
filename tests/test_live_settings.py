"""Live settings without a restart (display_server/live_config.py): a change checked as the TOML
is (the field named, nothing changed on a bad one), stored with its history, used by the next
action of every process sharing Redis, and exported as TOML that reads back the same."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import redis
from conftest import ROOT, Api, site_document, site_keys, wait_until
from starlette.testclient import TestClient
from test_sessions import sign_in

from antrian.main import build_app
from display_server.config import load_config, parse_config
from display_server.hours import DAY_NAMES
from display_server.live_config import effective, effective_document, merge


def office(api: Api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.admin_token()}"}


def patch(api: Api, change: dict[str, Any]) -> httpx.Response:
    return api.client.patch("/api/settings", json=change, headers=office(api))


def test_office_only(api: Api) -> None:
    """Without the office's token (or its /admin session) nothing is read or changed."""
    assert api.client.get("/api/settings").status_code == 401
    r = api.client.patch("/api/settings", json={"site": {"running_text": ["x"]}},
                         headers=api.auth(1))  # a counter's token is not the office's
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert api.client.get("/api/settings/history").status_code == 401


def test_running_text_applies_and_is_recorded(api: Api, redis_url: str) -> None:
    """A change is answered with its version, the state shows it at once, and the history
    records who, when, what, before and after."""
    first = api.client.get("/api/settings", headers=office(api)).json()
    assert first["version"] == 0 and first["overrides"] == {}
    r = patch(api, {"site": {"running_text": ["Layanan KTP pindah ke lantai 2."]}})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1
    assert api.client.get("/api/state").json()["running_text"] == [
        "Layanan KTP pindah ke lantai 2."]
    r = patch(api, {"services": {"D": {"quota": 5}}})
    assert r.json()["version"] == 2
    now = api.client.get("/api/settings", headers=office(api)).json()
    assert now["overrides"] == {"site": {"running_text": ["Layanan KTP pindah ke lantai 2."]},
                                "services": {"D": {"quota": 5}}}
    assert now["by"] == "token"
    assert [s["quota"] for s in now["effective"]["services"] if s["code"] == "D"] == [5]
    history = api.client.get("/api/settings/history", headers=office(api)).json()["changes"]
    assert [h["version"] for h in history] == [2, 1]
    assert history[1]["before"] == {} and history[1]["by"] == "token"
    assert history[1]["client"] == "testclient"  # the sender's address
    assert history[0]["change"] == {"services": {"D": {"quota": 5}}}
    assert history[0]["before"] == history[1]["after"]
    assert history[0]["after"] == now["overrides"]
    assert history[0]["at"].startswith("2026-11-25T10:00")  # the site's clock
    # the `settings` events in the stream: the screens' message, the public part only
    stream = redis.Redis.from_url(redis_url, decode_responses=True)
    rows = stream.xrevrange(f"antrian:{{{api.site.id}}}:events", count=2)
    stream.close()
    sent = [json.loads(fields["d"]) for _, fields in rows]
    assert [e["type"] for e in sent] == ["settings", "settings"]
    assert [e["version"] for e in sent] == [2, 1]
    assert sent[0]["running_text"] == ["Layanan KTP pindah ke lantai 2."]
    assert "overrides" not in sent[0] and "services" not in sent[0]


def test_bad_changes_are_refused_with_the_field_and_change_nothing(api: Api,
                                                                   redis_url: str) -> None:
    """Hours 25:00-26:00, an unknown service on a counter, a negative quota, a part that is not
    editable: 400 with the field named, and not one key of the site changes."""
    before = site_keys(redis_url, api.site.id)
    cases = [
        ({"services": {"A": {"hours": "25:00-26:00"}}}, "services[0].hours"),
        ({"counters": {"2": {"services": ["A", "Z"]}}}, "counters[1].services"),
        ({"services": {"D": {"quota": -1}}}, "services[3].quota"),
        ({"services": {"D": {"quota": "lima"}}}, "services[3].quota"),
        ({"site": {"holidays": ["2026-13-01"]}}, "site.holidays"),
        ({"signage": {"texts": [{"text": "x", "start": "2026-12-10", "end": "2026-12-01"}]}},
         "signage.texts[0].end"),
        ({"site": {"name": "MPP Lain"}}, "site.name"),
        ({"services": {"Z": {"quota": 3}}}, "services.Z"),
        ({"counters": {"99": {"services": ["A"]}}}, "counters.99"),
        ({"tenants": []}, "tenants"),
    ]
    for change, field in cases:
        r = patch(api, change)
        assert r.status_code == 400, (change, r.text)
        error = r.json()["error"]
        assert error["code"] == "invalid_field"
        assert error["field"] == field, (change, error)
        assert field in error["message"]
    for bad in ("[]", '{"version": "1", "site": {"running_text": []}}', "{}"):
        r = api.client.patch("/api/settings", content=bad, headers={
            **office(api), "Content-Type": "application/json"})
        assert r.status_code == 400, bad
        assert set(r.json()["error"]) >= {"code", "message"}
    assert site_keys(redis_url, api.site.id) == before
    assert api.client.get("/api/settings", headers=office(api)).json()["version"] == 0


def test_quota_and_counter_services_reach_the_scripts(api: Api) -> None:
    """The next action uses the new values: a quota of 1 refuses the second ticket, a counter
    that now serves only B calls B before the older A ticket."""
    assert patch(api, {"services": {"A": {"quota": 1}}}).status_code == 200
    api.ticket("A")
    r = api.client.post("/api/tickets", json={"service": "A"}, headers=api.kiosk_auth())
    assert r.status_code == 409 and r.json()["error"]["code"] == "quota_reached"
    api.ticket("B")
    assert api.call(1)["ticket"]["code"] == "A001"  # odd counters: A first (the TOML)
    api.act(1, "done", {"outcome": "completed"})
    api.ticket("D")
    assert patch(api, {"counters": {"3": {"services": ["D", "B"]}}}).status_code == 200
    assert api.call(3)["ticket"]["code"] == "D001"
    # quota null: no quota again
    assert patch(api, {"services": {"A": {"quota": None}}}).status_code == 200
    api.ticket("A")


def test_a_holiday_set_live_closes_every_service_that_day(api: Api) -> None:
    """Today (the site's clock: Wednesday 25 November 2026) made a holiday on /api/settings:
    the next ticket is refused 409 service_closed and the kiosk's list says closed; another
    day's holiday leaves today open, and taking the holiday away opens the services again."""
    def take(service: str) -> httpx.Response:
        return api.client.post("/api/tickets", json={"service": service},
                               headers=api.kiosk_auth())

    def open_now() -> dict[str, bool]:
        return {s["code"]: s["open"] for s in api.client.get("/api/services").json()["services"]}

    assert open_now() == {"A": True, "B": True, "C": False, "D": True}  # C: Mondays only
    assert take("A").status_code == 201
    assert patch(api, {"site": {"holidays": ["2026-11-26"]}}).status_code == 200
    assert take("B").status_code == 201
    assert patch(api, {"site": {"holidays": ["2026-11-25"]}}).status_code == 200
    for service in ("A", "B"):
        r = take(service)
        assert r.status_code == 409 and r.json()["error"]["code"] == "service_closed"
    assert not any(open_now().values())
    assert patch(api, {"site": {"holidays": None}}).status_code == 200
    assert take("A").status_code == 201
    assert open_now() == {"A": True, "B": True, "C": False, "D": True}  # C: Mondays only


def test_version_conflict_and_put_back_to_the_seed(api: Api) -> None:
    """A change made against an older version is refused (409); PUT {} is the TOML again."""
    assert patch(api, {"site": {"running_text": ["Satu"]}}).json()["version"] == 1
    r = patch(api, {"version": 0, "site": {"running_text": ["Dua"]}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "settings_conflict"
    assert patch(api, {"version": 1, "site": {"running_text": ["Dua"]}}).status_code == 200
    r = api.client.put("/api/settings", json={}, headers=office(api))
    assert r.status_code == 200 and r.json()["version"] == 3
    assert api.client.get("/api/state").json()["running_text"] == []


def _not_today() -> str:
    """A weekday name two days from now (site-local): a service open only then is closed now."""
    today = datetime.now(ZoneInfo("Asia/Jakarta"))
    return DAY_NAMES[(today + timedelta(days=2)).weekday()]


def test_hours_change_reaches_a_second_process(server_factory: Any) -> None:
    """Two server processes on one Redis: hours changed through the first close the service
    for the next ticket on the second (409 service_closed), and open it again."""
    one, two = server_factory(), server_factory()
    headers = {"Authorization": f"Bearer {one.api.admin_token()}"}
    assert two.api.client.post("/api/tickets", json={"service": "A"},
                               headers=two.api.kiosk_auth()).status_code == 201
    r = one.api.client.patch("/api/settings", headers=headers, json={
        "services": {"A": {"days": [_not_today()], "hours": "08:00-15:00"}}})
    assert r.status_code == 200, r.text

    def closed_on_two() -> bool:
        r = two.api.client.post("/api/tickets", json={"service": "A"},
                                headers=two.api.kiosk_auth())
        return r.status_code == 409 and r.json()["error"]["code"] == "service_closed"

    wait_until(closed_on_two, timeout=10, what="service A closed on the second process")
    assert two.api.client.get("/api/settings", headers=headers).json()["version"] == 1
    services = {s["code"]: s for s in two.api.client.get("/api/services").json()["services"]}
    assert services["A"]["open"] is False
    one.api.client.patch("/api/settings", headers=headers,
                         json={"services": {"A": {"days": None, "hours": None}}})
    wait_until(lambda: two.api.client.post("/api/tickets", json={"service": "A"},
                                           headers=two.api.kiosk_auth()).status_code == 201,
               timeout=10, what="service A open again on the second process")
    # a third process started now reads the stored settings at start
    three = server_factory()
    history = three.api.client.get("/api/settings/history", headers=headers).json()["changes"]
    assert [h["version"] for h in history] == [2, 1]


def test_export_reads_back_as_the_effective_config(server_factory: Any, tmp_path: Path,
                                                   redis_url: str) -> None:
    """`antrian config export --out F` after changes: F read back is the effective config."""
    server = server_factory()
    headers = {"Authorization": f"Bearer {server.api.admin_token()}"}
    change = {"site": {"running_text": ["Selamat datang", "Jam layanan 08.00–15.00"],
                       "holidays": ["2026-12-25"]},
              "signage": {"texts": [{"text": "Libur Natal", "start": "2026-12-20",
                                     "end": "2026-12-26"}]},
              "services": {"A": {"quota": 40, "days": ["senin", "selasa"],
                                 "hours": ["08:00-12:00", "13:00-15:00"]},
                           "C": {"days": None, "hours": {"jumat": "08:00-11:00"}}},
              "counters": {"3": {"services": ["D", "B", "A"]}}}
    r = server.api.client.patch("/api/settings", headers=headers, json=change)
    assert r.status_code == 200, r.text
    out = tmp_path / "efektif.toml"
    done = subprocess.run(
        [sys.executable, "-m", "antrian", "config", "export", "--config",
         str(server_factory.config), "--redis-url", redis_url, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert "versi 1" in done.stderr
    assert out.stat().st_mode & 0o077 == 0
    seed = load_config(str(server_factory.config))
    overrides = server.api.client.get("/api/settings", headers=headers).json()["overrides"]
    wanted = effective(seed, overrides)
    read_back = parse_config(tomllib.loads(out.read_text()), wanted.source)
    assert read_back == wanted
    assert read_back.counter(3).services == ("D", "B", "A")  # type: ignore[union-attr]
    assert read_back.service("A").quota == 40  # type: ignore[union-attr]
    assert read_back != seed
    # stdout without --out: the same text
    shown = subprocess.run(
        [sys.executable, "-m", "antrian", "config", "export", "--config",
         str(server_factory.config), "--redis-url", redis_url],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert shown.stdout == out.read_text()
    assert dataclasses.replace(parse_config(tomllib.loads(shown.stdout)), source=wanted.source,
                               ) == wanted


def test_admin_session_needs_its_csrf_token_to_change(api: Api) -> None:
    """With the /admin session (no token): reading works, a change needs `X-CSRF-Token` (403
    without or with a wrong one), and the form posts need the form's `csrf`."""
    cookie, csrf = sign_in(api, "admin")
    assert api.client.get("/api/settings", headers={"Cookie": cookie}).status_code == 200
    change = {"site": {"running_text": ["Dari sesi kantor"]}}
    for headers in ({"Cookie": cookie}, {"Cookie": cookie, "X-CSRF-Token": "0" * 64}):
        r = api.client.patch("/api/settings", json=change, headers=headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = api.client.post("/admin/pengaturan/teks", data={"running_text": "x", "csrf": "x"},
                        headers={"Cookie": cookie}, follow_redirects=False)
    assert r.status_code == 403
    assert api.client.get("/api/settings", headers=office(api)).json()["version"] == 0
    r = api.client.patch("/api/settings", json=change,
                         headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    r = api.client.post("/admin/pengaturan/teks", data={"running_text": "Dua\nTiga",
                                                         "csrf": csrf},
                        headers={"Cookie": cookie}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/pengaturan?versi=2"
    history = api.client.get("/api/settings/history", headers=office(api)).json()["changes"]
    assert [(h["version"], h["by"]) for h in history] == [(2, "admin"), (1, "admin")]
    assert history[0]["after"]["site"]["running_text"] == ["Dua", "Tiga"]
    # without a session the page sends the office to sign in
    r = api.client.get("/admin/pengaturan", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin"


def test_hostile_bodies_are_refused(api: Api) -> None:
    """Too big, not JSON, deep nesting, lone surrogates: 4xx with the error body."""
    headers = {**office(api), "Content-Type": "application/json"}
    cases = [
        ('{"site": {"running_text": ["' + "x" * 70_000 + '"]}}', 413),
        ("not json", 400),
        ('{"site": {"running_text": ["\\ud800"]}}', 400),
        ("[" * 5000 + "]" * 5000, 400),
        ('{"site": {"running_text": "' + "y" * 10 + '"}, "version": true}', 400),
    ]
    for body, status in cases:
        r = api.client.patch("/api/settings", content=body, headers=headers)
        assert r.status_code == status, (body[:40], r.text[:200])
        assert set(r.json()["error"]) >= {"code", "message"}
    r = api.client.patch("/api/settings", content="a=b", headers={
        **office(api), "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    r = api.client.delete("/api/settings", headers=office(api))
    assert r.status_code == 405
    assert api.client.get("/api/settings", headers=office(api)).json()["version"] == 0


def test_settings_that_no_longer_fit_an_edited_toml_are_left_out(api: Api, redis_url: str,
                                                                  tmp_path: Path) -> None:
    """Stored settings naming a service the TOML no longer has: a process started on that
    TOML uses the TOML alone and says why (`problem`), and a new change starts from it."""
    change = {"site": {"running_text": ["Lama"]}, "services": {"D": {"quota": 5}}}
    assert patch(api, change).status_code == 200
    document = site_document(api.site.id)
    document["services"] = [s for s in document["services"] if s["code"] != "D"]
    for counter in document["counters"]:
        counter["services"] = [c for c in counter["services"] if c != "D"]
    edited = parse_config(document)
    with TestClient(build_app(edited, redis_url, api.data_dir)) as client:
        answer = client.get("/api/settings", headers=office(api)).json()
        assert answer["version"] == 1
        assert "services.D" in answer["problem"]
        assert client.get("/api/state").json()["running_text"] == []
        r = client.put("/api/settings", headers=office(api),
                       json={"site": {"running_text": ["Baru"]}})
        assert r.status_code == 200, r.text
        answer = client.get("/api/settings", headers=office(api)).json()
        assert answer["problem"] is None
        assert client.get("/api/state").json()["running_text"] == ["Baru"]


def test_merge_and_effective_document_are_pure() -> None:
    """PATCH merging replaces key by key, None takes a key away from the TOML's table."""
    seed = parse_config(site_document("murni"))
    assert seed.document is not None
    overrides = merge({"services": {"D": {"quota": 5}}},
                      {"services": {"D": {"quota": None}, "A": {"quota": 9}}})
    assert overrides == {"services": {"D": {"quota": None}, "A": {"quota": 9}}}
    site = effective(seed, overrides)
    assert site.service("D").quota is None  # type: ignore[union-attr]
    assert site.service("A").quota == 9  # type: ignore[union-attr]
    assert site.document == seed.document  # the seed stays the seed
    assert effective_document(seed.document, {}) == seed.document
