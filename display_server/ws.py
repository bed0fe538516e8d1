"""WebSocket /ws/display: a snapshot (or the missed events), then every event live."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from display_server import instruments
from display_server.api import SCREEN_ID, Context, screen_filter
from display_server.bodies import parse_json
from display_server.errors import ApiError
from display_server.fanout import FrameSink, Subscriber, text_frame
from display_server.guard import FRAME_SINK
from display_server.screens import acknowledge
from display_server.state import snapshot_view, wants
from protocol.event_ids import event_key, is_event_id
from texts import t

log = logging.getLogger("antrian.ws")
REPLAY_LIMIT = 2000
CLOSE_WAIT_S = 2.0  # a dropped fast-path screen's close frame waits this long, then it is cut


def _error(code: str, detail: str = "") -> str:
    return json.dumps({"type": "error", **ApiError(code, detail).body()})


async def _snapshot_message(c: Context, services: frozenset[str] | None,
                            resync: bool = False) -> tuple[str, str]:
    view = snapshot_view(c.site, c.clock, await c.store.snapshot(), services)
    message: dict[str, Any] = {"type": "snapshot", **view}
    if resync:
        message["resync"] = True
    return view["event_id"], json.dumps(message)


async def _start(ws: WebSocket, c: Context, services: frozenset[str] | None,
                 since: str | None) -> str:
    """Send the first messages; return the id of the last event they cover."""
    if since is not None:
        missed = await c.store.events_after(since, REPLAY_LIMIT)
        if missed is not None:
            for event in missed:
                if wants(services, json.loads(event.data)):
                    await ws.send_text(event.message())
            return missed[-1].id if missed else since
    last, message = await _snapshot_message(c, services, resync=since is not None)
    await ws.send_text(message)
    return last


async def _send_live(ws: WebSocket, sub: Subscriber, after: str) -> None:
    """Forward queued events newer than `after`; close when the subscriber was dropped."""
    floor: tuple[int, int] | None = event_key(after)
    while True:
        item = await sub.queue.get()
        if item is None:
            await ws.close(code=1013, reason=t("ws.too_slow"))
            return
        event_id, message = item
        if floor is not None and event_id:
            if event_key(event_id) <= floor:
                continue
            floor = None  # the queue is in stream order: every later event is newer too
        await ws.send_text(message)


async def _send_fast(ws: WebSocket, sub: Subscriber, after: str, sink: FrameSink,
                     read_up_to: Callable[[], str]) -> None:
    """The fast path: the events queued since subscribing and newer than `after` are written
    as one batch, then the fan-out writes each event's frame to the connection itself (no await
    in between, so nothing is missed or reordered). It switches only once its process's
    follower has read past `after` (`read_up_to`: the id of the last event it read), or a newer
    event came through the queue: a follower behind the stream (a process just started, or a
    read in flight) would otherwise write again events the first messages already covered (a
    screen resuming with `since` got its `since` event twice). This task then waits for a
    drop, and closes."""
    floor: tuple[int, int] | None = event_key(after)
    backlog: list[bytes] = []

    def take(item: tuple[str, str] | None) -> bool:
        """Add a queued message to the backlog unless the first messages covered it; False
        when the screen was dropped."""
        nonlocal floor
        if item is None:
            return False
        event_id, message = item
        if floor is not None and event_id:  # a heartbeat ("") says nothing of the order
            if event_key(event_id) <= floor:
                return True
            floor = None  # the queue is in stream order: every later event is newer too
        backlog.append(text_frame(message))
        return True

    def read_past() -> bool:
        last = read_up_to()
        return floor is None or (is_event_id(last) and event_key(last) >= floor)

    alive = True
    while alive:
        while alive and not sub.queue.empty():
            alive = take(sub.queue.get_nowait())
        if not alive or read_past():
            break
        alive = take(await sub.queue.get())  # the follower reads on: its events come here
    if alive:
        sub.attach(sink, b"".join(backlog))
    else:
        sub.queue.put_nowait(None)
    if await sub.queue.get() is None:
        try:
            await asyncio.wait_for(ws.close(code=1013, reason=t("ws.too_slow")), CLOSE_WAIT_S)
        except TimeoutError:
            sink.abort()  # it reads nothing: not even the close frame gets through


async def _receive(ws: WebSocket, c: Context, sub: Subscriber) -> None:
    """Answer the client's messages: ping, played acknowledgements (a client that sends one is
    an announcer for /metrics); anything else is an error."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("text") is None:
            await ws.send_text(_error("invalid_body", t("ws.send_json_text")))
            continue
        try:
            data = parse_json(message["text"])
        except ApiError as exc:
            await ws.send_text(json.dumps({"type": "error", **exc.body()}))
            continue
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "ping":
            await ws.send_text('{"type":"pong"}')
        elif kind == "played" and _valid_ack(data):
            try:
                await acknowledge(c, data["screen"], data["event_id"], data.get("dropped") is True)
            except ApiError as exc:
                await ws.send_text(json.dumps({"type": "error", **exc.body()}))
            else:
                sub.announcer = True
                instruments.of(ws.app).played(data.get("dropped") is True)
        else:
            await ws.send_text(_error("invalid_body", "type: ping | played"))


def _valid_ack(data: dict[str, Any]) -> bool:
    event_id, screen = data.get("event_id"), data.get("screen")
    if not isinstance(data.get("dropped", False), bool):
        return False
    return (isinstance(event_id, str) and is_event_id(event_id)
            and isinstance(screen, str) and bool(SCREEN_ID.fullmatch(screen)))


async def display(ws: WebSocket) -> None:
    c: Context = ws.app.state.ctx
    fanout = c.fanout
    try:
        services = screen_filter(c.site, ws.query_params)
        since = ws.query_params.get("since")
        if since is not None and not is_event_id(since):
            raise ApiError("invalid_parameter", "since")
    except ApiError as exc:
        await ws.send_denial_response(exc.response())
        return
    # Subscribe before reading the snapshot (or the missed events): every event after it is
    # queued, and _send_live drops the queued ones the first messages already covered. The
    # snapshot read is shared with other screens, but never one begun before this call.
    sub = fanout.subscribe(services)
    try:
        await ws.accept()
        after = await _start(ws, c, services, since)
        sink: FrameSink | None = (ws.scope.get("extensions") or {}).get(FRAME_SINK)
        sender = asyncio.create_task(
            _send_live(ws, sub, after) if sink is None or not c.settings.fanout_fast
            else _send_fast(ws, sub, after, sink, lambda: fanout.last_id))
        receiver = asyncio.create_task(_receive(ws, c, sub))
        done, pending = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            task.result()
    except (WebSocketDisconnect, RuntimeError):
        pass
    except RedisError as exc:
        log.warning("closing a screen: Redis unavailable (%s)", exc)
        await _close(ws, 1011)
    finally:
        fanout.unsubscribe(sub)


async def _close(ws: WebSocket, code: int) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await ws.close(code=code)


routes = [WebSocketRoute("/ws/display", display)]
