"""The fan-out's fast path: each event's frame encoded once and written to the screens'
transports. Same messages, in the same order, as the ordinary send path; a screen that stops
reading is dropped without holding the others back."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import pytest
import websockets
from conftest import WEDNESDAY_10AM, eventually, make_site
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from display_server import ws as display_ws
from display_server.fanout import Fanout, Subscriber, text_frame
from display_server.store import Event


class Received(asyncio.Protocol):
    """The screen's end of a socket: collects the bytes it is sent (when reading)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def data_received(self, data: bytes) -> None:
        self.data.extend(data)


class TransportSink:
    """The server's end: a real asyncio transport as the fan-out's frame sink."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self.transport = transport

    def frames_writable(self) -> bool:
        return not self.transport.is_closing()

    def write_frames(self, data: bytes) -> None:
        self.transport.write(data)

    def write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size()

    def abort(self) -> None:
        self.transport.abort()


async def link(read: bool) -> tuple[TransportSink, Received, asyncio.Transport]:
    """A connected socket pair on the loop; the screen's side paused when it does not read."""
    loop = asyncio.get_running_loop()
    server_sock, screen_sock = socket.socketpair()
    server_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    screen_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    server_transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, server_sock)
    received = Received()
    screen_transport, _ = await loop.connect_accepted_socket(lambda: received, screen_sock)
    if not read:
        screen_transport.pause_reading()
    return TransportSink(server_transport), received, screen_transport


def messages(data: bytes) -> list[str]:
    """Parse server frames (unmasked text frames) the way a client does."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    out: list[str] = []
    while True:
        try:
            next(parser)
        except StopIteration as done:
            frame: Frame = done.value
            assert frame.opcode is Opcode.TEXT and frame.fin
            out.append(frame.data.decode())
            parser = Frame.parse(reader.read_exact, mask=False)
        except EOFError:
            return out


def event(i: int, service: str = "A") -> Event:
    return Event(f"{1000 + i}-0", json.dumps({"type": "call", "at": "x", "service": service,
                                              "ticket": f"{service}{i:03}", "counter": 1}))


def fanout(max_buffer: int = 1024 * 1024) -> Fanout:
    return Fanout(store=None, site=make_site(), clock=lambda: WEDNESDAY_10AM,  # type: ignore[arg-type]
                  max_buffer=max_buffer)


def test_a_text_frame_is_what_the_websockets_library_sends() -> None:
    """The shared bytes are a standard unmasked text frame, also past 125 and 65535 bytes."""
    for size in (3, 200, 70_000):
        message = "é" * size
        assert messages(text_frame(message)) == [message]


async def test_fast_and_queued_screens_get_the_same_messages_in_order() -> None:
    """A fast-path screen's bytes decode to exactly what a queued screen is given, filtered
    the same way, in the same order."""
    f = fanout()
    sink, received, _ = await link(read=True)
    fast, queued = f.subscribe(frozenset({"B"})), f.subscribe(frozenset({"B"}))
    fast.attach(sink, b"")
    batches = [[event(i, "AB"[i % 2]) for i in range(j, j + 7)] for j in range(0, 70, 7)]
    for batch in batches:
        f.publish(batch)
    want = [m for _, m in (queued.queue.get_nowait() for _ in range(queued.queue.qsize()))]  # type: ignore[misc]
    await wait_for_bytes(received, want)
    assert messages(bytes(received.data)) == want and len(want) == 35
    assert fast.last_event_id == queued.last_event_id == "1069-0"


async def wait_for_bytes(received: Received, want: list[str]) -> None:
    size = sum(len(text_frame(m)) for m in want)
    for _ in range(500):
        if len(received.data) >= size:
            return
        await asyncio.sleep(0.01)


async def test_a_stalled_screen_is_dropped_and_the_others_get_everything() -> None:
    """A screen that stops reading fills its transport's buffer past the bound and is dropped
    (its sender gets None); a reading screen gets every event; publishing never waits."""
    f = fanout(max_buffer=64 * 1024)
    # the stalled screen's end is kept: a paused transport left to the garbage collector would
    # close its socket mid-test, and a closed link is not a slow one
    stalled_sink, _, stalled_end = await link(read=False)
    live_sink, received, _ = await link(read=True)
    stalled, live = f.subscribe(None), f.subscribe(None)
    stalled.attach(stalled_sink, b"")
    live.attach(live_sink, b"")
    sent: list[str] = []
    for j in range(200):
        batch = [event(j * 5 + i) for i in range(5)]
        f.publish(batch)
        sent += [e.message() for e in batch]
        await asyncio.sleep(0)  # the reading screen's loop turn
    assert stalled.dropped and stalled.queue.get_nowait() is None
    assert stalled_sink.write_buffer_size() < 64 * 1024 + 5 * 200
    await wait_for_bytes(received, sent)
    assert messages(bytes(received.data)) == sent
    stalled_end.close()


async def test_the_backlog_queued_before_the_switch_goes_first() -> None:
    """Events queued while the first messages were sent are written before any later event."""
    f = fanout()
    sink, received, _ = await link(read=True)
    sub: Subscriber = f.subscribe(None)
    f.publish([event(1), event(2)])
    backlog = [sub.queue.get_nowait()[1] for _ in range(2)]  # type: ignore[index]
    sub.attach(sink, b"".join(text_frame(m) for m in backlog))
    f.publish([event(3)])
    want = [*backlog, event(3).message()]
    await wait_for_bytes(received, want)
    assert messages(bytes(received.data)) == want


async def test_a_follower_behind_the_first_messages_sends_none_of_them_again() -> None:
    """A screen resumed with since (its first messages covered events up to 1005) on a process
    whose follower has read only up to 1003 (just started, or its read in flight): the events
    that follower reads next up to 1005 are not written again, 1006 and later are, once."""
    f = fanout()
    f.last_id = "1003-0"
    sink, received, _ = await link(read=True)
    sub: Subscriber = f.subscribe(None)
    sender = asyncio.create_task(
        display_ws._send_fast(None, sub, "1005-0", sink, lambda: f.last_id))  # type: ignore[arg-type]
    try:
        await asyncio.sleep(0)
        sub.offer("", '{"type":"heartbeat","at":"x"}')   # a beat says nothing of the order
        f.publish([event(4)])
        await asyncio.sleep(0)
        f.publish([event(5), event(6)])
        await asyncio.sleep(0)
        f.publish([event(7)])
        await eventually(lambda: sub.sink is not None, "the switch to the fast path")
        f.publish([event(8)])
        await wait_for_bytes(received, [event(i).message() for i in (6, 7, 8)])
        got = [json.loads(m) for m in messages(bytes(received.data))]
        assert [m["ticket"] for m in got if m["type"] != "heartbeat"] == [
            "A006", "A007", "A008"]
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)


async def collect(ws: Any, count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < count:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if message["type"] != "heartbeat":
            out.append(message)
    return out


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_both_paths_deliver_identical_message_sequences(server_factory: Any,
                                                              compression: str | None) -> None:
    """Two processes on one Redis, one on the fast path and one on the ordinary path: screens
    of each (offering permessage-deflate or not) get the same messages in the same order,
    heartbeats aside. The server declines compression, so the fast path serves both."""
    fast = server_factory(extra_env={"ANTRIAN_FANOUT_FAST": "1"})
    plain = server_factory(extra_env={"ANTRIAN_FANOUT_FAST": "0"})
    fast.api.ticket("A")
    screens = {}
    for name, server in (("fast", fast), ("plain", plain)):
        for query in ("", "?services=B"):
            ws = await websockets.connect(server.ws_url + "/ws/display" + query,
                                          compression=compression)
            assert ws.protocol.extensions == []
            screens[name, query] = ws
    try:
        firsts = {key: await collect(ws, 1) for key, ws in screens.items()}
        assert all(f[0]["type"] == "snapshot" for f in firsts.values())
        for i in range(6):
            fast.api.ticket("AB"[i % 2])
        plain.api.call(3)
        fast.api.call(4)
        plain.api.ticket("B")
        got = {key: await collect(ws, 9 if key[1] == "" else 5) for key, ws in screens.items()}
        assert got["fast", ""] == got["plain", ""]
        assert got["fast", "?services=B"] == got["plain", "?services=B"]
        assert [m["type"] for m in got["fast", ""]] == ["ticket"] * 6 + ["call"] * 2 + ["ticket"]
    finally:
        for ws in screens.values():
            await ws.close()


class CountingSink(TransportSink):
    """A transport sink that also counts its writes (one per screen per stream read)."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        super().__init__(transport)
        self.writes: list[bytes] = []

    def write_frames(self, data: bytes) -> None:
        self.writes.append(data)
        super().write_frames(data)


async def test_events_read_together_go_to_each_screen_in_one_write_in_order() -> None:
    """A stream read of several events: each fast-path screen gets one write holding the
    events its filter wants, in stream order; screens of one filter get the same bytes."""
    f = fanout()
    screens = []
    for services in (None, None, frozenset({"B"})):
        transport = (await link(read=True))[0].transport
        sink = CountingSink(transport)
        f.subscribe(services).attach(sink, b"")
        screens.append(sink)
    batch = [event(i, "ABAAB"[i]) for i in range(5)]
    f.publish(batch)
    f.publish([event(5, "A")])
    everything, other, only_b = screens
    assert [len(s.writes) for s in screens] == [2, 2, 1]
    assert messages(everything.writes[0]) == [e.message() for e in batch]
    assert messages(only_b.writes[0]) == [batch[1].message(), batch[4].message()]
    assert everything.writes == other.writes
    assert messages(everything.writes[1]) == [event(5, "A").message()]


async def test_a_screen_that_comes_or_switches_later_gets_the_next_events() -> None:
    """The filter groups follow screens that subscribe, switch to the fast path and leave."""
    f = fanout()
    first_sink, first_got, _ = await link(read=True)
    first = f.subscribe(None)
    first.attach(first_sink, b"")
    f.publish([event(1)])
    second_sink, second_got, _ = await link(read=True)
    second = f.subscribe(None)
    f.publish([event(2)])
    assert second.queue.get_nowait() == ("1002-0", event(2).message())
    second.attach(second_sink, b"")
    f.publish([event(3)])
    f.unsubscribe(first)
    f.publish([event(4)])
    await wait_for_bytes(first_got, [event(i).message() for i in (1, 2, 3)])
    await wait_for_bytes(second_got, [event(i).message() for i in (3, 4)])
    assert messages(bytes(first_got.data)) == [event(i).message() for i in (1, 2, 3)]
    assert messages(bytes(second_got.data)) == [event(i).message() for i in (3, 4)]


async def test_heartbeats_carry_each_screens_last_event() -> None:
    """A heartbeat tells each screen (fast path or queued) the last event it was sent."""
    f = fanout()
    links = [await link(read=True) for _ in range(3)]
    all_screen, b_screen, fresh = (f.subscribe(s) for s in (None, frozenset({"B"}), None))
    all_screen.attach(links[0][0], b"")
    b_screen.attach(links[1][0], b"")
    f.publish([event(1, "B"), event(2, "A")])
    fresh.attach(links[2][0], b"")
    queued = f.subscribe(frozenset({"B"}))
    f.publish([event(3, "B")])
    f.heartbeat()
    beats = {}
    for name, (_, received, _) in zip(("all", "b", "fresh"), links, strict=True):
        for _ in range(500):
            got = messages(bytes(received.data))
            if got and json.loads(got[-1])["type"] == "heartbeat":
                break
            await asyncio.sleep(0.01)
        beats[name] = json.loads(got[-1])
    queued.queue.get_nowait()
    beats["queued"] = json.loads(queued.queue.get_nowait()[1])  # type: ignore[index]
    assert {name: beat.get("event_id") for name, beat in beats.items()} == {
        "all": "1003-0", "b": "1003-0", "fresh": "1003-0", "queued": "1003-0"}
    f.publish([event(4, "A")])
    f.heartbeat()
    await asyncio.sleep(0.05)
    last = {name: json.loads(messages(bytes(r.data))[-1]).get("event_id")
            for name, (_, r, _) in zip(("all", "b", "fresh"), links, strict=True)}
    assert last == {"all": "1004-0", "b": "1003-0", "fresh": "1004-0"}
    assert all(b["type"] == "heartbeat" and b["at"] for b in beats.values())
