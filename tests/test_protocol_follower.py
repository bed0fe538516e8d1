"""protocol.follower: the follower's rules, then its link against a scripted WebSocket server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from conftest import eventually
from websockets.asyncio.server import ServerConnection, serve

from protocol.event_ids import event_key
from protocol.follower import Follower, Position, Verdict, stream_url


def event(event_id: str, kind: str = "call") -> dict[str, Any]:
    return {"type": kind, "event_id": event_id, "at": "2026-11-25T10:00:00+07:00"}


def beat(event_id: str | None = None) -> dict[str, Any]:
    return {"type": "heartbeat", "at": "2026-11-25T10:00:00+07:00"} | (
        {"event_id": event_id} if event_id else {})


def test_events_are_taken_once_and_in_order() -> None:
    """After the snapshot, each newer event is taken; repeats and older ones are dropped."""
    position = Position()
    assert position.take({"type": "snapshot", "event_id": "100-0"}) is Verdict.DELIVER
    assert position.take(event("100-1")) is Verdict.DELIVER
    assert position.take(event("100-1")) is Verdict.DROP
    assert position.take(event("99-5")) is Verdict.DROP
    assert position.take(event("101-0", "done")) is Verdict.DELIVER
    assert position.since == "101-0"


def test_ids_compare_as_numbers_not_text() -> None:
    """9-0 comes before 10-0, 10-2 after 10-10 is not: the order is numeric."""
    position = Position("9-0")
    assert position.take(event("10-0")) is Verdict.DELIVER
    assert position.take(event("10-10")) is Verdict.DELIVER
    assert position.take(event("10-2")) is Verdict.DROP


def test_event_keys_order_numerically() -> None:
    """Event ids compare as numbers, not text; anything else is refused."""
    assert event_key("9-0") < event_key("10-0") < event_key("10-2")
    with pytest.raises(ValueError, match="bad event id"):
        event_key("10")


def test_a_snapshot_is_the_new_base_even_when_older() -> None:
    """A resync snapshot (the server's stream started again) resets the position."""
    position = Position("500-0")
    resync = {"type": "snapshot", "resync": True, "event_id": "20-0"}
    assert position.take(resync) is Verdict.DELIVER
    assert position.since == "20-0"
    assert position.take(event("21-0")) is Verdict.DELIVER


def test_a_heartbeat_naming_an_unseen_event_is_a_gap() -> None:
    """A heartbeat carrying the last event taken (or none) is fine; a newer id is a gap, and
    the position stays where it was so the reconnect asks for what was missed."""
    position = Position("100-0")
    assert position.take(beat()) is Verdict.DELIVER
    assert position.take(beat("100-0")) is Verdict.DELIVER
    assert position.take(beat("99-0")) is Verdict.DELIVER
    assert position.take(beat("100-1")) is Verdict.GAP
    assert position.since == "100-0"


def test_answers_pass_and_malformed_events_are_dropped() -> None:
    """Pongs and errors have no place in the stream; an event without a valid id is dropped."""
    position = Position("5-0")
    assert position.take({"type": "pong"}) is Verdict.DELIVER
    assert position.take({"type": "error", "error": {"code": "x"}}) is Verdict.DELIVER
    assert position.take({"type": "call", "event_id": "6"}) is Verdict.DROP
    assert position.take({"type": "call"}) is Verdict.DROP
    assert position.since == "5-0"


def test_stream_url() -> None:
    """HTTP(S) base URLs become the WebSocket stream URL, with since when resuming."""
    assert stream_url("http://h:8000") == "ws://h:8000/ws/display"
    assert stream_url("https://h/", "5-1") == "wss://h/ws/display?since=5-1"
    assert stream_url("ws://h:1") == "ws://h:1/ws/display"
    with pytest.raises(ValueError, match="bad server URL"):
        stream_url("h:8000")


Script = Callable[[ServerConnection, int], Any]


@asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[tuple[str, list[str], list[Any]]]:
    """A WebSocket server playing `script(ws, n)` to its n-th connection; yields its base URL,
    the paths the follower asked for, and what the follower sent."""
    paths: list[str] = []
    received: list[Any] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        paths.append(ws.request.path)
        reader = asyncio.create_task(read(ws))
        try:
            await script(ws, len(paths))
        finally:
            reader.cancel()

    async def read(ws: ServerConnection) -> None:
        async for text in ws:
            received.append(json.loads(text))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}", paths, received


async def send(ws: ServerConnection, *messages: dict[str, Any]) -> None:
    for message in messages:
        await ws.send(json.dumps(message))


@asynccontextmanager
async def following(follower: Follower) -> AsyncIterator[None]:
    task = asyncio.create_task(follower.run())
    try:
        yield
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_gap_reconnects_with_since_and_gets_each_event_once() -> None:
    """A heartbeat naming an unseen event makes the follower reconnect with since; the replay's
    duplicate is dropped, and the callback sees every event once, in order."""

    async def script(ws: ServerConnection, n: int) -> None:
        if n == 1:
            await send(ws, {"type": "snapshot", "event_id": "1-0"}, event("2-0"), beat("3-0"))
        else:
            await send(ws, event("2-0"), event("3-0"), event("4-0"))
        await ws.wait_closed()

    seen: list[dict[str, Any]] = []
    async with scripted(script) as (url, paths, _):
        follower = Follower(url, seen.append)
        async with following(follower):
            await eventually(lambda: follower.since == "4-0")
    assert paths == ["/ws/display", "/ws/display?since=2-0"]
    assert [m.get("event_id") for m in seen if m["type"] != "heartbeat"] == [
        "1-0", "2-0", "3-0", "4-0"]


async def test_a_silent_link_is_dead_and_what_is_sent_goes_on_the_next() -> None:
    """No message within the heartbeat timeout: the link is down, the follower reconnects with
    since, and a message sent meanwhile reaches the server on the new link."""
    links: list[bool] = []

    async def script(ws: ServerConnection, n: int) -> None:
        if n == 1:
            await send(ws, {"type": "snapshot", "event_id": "7-0"})
            await ws.wait_closed()  # silent: no heartbeats
            return
        while True:
            await asyncio.sleep(0.05)
            await send(ws, beat())

    async with scripted(script) as (url, paths, received):
        follower = Follower(url, lambda message: None, links.append, heartbeat_timeout=0.3)
        async with following(follower):
            await eventually(lambda: len(links) >= 2)
            follower.send({"type": "played", "event_id": "7-0"})
            await eventually(lambda: received == [{"type": "played", "event_id": "7-0"}])
            assert links == [True, False, True]
    assert paths == ["/ws/display", "/ws/display?since=7-0"]
