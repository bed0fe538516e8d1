"""Played acknowledgements: only from screens the site knows (its config, or the office's
register), only for calls the stream holds, at most a capped number of screens a day, atomically,
and forgotten after two days."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from conftest import Api, FakeClock, site_document, site_keys

from display_server.config import SiteConfig, parse_config
from display_server.tokens import admin_token, counter_token, load_secret


@pytest.fixture
def site() -> SiteConfig:
    """The test site with a lobby TV and a Samsat TV declared under [[screens]]."""
    doc = site_document(f"pl-{uuid.uuid4().hex[:8]}")
    doc["screens"] = [{"id": "lobi", "name": "TV Lobi"},
                      {"id": "samsat", "name": "TV Samsat", "services": ["A"]}]
    return parse_config(doc)


def office(api: Api) -> dict[str, str]:
    secret = load_secret(api.data_dir, api.site.secret)
    return {"Authorization": f"Bearer {admin_token(secret, api.site.id)}"}


def ack(api: Api, screen: str, event_id: str) -> httpx.Response:
    return api.client.post("/api/played", json={"event_id": event_id, "screen": screen})


def played(api: Api) -> dict[str, Any]:
    state: dict[str, Any] = api.client.get("/api/state").json()["played"]
    return state


def a_call(api: Api) -> str:
    api.issue("A")
    event_id: str = api.act(1, "call-next").json()["event_id"]
    return event_id


def refused(api: Api, redis_url: str, response: Any, status: int, code: str) -> None:
    before = site_keys(redis_url, api.site.id)
    r = response()
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert site_keys(redis_url, api.site.id) == before


def test_declared_and_registered_screens_only(api: Api, redis_url: str) -> None:
    """A config screen is recorded; an unknown one is 404 unknown_screen until the office
    registers it, and again once the office takes it off."""
    call = a_call(api)
    assert ack(api, "lobi", call).status_code == 200
    refused(api, redis_url, lambda: ack(api, "tv-2", call), 404, "unknown_screen")
    assert set(played(api)) == {"lobi"}
    r = api.client.post("/api/screens", json={"id": "tv-2", "name": "TV Lantai 2"},
                        headers=office(api))
    assert r.status_code == 201 and r.json() == {"id": "tv-2", "name": "TV Lantai 2"}
    assert ack(api, "tv-2", call).status_code == 200
    assert played(api)["tv-2"]["event_id"] == call
    assert api.client.delete("/api/screens/tv-2", headers=office(api)).status_code == 200
    assert set(played(api)) == {"lobi"}
    refused(api, redis_url, lambda: ack(api, "tv-2", call), 404, "unknown_screen")


def test_forged_event_ids_are_refused(api: Api, redis_url: str) -> None:
    """Only a call or recall the stream holds can be acknowledged: a made-up id or the id of a
    ticket event is 404 unknown_event, and the screen's last play stays what it was."""
    call = a_call(api)
    ticket_event = api.issue("B").json()["event_id"]
    assert ack(api, "lobi", call).status_code == 200
    refused(api, redis_url, lambda: ack(api, "lobi", "99999999999999-0"), 404, "unknown_event")
    refused(api, redis_url, lambda: ack(api, "lobi", ticket_event), 404, "unknown_event")
    recall = api.act(1, "recall").json()["event_id"]
    assert ack(api, "samsat", recall).status_code == 200
    assert {k: v["event_id"] for k, v in played(api).items()} == {"lobi": call, "samsat": recall}


def test_the_register_is_the_office_s(api: Api, redis_url: str) -> None:
    """POST/DELETE /api/screens need the office's token (a counter's is 401); GET lists the
    config's and the office's screens with today's last play."""
    body = {"id": "tv-3", "name": "TV Ruang Tunggu"}
    refused(api, redis_url, lambda: api.client.post("/api/screens", json=body), 401,
            "unauthorized")
    refused(api, redis_url, lambda: api.client.post("/api/screens", json=body,
                                                    headers=api.auth(1)), 401, "unauthorized")
    refused(api, redis_url, lambda: api.client.delete("/api/screens/lobi", headers=office(api)),
            404, "unknown_screen")
    assert api.client.post("/api/screens", json=body, headers=office(api)).status_code == 201
    renamed = {"id": "tv-3", "name": "TV Ruang Tunggu 1"}
    assert api.client.post("/api/screens", json=renamed, headers=office(api)).status_code == 200
    call = a_call(api)
    ack(api, "lobi", call)
    assert api.client.get("/api/screens").status_code == 401
    listed = api.client.get("/api/screens", headers=office(api)).json()["screens"]
    assert [(s["id"], s["name"], s["source"]) for s in listed] == [
        ("lobi", "TV Lobi", "config"), ("samsat", "TV Samsat", "config"),
        ("tv-3", "TV Ruang Tunggu 1", "office")]
    assert listed[0]["played"]["event_id"] == call
    assert listed[1]["played"] is None


def test_websocket_acknowledgements(api: Api) -> None:
    """Over the WebSocket a known screen's ack is recorded; an unknown one gets an error
    message, and the link stays open."""
    call = a_call(api)
    with api.client.websocket_connect("/ws/display") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        ws.send_json({"type": "played", "event_id": call, "screen": "tv-x"})
        assert ws.receive_json()["error"]["code"] == "unknown_screen"
        ws.send_json({"type": "played", "event_id": call, "screen": "samsat"})
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
    assert set(played(api)) == {"samsat"}


def test_acknowledgements_are_kept_per_day(api: Api, clock: FakeClock, redis_url: str) -> None:
    """A day's acknowledgements expire in Redis after two days; the next day starts empty."""
    ack(api, "lobi", a_call(api))
    key = f"antrian:{{{api.site.id}}}:played:2026-11-25"
    assert 0 < redis.Redis.from_url(redis_url).ttl(key) <= 2 * 86400
    clock.advance(days=1)
    assert played(api) == {}


async def test_a_flood_of_acks_never_passes_the_cap(server_factory: Any, tmp_path: Path) -> None:
    """550 acks at once, 50 from known screens (10 in the config, 40 registered) and 500 from
    unknown ones, with a cap of 40 screens: exactly the 40 answered 200 are kept, the other
    known ones get 409 too_many_screens, every unknown one 404."""
    config = server_factory.config
    config.write_text(config.read_text() + "".join(
        f'\n[[screens]]\nid = "conf-{n}"\nname = "TV {n}"\n' for n in range(10)))
    server = server_factory(extra_env={"ANTRIAN_MAX_SCREENS": "40"})
    secret = load_secret(tmp_path)
    site_id = server_factory.site_id
    boss = {"Authorization": f"Bearer {admin_token(secret, site_id)}"}
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
        for n in range(40):
            r = await client.post("/api/screens", json={"id": f"reg-{n}"}, headers=boss)
            assert r.status_code == 201, r.text
        over = await client.post("/api/screens", json={"id": "reg-40"}, headers=boss)
        assert over.json()["error"]["code"] == "too_many_screens"
        assert (await client.post("/api/tickets", json={"service": "A"})).status_code == 201
        counter = {"Authorization": f"Bearer {counter_token(secret, site_id, 1)}"}
        call = (await client.post("/api/counters/1/call-next", headers=counter)).json()
        known = [f"conf-{n}" for n in range(10)] + [f"reg-{n}" for n in range(40)]
        unknown = [f"fake-{n}" for n in range(500)]
        screens = known + unknown
        answers = await asyncio.gather(*(
            client.post("/api/played", json={"event_id": call["event_id"], "screen": s})
            for s in screens))
        state = (await client.get("/api/state")).json()
    by_status = Counter(r.status_code for r in answers)
    assert by_status == {200: 40, 409: 10, 404: 500}
    accepted = {s for s, r in zip(screens, answers, strict=True) if r.status_code == 200}
    assert set(state["played"]) == accepted and accepted <= set(known)
