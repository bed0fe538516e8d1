"""The supervised events follower: it is restarted when killed, survives read errors, and
/api/health says whether screens are getting calls."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import redis
from conftest import Api, wait_until

from display_server.fanout import Fanout
from display_server.keys import SiteKeys


def fanout_of(api: Api) -> Fanout:
    follower: Fanout = api.client.app.state.ctx.fanout
    return follower


def next_call(ws: Any) -> dict[str, Any]:
    """The next call message on a screen (heartbeats and other events skipped)."""
    while True:
        message: dict[str, Any] = json.loads(ws.receive_text())
        if message["type"] == "call":
            return message


def test_health_reports_the_follower(api: Api) -> None:
    """While all is well: 200 with status ok and the follower following, no lag, and the id
    of the last event it sent to screens."""
    api.issue("A")
    called = api.act(1, "call-next").json()
    wait_until(lambda: fanout_of(api).last_id == called["event_id"], what="follower")
    r = api.client.get("/api/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok" and body["redis"] == "ok"
    fanout = body["fanout"]
    assert fanout["following"] is True and fanout["restarts"] == 0
    assert fanout["lag"] == 0 and fanout["last_event_id"] == called["event_id"]


def test_a_killed_follower_is_restarted_and_health_says_so_meanwhile(api: Api) -> None:
    fanout = fanout_of(api)
    fanout.restart_s = 2.0  # the window in which health must report it

    async def kill() -> None:
        assert fanout.follower is not None
        fanout.follower.cancel()
        await asyncio.wait([fanout.follower])

    with api.client.websocket_connect("/ws/display") as ws:
        assert json.loads(ws.receive_text())["type"] == "snapshot"
        api.client.portal.call(kill)
        r = api.client.get("/api/health")
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "fanout_stopped"
        assert "berhenti" in r.json()["error"]["message"]
        assert r.json()["fanout"]["following"] is False

        wait_until(lambda: api.client.get("/api/health").status_code == 200,
                   what="follower restarted")
        assert api.client.get("/api/health").json()["fanout"]["restarts"] == 1
        api.issue("B")
        assert api.act(2, "call-next").status_code == 200
        assert next_call(ws)["ticket"] == "B001"


def test_read_errors_are_survived_and_reported(api: Api, redis_url: str) -> None:
    """A stream the follower cannot read (here: its key holds a string) makes health 503 while
    it lasts; once readable again the follower carries on and the next call is delivered."""
    fanout = fanout_of(api)
    fanout.retry_s = 0.05
    events_key = SiteKeys(api.site.id)("events")
    raw = redis.Redis.from_url(redis_url)
    fanout.block_ms = 50
    before = fanout.last_id
    api.issue("A")  # ends the follower's current (long) read; the next ones are short
    wait_until(lambda: fanout.last_id != before, what="the follower's read")
    with api.client.websocket_connect("/ws/display") as ws:
        assert json.loads(ws.receive_text())["type"] == "snapshot"
        raw.set(events_key, "not a stream")
        wait_until(lambda: fanout.state.errors > 0, what="a failed read")
        r = api.client.get("/api/health")
        assert r.status_code == 503, r.text
        assert "gagal membaca" in r.json()["error"]["message"]

        raw.delete(events_key)
        wait_until(lambda: api.client.get("/api/health").status_code == 200, what="recovery")
        assert fanout.state.restarts == 0  # it survived: nothing had to restart it
        assert api.act(3, "call-next").status_code == 200
        assert next_call(ws)["ticket"] == "A001"
    raw.close()
