"""Many counters and a kiosk at once against a real server process: every ticket is called
exactly once, in order per service; a repeated request_id calls nobody else."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx

from display_server.tokens import counter_token, kiosk_token, load_secret


def seq_key(event_id: str) -> tuple[int, int]:
    ms, seq = event_id.split("-")
    return int(ms), int(seq)


async def test_29_counters_and_2000_tickets(server_factory: Any, tmp_path: Path) -> None:
    """29 counters call in parallel while the kiosk issues 2,000 tickets: none lost, none
    called twice, and each service's tickets are called in the order they were issued."""
    server = server_factory()
    secret = load_secret(tmp_path)
    issued: list[str] = []
    calls: list[tuple[str, str, str]] = []  # (event_id, code, service)
    kiosk_done = asyncio.Event()
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:

        kiosk_auth = {"Authorization": f"Bearer {kiosk_token(secret, server_factory.site_id)}"}

        async def kiosk(worker: int) -> None:
            for i in range(250):
                service = "AB"[(worker + i) % 2]
                r = await client.post("/api/tickets", json={"service": service},
                                      headers=kiosk_auth)
                assert r.status_code == 201, r.text
                issued.append(r.json()["code"])

        async def counter(n: int) -> None:
            token = counter_token(secret, server_factory.site_id, n)
            headers = {"Authorization": f"Bearer {token}"}
            while True:
                r = await client.post(f"/api/counters/{n}/call-next", headers=headers)
                assert r.status_code == 200, r.text
                ticket = r.json()["ticket"]
                if ticket is not None:
                    calls.append((r.json()["event_id"], ticket["code"], ticket["service"]))
                elif kiosk_done.is_set():
                    return
                else:
                    await asyncio.sleep(0.005)

        async def issue_all() -> None:
            await asyncio.gather(*(kiosk(w) for w in range(8)))
            kiosk_done.set()

        await asyncio.gather(issue_all(), *(counter(n) for n in range(1, 30)))

    assert len(issued) == 2000 and len(set(issued)) == 2000
    called = [code for _, code, _ in calls]
    assert len(called) == len(set(called)), "a ticket was called twice"
    assert sorted(called) == sorted(issued), "a ticket was lost"
    for service in "AB":
        in_call_order = [code for _, code, s in sorted(calls, key=lambda c: seq_key(c[0]))
                         if s == service]
        assert in_call_order == sorted(in_call_order, key=lambda c: int(c[1:]))
        assert len(in_call_order) == 1000


async def test_same_request_id_twice_and_concurrently_calls_one_ticket(
    server_factory: Any, tmp_path: Path
) -> None:
    """A retried or duplicated request_id returns the same answer and calls nobody else."""
    server = server_factory()
    token = counter_token(load_secret(tmp_path), server_factory.site_id, 3)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url) as client:
        for _ in range(5):
            await client.post("/api/tickets", json={"service": "A"})
        rid = uuid.uuid4().hex
        first = await client.post("/api/counters/3/call-next", json={"request_id": rid},
                                  headers=headers)
        again = await client.post("/api/counters/3/call-next", json={"request_id": rid},
                                  headers=headers)
        assert first.json() == again.json()
        assert first.json()["ticket"]["code"] == "A001"
        rid2 = uuid.uuid4().hex
        answers = await asyncio.gather(*(
            client.post("/api/counters/3/call-next", json={"request_id": rid2}, headers=headers)
            for _ in range(10)
        ))
        assert {r.json()["ticket"]["code"] for r in answers} == {"A002"}
        state = (await client.get("/api/state")).json()
        assert state["waiting"]["A"] == 3
        events = [r for r in state["recent"] if r["counter"] == 3]
        assert [r["ticket"] for r in events] == ["A002", "A001"]


async def test_kiosk_request_id_issues_one_ticket(server_factory: Any) -> None:
    """A kiosk retry with the same request_id gets the same ticket, not a second one."""
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.url) as client:
        body = {"service": "B", "request_id": "kiosk-1-" + uuid.uuid4().hex}
        answers = await asyncio.gather(*(client.post("/api/tickets", json=body)
                                         for _ in range(5)))
        assert {r.json()["code"] for r in answers} == {"B001"}
        assert (await client.get("/api/state")).json()["waiting"]["B"] == 1
