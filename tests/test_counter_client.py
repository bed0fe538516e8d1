"""counter_client.Client against a real server and Redis: actions, retries, typed errors."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ServerProcess, free_port
from site_api import SiteApi

from counter_client import (
    Client,
    Conflict,
    CounterError,
    Forbidden,
    NotAntrian,
    NotFound,
    Press,
    Unauthorized,
    Unavailable,
)


@dataclass
class Site:
    """A running server of the 29-counter test site, and counter clients that reach it."""

    server: ServerProcess

    @property
    def api(self) -> SiteApi:
        return self.server.api

    def client(self, counter: int = 1, url: str | None = None, **kwargs: Any) -> Client:
        kwargs.setdefault("max_backoff", 0.2)
        return Client(url or self.server.url, counter, self.api.token(counter), **kwargs)


def start_site(server_factory: Any) -> Site:
    return Site(server_factory())


@pytest.fixture
def site(server_factory: Any) -> Site:
    return start_site(server_factory)


async def test_every_action_round_trips_with_typed_results(site: Site) -> None:
    """Each action answers a typed ActionResult with the ticket the server reports."""
    for _ in range(3):
        site.api.ticket("A")
    async with site.client(1) as client:
        called = await client.call_next()
        assert called.ticket is not None and called.ticket.code == "A001"
        assert called.ticket.status == "called" and called.ticket.counter == 1
        assert called.event_id
        recalled = await client.recall()
        assert recalled.ticket is not None and recalled.ticket.calls == 2
        skipped = await client.skip()
        assert skipped.ticket is not None and skipped.ticket.status == "no_show"
        restored = await client.restore("A001")
        assert restored.ticket is not None and restored.ticket.status == "waiting"
        chosen = await client.call("A003")
        assert chosen.ticket is not None and chosen.ticket.code == "A003"
        assert [t.code for t in await client.waiting()] == ["A001", "A002"]
        done = await client.done("not_completed")
        assert done.ticket is not None and done.ticket.status == "served"
        again = await client.call_next()
        assert again.ticket is not None and again.ticket.code == "A001"
        moved = await client.transfer("B")
        assert moved.ticket is not None and moved.ticket.service == "B"
        paused = await client.pause("Istirahat")
        assert paused.ticket is None and paused.status == "paused"
        assert site.api.counter(1)["reason"] == "Istirahat"
        resumed = await client.resume()
        assert resumed.status == "idle"
        state = await client.state()
        assert state.waiting["A"] == 1 and state.waiting["B"] == 1


async def test_call_next_with_nobody_waiting_answers_no_ticket(site: Site) -> None:
    """An empty queue is not an error: the result's ticket is None."""
    async with site.client(2) as client:
        result = await client.call_next()
    assert result.ticket is None and result.event_id is None


async def test_the_same_request_id_calls_one_visitor_only(site: Site) -> None:
    """Sending one press twice returns the first answer and leaves the next visitor waiting."""
    site.api.ticket("A")
    site.api.ticket("A")
    press = Press("call-next")
    async with site.client(1) as client:
        first = await client.send(press)
        second = await client.send(press)
    assert first == second
    assert first.ticket is not None and first.ticket.code == "A001"
    assert site.api.state()["waiting"]["A"] == 1


class SwallowFirstAnswer:
    """A TCP proxy that forwards every request but swallows the server's answer on its first
    connection, keeping that connection open: the client sees a timeout after the server has
    applied the action."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.connections = 0
        self.swallowed = b""
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> SwallowFirstAnswer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        swallow = self.connections == 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def upstream() -> None:
            while data := await reader.read(65536):
                self.requests.append(data)
                up_writer.write(data)
                await up_writer.drain()
            up_writer.close()

        async def downstream() -> None:
            while data := await up_reader.read(65536):
                if swallow:
                    self.swallowed += data
                else:
                    writer.write(data)
                    await writer.drain()
            writer.close()

        await asyncio.gather(upstream(), downstream(), return_exceptions=True)


async def test_timeout_after_the_server_applied_the_call_then_retry_calls_one_visitor(
    site: Site,
) -> None:
    """The answer to call-next is lost (the client times out), the client retries with the same
    request id, gets the first answer, and exactly one ticket is called."""
    for _ in range(3):
        site.api.ticket("A")
    async with (SwallowFirstAnswer(site.server.port) as proxy,
                site.client(1, url=proxy.url, timeout=1.0, attempts=3) as client):
        result = await client.call_next()
    assert result.ticket is not None and result.ticket.code == "A001"
    assert b'"A001"' in proxy.swallowed  # the server did answer the first try
    bodies = [json.loads(r.split(b"\r\n\r\n", 1)[1]) for r in proxy.requests if b"\r\n\r\n" in r]
    assert len(bodies) == 2 and bodies[0]["request_id"] == bodies[1]["request_id"]
    state = site.api.state()
    assert state["waiting"]["A"] == 2
    assert [r["ticket"] for r in state["recent"]] == ["A001"]


@pytest.mark.parametrize(("counter", "token_of", "action", "error", "status", "code", "message"), [
    (1, None, "call_next", Unauthorized, 401, "unauthorized",
     "Kode akses loket tidak ada atau salah."),
    (1, 2, "recall", Forbidden, 403, "forbidden", "Kode akses ini milik loket lain."),
    (99, 1, "waiting", NotFound, 404, "unknown_counter", "Loket tidak dikenal. (99)"),
], ids=["wrong-token", "another-counters-token", "unknown-counter"])
async def test_refusals_are_typed_errors_with_the_servers_code_and_message(
        site: Site, counter: int, token_of: int | None, action: str,
        error: type[CounterError], status: int, code: str, message: str) -> None:
    """401 is Unauthorized, 403 (counter 2's token on counter 1's path) Forbidden, a counter the
    site does not have NotFound: each with the server's code and Indonesian message."""
    token = "bukan-token" if token_of is None else site.api.token(token_of)
    async with Client(site.server.url, counter, token) as client:
        with pytest.raises(error) as caught:
            await getattr(client, action)()
    assert (caught.value.status, caught.value.code, caught.value.message) == (status, code, message)


async def test_action_in_the_wrong_state_is_a_conflict(site: Site) -> None:
    """409 becomes Conflict with the server's code, e.g. done with nobody called."""
    async with site.client(3) as client:
        with pytest.raises(Conflict) as caught:
            await client.done()
        assert caught.value.code == "no_current_ticket"
        assert caught.value.message == "Belum ada nomor yang dipanggil di loket ini."
        await client.pause("Rapat")
        with pytest.raises(Conflict) as paused:
            await client.call_next()
    assert paused.value.code == "counter_paused"


async def test_a_server_that_is_down_is_unavailable_after_the_retries() -> None:
    """Nothing listens: the retries run out and the error says the server cannot be reached."""
    async with Client(f"http://127.0.0.1:{free_port()}", 1, "t", attempts=2,
                      max_backoff=0.05) as client:
        with pytest.raises(Unavailable) as caught:
            await client.call_next()
    assert caught.value.code == "unreachable" and "tidak dapat dihubungi" in caught.value.message


@pytest.fixture
def plain_http(tmp_path: Path) -> Iterator[str]:
    """A web server that is not antrian (serves an empty directory)."""
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_a_server_that_is_not_antrian_is_said_so(plain_http: str) -> None:
    """HTML 404/501 answers are NotAntrian, whatever the request."""
    async with Client(plain_http, 1, "t") as client:
        with pytest.raises(NotAntrian) as caught:
            await client.state()
        assert "bukan server antrian" in caught.value.message
        with pytest.raises(NotAntrian):
            await client.call_next()


def test_a_bad_server_url_is_refused_before_connecting() -> None:
    """A URL without http(s):// and a host is a ValueError naming it."""
    with pytest.raises(ValueError, match="localhost:8000"):
        Client("localhost:8000", 1, "t")
