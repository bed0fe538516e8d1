"""Reconnect storms and bad stream entries against one real `antrian serve` process: every
screen gets its snapshot, every concurrent read answers, and calls keep flowing.

These run in CI (./dev test) like every other test; times are generous bounds, not targets
(bench/storm.py measures those)."""

from __future__ import annotations

import asyncio
import json
import resource
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets
from conftest import wait_until

from display_server.keys import SiteKeys
from display_server.tokens import counter_token, load_secret

SCREENS = 1000
READS = 400
# one test process stands for a hall of TVs: lift the per-address connection cap for it
MANY_FROM_ONE_ADDRESS = {"ANTRIAN_MAX_CONNECTIONS_PER_CLIENT": "5000"}


@pytest.fixture(autouse=True)
def enough_file_descriptors() -> None:
    """1,000 sockets on each side: raise the soft limit to the hard one (the server inherits)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def open_screen(url: str) -> tuple[Any, dict[str, Any]]:
    ws = await websockets.connect(url, open_timeout=120, ping_interval=None, max_size=None)
    return ws, json.loads(await ws.recv())


async def next_call(ws: Any) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        if message["type"] == "call":
            return message


def call(server: Any, data_dir: Path, site_id: str, counter: int) -> dict[str, Any]:
    token = counter_token(load_secret(data_dir), site_id, counter)
    r = httpx.post(f"{server.url}/api/counters/{counter}/call-next",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


async def test_a_thousand_screens_connecting_at_once_all_get_their_snapshot(
        server_factory: Any, tmp_path: Path) -> None:
    """What every TV does after a server restart: none refused or closed, each gets the
    snapshot first, and then the next call."""
    server = server_factory(extra_env=MANY_FROM_ONE_ADDRESS)
    assert httpx.post(server.url + "/api/tickets", json={"service": "A"}).status_code == 201
    url = server.ws_url + "/ws/display"
    opened = await asyncio.wait_for(
        asyncio.gather(*(open_screen(url) for _ in range(SCREENS)), return_exceptions=True), 120)
    failed = [r for r in opened if isinstance(r, BaseException)]
    assert not failed, f"{len(failed)} screens failed, e.g. {failed[0]!r}"
    screens = [ws for ws, _ in opened]  # type: ignore[misc]
    try:
        firsts = [first for _, first in opened]  # type: ignore[misc]
        assert all(f["type"] == "snapshot" and f["waiting"]["A"] == 1 for f in firsts)
        called = call(server, tmp_path, server_factory.site_id, 1)
        got = await asyncio.wait_for(asyncio.gather(*(next_call(ws) for ws in screens)), 120)
        assert {g["event_id"] for g in got} == {called["event_id"]}
    finally:
        await asyncio.gather(*(ws.close() for ws in screens), return_exceptions=True)


async def test_four_hundred_concurrent_state_reads_all_answer(server_factory: Any) -> None:
    server = server_factory(extra_env=MANY_FROM_ONE_ADDRESS)
    limits = httpx.Limits(max_connections=READS, max_keepalive_connections=READS)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=120) as client:
        answers = await asyncio.gather(*(client.get("/api/state") for _ in range(READS)))
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * READS, {s: statuses.count(s) for s in set(statuses)}
    assert all(len(a.json()["counters"]) == 29 for a in answers)


async def test_a_malformed_stream_entry_is_skipped_and_logged(
        server_factory: Any, tmp_path: Path, redis_url: str) -> None:
    """Entries the scripts never write (no `d` field, `d` not JSON) are skipped by the live
    fan-out and by a reconnecting screen's replay; the server log names them."""
    server = server_factory()
    events_key = SiteKeys(server_factory.site_id)("events")
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    assert httpx.post(server.url + "/api/tickets", json={"service": "A"}).status_code == 201
    async with websockets.connect(server.ws_url + "/ws/display") as ws:
        snapshot = json.loads(await ws.recv())
        no_d = raw.xadd(events_key, {"x": "1"})
        bad_json = raw.xadd(events_key, {"d": "{not json"})
        called = call(server, tmp_path, server_factory.site_id, 2)
        assert (await asyncio.wait_for(next_call(ws), 10))["event_id"] == called["event_id"]
    since = f"{server.ws_url}/ws/display?since={snapshot['event_id']}"
    async with websockets.connect(since) as ws:
        assert (await asyncio.wait_for(next_call(ws), 10))["event_id"] == called["event_id"]
    raw.close()
    wait_until(lambda: no_d in server.log.read_text() and bad_json in server.log.read_text(),
               what="the skipped entries in the server log")
    assert "malformed" in server.log.read_text()
