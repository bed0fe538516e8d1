"""The pages' follower (common.js LiveLink) on the lobby TV page, its WebSocket played by the test:
duplicates after a reconnect and older events are dropped, a heartbeat naming an unseen event
makes it resync with since."""
# ruff: noqa: F811  (pytest fixtures imported from test_pages_support are parameters here)

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from conftest import wait_until
from playwright.sync_api import Page, WebSocketRoute
from test_pages_support import Live, browser, live, make_page, text, wait_text  # noqa: F401

DISPLAY = "/display?mute=1&hold=400&retry_max=1000&screen=uji"

Script = Callable[[WebSocketRoute, int], None]


def scripted(page: Page, live: Live, script: Script) -> list[str]:
    """Open the TV with its /ws/display played by `script(ws, n)` for the n-th connection;
    returns the URLs the page connected to."""
    urls: list[str] = []

    def connect(ws: WebSocketRoute) -> None:
        urls.append(ws.url)
        script(ws, len(urls))

    page.route_web_socket("**/ws/display*", connect)
    page.goto(live.url + DISPLAY)
    return urls


def snapshot(live: Live) -> dict[str, Any]:
    state: dict[str, Any] = httpx.get(live.url + "/api/state").json()
    return {"type": "snapshot", **state, "event_id": "1000-0"}


def call(event_id: str, ticket: str, counter: int) -> str:
    return json.dumps({"type": "call", "event_id": event_id, "ticket": ticket, "service": "A",
                       "counter": counter, "at": "2026-11-25T10:00:00+07:00", "waiting": {}})


def recent(page: Page) -> list[str]:
    codes: list[str] = page.eval_on_selector_all(
        "#recent li:not([hidden]) .r-code", "nodes => nodes.map(n => n.textContent)")
    return codes


def test_a_reconnect_resumes_with_since_and_drops_what_it_saw(live: Live, make_page: Any) -> None:
    """After a lost link the page asks for since=<last event>; the replay's repeat and an older
    event are not shown again, the new call is."""
    first = snapshot(live)

    def script(ws: WebSocketRoute, n: int) -> None:
        if n == 1:
            ws.send(json.dumps(first))
            ws.send(call("1000-1", "A001", 1))
            ws.close()
        else:
            ws.send(call("1000-1", "A001", 1))
            ws.send(call("999-9", "A000", 3))
            ws.send(call("1000-2", "A002", 2))

    page = make_page()
    urls = scripted(page, live, script)
    wait_text(page, '.tile[data-counter="2"] .tile-code', "A002")
    assert recent(page) == ["A002", "A001"]
    assert text(page, '.tile[data-counter="3"] .tile-code') != "A000"
    assert len(urls) == 2 and "since" not in urls[0] and urls[1].endswith("?since=1000-1")


def test_a_heartbeat_naming_an_unseen_event_resyncs(live: Live, make_page: Any) -> None:
    """A heartbeat whose id is after the last event shown means one was missed: the page
    reconnects at once with since and shows what the server replays."""
    first = snapshot(live)

    def script(ws: WebSocketRoute, n: int) -> None:
        if n == 1:
            ws.send(json.dumps(first))
            ws.send(json.dumps({"type": "heartbeat", "at": first["now"], "event_id": "1000-0"}))
            ws.send(json.dumps({"type": "heartbeat", "at": first["now"], "event_id": "1000-5"}))
        else:
            ws.send(call("1000-5", "A001", 4))

    page = make_page()
    urls = scripted(page, live, script)
    wait_text(page, '.tile[data-counter="4"] .tile-code', "A001")
    wait_until(lambda: len(urls) == 2, what="the resync")
    assert "since=1000-0" in urls[1]
