"""The per-process fan-out: bounded queues per screen, slow screens dropped, filters, beats."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from conftest import WEDNESDAY_10AM, make_site

from display_server.fanout import HEARTBEAT_SLICES, Fanout, Subscriber
from display_server.store import Event


def event(i: int, **fields: Any) -> Event:
    return Event(f"{1000 + i}-0", json.dumps({"type": "call", "at": "x", **fields}))


def fanout() -> Fanout:
    site = make_site()
    return Fanout(store=None, site=site, clock=lambda: WEDNESDAY_10AM,  # type: ignore[arg-type]
                  heartbeat_s=0.01)


async def test_a_full_queue_drops_only_that_screen() -> None:
    """A screen that stops reading is dropped (its sender gets None); others get everything."""
    f = fanout()
    slow = f.subscribe(None, maxsize=5)
    fast = f.subscribe(None, maxsize=100)
    f.publish([event(i, service="A") for i in range(20)])
    assert slow.dropped and slow.queue.qsize() == 1 and slow.queue.get_nowait() is None
    assert [fast.queue.get_nowait()[0] for _ in range(20)] == [f"{1000 + i}-0" for i in range(20)]
    assert f.last_id == "1019-0"


async def test_messages_carry_the_event_id_first() -> None:
    """Each message is the event's JSON with its stream id as event_id."""
    f = fanout()
    sub = f.subscribe(None)
    f.publish([event(1, service="A", ticket="A001", counter=5)])
    event_id, message = sub.queue.get_nowait()  # type: ignore[misc]
    assert json.loads(message) == {"event_id": event_id, "type": "call", "at": "x",
                                   "service": "A", "ticket": "A001", "counter": 5}


async def test_service_filter_and_counter_events() -> None:
    """A B-only screen gets B's events, transfers into or out of B, and counter events."""
    f = fanout()
    sub = f.subscribe(frozenset({"B"}))
    f.publish([event(1, service="A"), event(2, service="B"), event(3, service="A", **{"from": "B"}),
               Event("1004-0", json.dumps({"type": "pause", "counter": 2}))])
    got = [sub.queue.get_nowait()[0] for _ in range(sub.queue.qsize())]  # type: ignore[index]
    assert got == ["1002-0", "1003-0", "1004-0"]


async def test_heartbeats_carry_the_last_event_each_screen_was_sent() -> None:
    """Every subscriber gets heartbeats with the id of the last event sent to it (none before
    the first): a screen following B only is not told of A's later events, so it can check
    that it saw everything meant for it."""
    f = fanout()
    everything, only_b = f.subscribe(None), f.subscribe(frozenset({"B"}))
    f.publish([event(6, service="B"), event(7, service="A")])
    fresh = f.subscribe(None)
    for sub in (everything, only_b):
        while not sub.queue.empty():
            sub.queue.get_nowait()
    beat = asyncio.create_task(f.beat())
    await asyncio.sleep(0.05)
    beat.cancel()
    beats = [json.loads(sub.queue.get_nowait()[1])  # type: ignore[index]
             for sub in (everything, only_b, fresh)]
    assert all(b["type"] == "heartbeat" and b["at"] == "2026-11-25T10:00:00+07:00" for b in beats)
    assert [b.get("event_id") for b in beats] == ["1007-0", "1006-0", None]


def test_heartbeats_go_out_a_slice_at_a_time_and_reach_every_screen_once_a_period() -> None:
    """The beat sends each tenth of the period to a tenth of the screens: over one period
    (the ten slices) every screen gets exactly one heartbeat, and no slice goes to more than
    a tenth of them (1,000 screens never all at once, in front of a call)."""
    f = fanout()
    subs = [f.subscribe(None) for _ in range(95)]
    sizes = []
    for slot in range(HEARTBEAT_SLICES):
        f.heartbeat(slot)
        sizes.append(sum(sub.queue.qsize() for sub in subs) - sum(sizes))
    assert [sub.queue.qsize() for sub in subs] == [1] * len(subs)
    assert max(sizes) == 10 and sum(sizes) == 95
    f.heartbeat()  # every screen, whatever its slice
    assert [sub.queue.qsize() for sub in subs] == [2] * len(subs)


def test_unsubscribed_screens_get_nothing() -> None:
    """After unsubscribe a screen's queue is no longer fed."""
    f = fanout()
    sub: Subscriber = f.subscribe(None)
    f.unsubscribe(sub)
    f.publish([event(1, service="A")])
    assert sub.queue.empty()


def test_an_event_that_cannot_be_sent_is_skipped_and_the_rest_go_out(
        caplog: pytest.LogCaptureFixture) -> None:
    """A bad event (here: not JSON) is logged and skipped; the follower's position moves past
    it, and the next events still go out."""
    f = fanout()
    sub = f.subscribe(None)
    f.publish([event(1, service="A"), Event("1002-0", "{broken"), event(3, service="A")])
    got = [sub.queue.get_nowait()[0] for _ in range(sub.queue.qsize())]  # type: ignore[index]
    assert got == ["1001-0", "1003-0"]
    assert f.last_id == "1003-0" and f.state.errors == 1
    assert "1002-0" in caplog.text
