"""WebSocket /ws/display against real server processes: snapshot, live events, replay, fan-out
across processes, and bad input."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Any

import httpx
import pytest
import websockets
from conftest import ServerProcess, eventually

from protocol.follower import Follower


async def receive(ws: Any, skip_heartbeats: bool = True) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if not (skip_heartbeats and message["type"] == "heartbeat"):
            return message


@pytest.fixture
def server(server_factory: Any) -> ServerProcess:
    return server_factory()  # type: ignore[no-any-return]


async def test_snapshot_first_then_each_event(server: Any) -> None:
    """The first message is the snapshot; a call then arrives with type, event_id and at."""
    server.api.ticket("A")
    async with websockets.connect(server.ws_url + "/ws/display") as ws:
        snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["waiting"]["A"] == 1 and len(snapshot["counters"]) == 29
        called = server.api.call(5)
        event = await receive(ws)
        assert event["type"] == "call"
        assert (event["ticket"], event["service"], event["counter"]) == ("A001", "A", 5)
        assert event["event_id"] == called["event_id"] and event["at"]
        assert event["waiting"] == {"A": 0}


async def test_reconnect_with_since_replays_missed_events_in_order(server: Any) -> None:
    """Events caused while a screen was away arrive, in order, when it comes back with since."""
    async with websockets.connect(server.ws_url + "/ws/display") as ws:
        last = (await receive(ws))["event_id"]
    for _ in range(5):
        server.api.ticket("A")
    calls = [server.api.call(n)["ticket"]["code"] for n in (1, 2, 3)]
    async with websockets.connect(f"{server.ws_url}/ws/display?since={last}") as ws:
        missed = [await receive(ws) for _ in range(8)]
        assert [m["type"] for m in missed] == ["ticket"] * 5 + ["call"] * 3
        assert [m["ticket"] for m in missed[5:]] == calls
        ids = [m["event_id"] for m in missed]
        assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
        server.api.ticket("B")
        live = await receive(ws)
        assert live["type"] == "ticket" and live["ticket"] == "B001"


async def test_since_older_than_the_stream_gets_a_fresh_snapshot(server_factory: Any) -> None:
    """When the missed events were trimmed away, the client gets a snapshot flagged resync."""
    server = server_factory(extra_env={"ANTRIAN_STREAM_MAXLEN": "10"})
    async with websockets.connect(server.ws_url + "/ws/display") as ws:
        first = (await receive(ws))["event_id"]
    server.api.ticket("A")
    since = server.api.state()["event_id"]
    for _ in range(300):
        server.api.ticket("B")
    async with websockets.connect(f"{server.ws_url}/ws/display?since={since}") as ws:
        message = await receive(ws)
        assert message["type"] == "snapshot" and message["resync"] is True
        assert message["waiting"]["B"] == 300
    assert first != since


async def test_since_before_an_untrimmed_streams_first_event_gets_a_fresh_snapshot(
        server_factory: Any) -> None:
    """An id older than the site's first event, on a stream never trimmed, is none the stream
    gave out (another site's on a shared Redis, a stream from before a Redis restart): a fresh
    snapshot, not a replay of every event as if they came after it. 0-0, the snapshot's id of a
    site without events, still replays them."""
    server = server_factory()
    issued = server.api.ticket("A")["event_id"]
    async with websockets.connect(f"{server.ws_url}/ws/display?since=0-0") as ws:
        replayed = await receive(ws)
        assert (replayed["type"], replayed["event_id"]) == ("ticket", issued)
    async with websockets.connect(f"{server.ws_url}/ws/display?since=1-1") as ws:
        message = await receive(ws)
        assert message["type"] == "snapshot" and message.get("resync") is True, message
        assert message["event_id"] == issued and message["waiting"]["A"] == 1


async def test_second_process_delivers_events_caused_on_the_first(server: Any,
                                                                   server_factory: Any) -> None:
    """A call handled by one server process reaches screens connected to another."""
    other = server_factory()
    server.api.ticket("A")
    async with websockets.connect(other.ws_url + "/ws/display") as ws:
        await receive(ws)
        server.api.call(7)
        event = await receive(ws)
        assert (event["type"], event["ticket"], event["counter"]) == ("call", "A001", 7)


async def test_service_filter_only_delivers_those_services(server: Any) -> None:
    """?services=B shows B's events and counter events, not A's."""
    async with websockets.connect(server.ws_url + "/ws/display?services=B") as ws:
        snapshot = await receive(ws)
        assert set(snapshot["waiting"]) == {"B"}
        server.api.ticket("A")
        server.api.ticket("B")
        event = await receive(ws)
        assert (event["type"], event["ticket"]) == ("ticket", "B001")


@pytest.mark.parametrize("query", ["?since=garbage", "?since=1-2-3", "?services=ZZ",
                                   "?services=", "?profile=nope"])
async def test_bad_query_is_refused_with_400_and_error_body(server: Any, query: str) -> None:
    """A bad since/services/profile is an HTTP 400 with the contract's error body."""
    with pytest.raises(websockets.exceptions.InvalidStatus) as info:
        async with websockets.connect(server.ws_url + "/ws/display" + query):
            pass
    response = info.value.response
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["code"] == "invalid_parameter"


async def test_garbage_messages_get_an_error_and_the_link_stays(server: Any) -> None:
    """Non-JSON or unknown messages are answered with an error; ping still works after."""
    async with websockets.connect(server.ws_url + "/ws/display") as ws:
        await receive(ws)
        for junk in ["not json", "[1,2]", '{"type":"hack"}', '{"type":"played"}', "{" * 5000,
                     b"\x00\x01binary", '{"type": ' + "9" * 5000 + "}",
                     '{"type": "ping\\ud800"}',
                     '{"type": "played", "event_id": "18446744073709551616-0", "screen": "tv"}']:
            await ws.send(junk)
            reply = await receive(ws)
            assert reply["type"] == "error" and reply["error"]["code"] in (
                "invalid_json", "invalid_body")
        await ws.send('{"type":"ping"}')
        assert (await receive(ws))["type"] == "pong"


async def test_played_acknowledgement_is_visible_in_state(server: Any) -> None:
    """A registered screen's played report of a call shows in /api/state under played."""
    server.api.register_screen("tv-lobby")
    server.api.ticket("A")
    call = server.api.call(1)["event_id"]
    async with websockets.connect(server.ws_url + "/ws/display") as ws:
        await receive(ws)
        await ws.send(json.dumps({"type": "played", "event_id": call, "screen": "tv-lobby"}))
        await ws.send('{"type":"ping"}')
        assert (await receive(ws))["type"] == "pong"
    played = server.api.state()["played"]
    assert played["tv-lobby"]["event_id"] == call


async def test_oversized_message_closes_the_connection(server: Any) -> None:
    """A message past the 64 KB frame limit closes the link (1009); the server keeps serving."""
    async with websockets.connect(server.ws_url + "/ws/display", max_size=None) as ws:
        await receive(ws)
        await ws.send("x" * 200_000)
        with pytest.raises(websockets.exceptions.ConnectionClosed) as info:
            await receive(ws)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009
    assert httpx.get(server.url + "/api/health").status_code == 200


async def test_server_heartbeat_lets_pages_see_the_link_is_alive(server_factory: Any) -> None:
    """With nothing happening, heartbeats (here every 0.2 s) keep the link of a follower that
    calls 1 s of silence a dead link up; a stopped server (SIGSTOP: the TCP link stays open)
    sends none, so the follower says the link is down, and up again once the server runs."""
    server = server_factory(extra_env={"ANTRIAN_HEARTBEAT_SECONDS": "0.2"})
    links: list[bool] = []
    beats: list[dict[str, Any]] = []
    follower = Follower(server.url, lambda m: beats.append(m) if m["type"] == "heartbeat" else None,
                        links.append, heartbeat_timeout=1.0, max_backoff=0.2)
    task = asyncio.create_task(follower.run())
    try:
        await eventually(lambda: len(beats) >= 10, "two seconds of heartbeats")
        assert links == [True]
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            await eventually(lambda: links == [True, False], "the link declared dead")
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        await eventually(lambda: links == [True, False, True], "the link back")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
