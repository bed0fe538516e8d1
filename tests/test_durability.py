"""Nothing is lost across crashes: kill -9 of the server mid-load, a stop and restart of the
supervised Redis (AOF), and Redis going away and coming back."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from conftest import RedisServer, ServerProcess, eventually, wait_until, write_site

from display_server.tokens import counter_token, kiosk_token, load_secret
from protocol.follower import Follower


async def retrying(client: httpx.AsyncClient, path: str, body: dict[str, Any],
                   headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST until the server answers, reusing the request_id: what a careful client does."""
    body = {**body, "request_id": uuid.uuid4().hex}
    for _ in range(600):
        try:
            r = await client.post(path, json=body, headers=headers)
        except httpx.TransportError:
            await asyncio.sleep(0.05)
            continue
        if r.status_code == 503:
            await asyncio.sleep(0.05)
            continue
        assert r.status_code in (200, 201), r.text
        answer: dict[str, Any] = r.json()
        return answer
    raise AssertionError(f"{path} never succeeded")


async def test_kill_9_mid_load_loses_and_duplicates_nothing(server_factory: Any,
                                                            tmp_path: Path) -> None:
    """Kill the server hard while a kiosk and five counters work; restart it on the same Redis:
    every ticket number is issued once, and every ticket is called exactly once."""
    server = server_factory()
    secret = load_secret(tmp_path)
    issued: list[str] = []
    called: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:

        kiosk_auth = {"Authorization": f"Bearer {kiosk_token(secret, server_factory.site_id)}"}

        async def kiosk() -> None:
            for _ in range(300):
                issued.append((await retrying(client, "/api/tickets", {"service": "A"},
                                              kiosk_auth))["code"])

        async def counter(n: int) -> None:
            token = counter_token(secret, server_factory.site_id, n)
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(60):
                ticket = (await retrying(client, f"/api/counters/{n}/call-next", {},
                                         headers))["ticket"]
                if ticket:
                    called.append(ticket["code"])
                await asyncio.sleep(0.002)

        async def crash() -> None:
            while len(issued) < 100:
                await asyncio.sleep(0.01)
            await asyncio.to_thread(server.kill)
            await asyncio.to_thread(server.start)

        await asyncio.gather(kiosk(), crash(), *(counter(n) for n in range(1, 6)))
        headers = {"Authorization": f"Bearer {counter_token(secret, server_factory.site_id, 1)}"}
        while ticket := (await retrying(client, "/api/counters/1/call-next", {},
                                        headers))["ticket"]:
            called.append(ticket["code"])

    assert issued == [f"A{i:03d}" for i in range(1, 301)]
    assert len(called) == len(set(called)) == 300
    assert sorted(called) == issued


def test_supervised_redis_keeps_state_across_restarts(tmp_path: Path) -> None:
    """`antrian serve` without a Redis URL runs its own Redis with AOF: after a stop and start
    the numbering and the queue go on; when that Redis is killed, it is restarted."""
    data = Path(f"/tmp/antrian-aof-{uuid.uuid4().hex[:8]}")  # short: a unix socket lives here
    data.mkdir()
    config = write_site(tmp_path / "site.toml", "aof-" + uuid.uuid4().hex[:6])
    server = ServerProcess(config, None, data)
    try:
        server.start()
        for _ in range(3):
            assert httpx.post(server.url + "/api/tickets", json={"service": "A"}).status_code == 201
        server.stop()
        assert not (data / "redis" / "redis.sock").exists(), "Redis was not stopped with serve"
        server.start()
        assert httpx.get(server.url + "/api/state").json()["waiting"]["A"] == 3
        r = httpx.post(server.url + "/api/tickets", json={"service": "A"})
        assert r.json()["code"] == "A004"
        pid = redis.Redis(unix_socket_path=str(data / "redis" / "redis.sock")).info()["process_id"]
        time.sleep(1.2)  # the AOF is fsynced every second
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: httpx.get(server.url + "/api/health").status_code == 200 and
                   redis.Redis(unix_socket_path=str(data / "redis" / "redis.sock"))
                   .info()["process_id"] != pid, what="Redis restarted by its supervisor")
        assert httpx.get(server.url + "/api/state").json()["waiting"]["A"] == 4
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


async def test_redis_down_is_503_and_the_server_recovers(tmp_path: Path) -> None:
    """With Redis gone, the API answers 503 with the error body and keeps running; when Redis
    is back, it works again by itself, and screens get the events made after: one open all
    along, and one that started while Redis was down."""
    own = RedisServer(tmp_path / "redis", appendonly=True).start()
    config = write_site(tmp_path / "site.toml", "down-" + uuid.uuid4().hex[:6])
    server = ServerProcess(config, own.url, tmp_path).start()
    seen: dict[str, list[dict[str, Any]]] = {"open": [], "opened_during": []}
    links: list[bool] = []
    screens = {name: Follower(server.url, messages.append, links.append, max_backoff=0.5)
               for name, messages in seen.items()}
    tasks = [asyncio.create_task(screens["open"].run())]
    try:
        assert httpx.post(server.url + "/api/tickets", json={"service": "A"}).status_code == 201
        await eventually(lambda: screens["open"].since is not None, "the open screen's snapshot")
        own.stop()
        health = httpx.get(server.url + "/api/health")
        assert health.status_code == 503
        assert health.json()["error"]["code"] == "redis_unavailable"
        r = httpx.post(server.url + "/api/tickets", json={"service": "A"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "redis_unavailable"
        links.clear()
        tasks.append(asyncio.create_task(screens["opened_during"].run()))
        await eventually(lambda: False in links, "the new screen refused")
        assert seen["opened_during"] == []
        own.start()
        await asyncio.to_thread(
            wait_until, lambda: httpx.get(server.url + "/api/health").status_code == 200,
            what="recovery")
        r = httpx.post(server.url + "/api/tickets", json={"service": "A"})
        assert r.status_code == 201 and r.json()["code"] == "A002"
        await eventually(lambda: all(any(m.get("ticket") == "A002" for m in messages)
                                     for messages in seen.values()), "A002 on both screens")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        server.stop()
        own.stop()


@pytest.fixture(autouse=True)
def _no_env_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTRIAN_REDIS_URL", raising=False)
