"""The connection guard of a real `antrian serve`: silent and unfinished connections are closed,
one address cannot hold more than its share of connections (WebSockets included) while others
are served, and oversized headers get 431 without the server's memory growing."""

from __future__ import annotations

import contextlib
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import wait_until
from websockets.sync.client import connect as ws_connect

from antrian.cli import raise_open_files_limit
from display_server.tokens import counter_token, kiosk_token, load_secret

OTHER_ADDRESS = "127.0.0.2"  # another client: Linux routes all of 127.0.0.0/8 to loopback


def open_socket(port: int, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=15, source_address=(source, 0))


def read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (socket.timeout if it never
    does)."""
    out = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            out += chunk
    return out


def health_on(sock: socket.socket) -> bytes:
    """One keep-alive GET /api/health on `sock`: the head of the answer."""
    sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@contextlib.contextmanager
def sockets(port: int, n: int) -> Iterator[list[socket.socket]]:
    opened = [open_socket(port) for _ in range(n)]
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


def test_silent_and_unfinished_connections_are_closed(server_factory: Any) -> None:
    """A connection that sends nothing, or only part of its headers, is answered 408 and
    closed after ANTRIAN_REQUEST_TIMEOUT; a complete request is served as usual."""
    server = server_factory(extra_env={"ANTRIAN_REQUEST_TIMEOUT": "0.5"})
    with open_socket(server.port) as silent, open_socket(server.port) as partial:
        partial.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        for sock in (silent, partial):
            answer = read_to_end(sock)
            assert answer.startswith(b"HTTP/1.1 408 ") and b'"request_timeout"' in answer
    with open_socket(server.port) as prompt:
        assert health_on(prompt).startswith(b"HTTP/1.1 200 ")


def test_one_address_is_capped_while_others_are_served(server_factory: Any,
                                                       tmp_path: Path) -> None:
    """200 connections from one address: past ANTRIAN_MAX_CONNECTIONS_PER_CLIENT they get 429
    and are closed, while an officer at another address still calls; once the flood ends the
    address is served again."""
    cap = 20
    server = server_factory(extra_env={"ANTRIAN_MAX_CONNECTIONS_PER_CLIENT": str(cap),
                                       "ANTRIAN_KEEP_ALIVE": "60"})
    secret = load_secret(tmp_path)
    officer = httpx.Client(base_url=server.url,
                           transport=httpx.HTTPTransport(local_address=OTHER_ADDRESS))
    with sockets(server.port, cap) as held:
        assert all(health_on(s).startswith(b"HTTP/1.1 200 ") for s in held)
        with sockets(server.port, 200 - cap) as flood:
            refused = [read_to_end(s) for s in flood]
            assert all(r.startswith(b"HTTP/1.1 429 ") for r in refused), refused[0][:200]
            assert b'"too_many_connections"' in refused[0]
            kiosk = {"Authorization": f"Bearer {kiosk_token(secret, server_factory.site_id)}"}
            assert officer.post("/api/tickets", json={"service": "A"},
                                headers=kiosk).status_code == 201
            token = counter_token(secret, server_factory.site_id, 1)
            r = officer.post("/api/counters/1/call-next",
                             headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200 and r.json()["ticket"]["code"] == "A001"
    wait_until(lambda: httpx.get(server.url + "/api/health").status_code == 200,
               what="the address to be served again")
    officer.close()


def test_websockets_count_against_the_cap_until_they_close(server_factory: Any) -> None:
    """A client's open WebSockets hold their places: at the cap its next connection is refused,
    and closing one gives the place back."""
    server = server_factory(extra_env={"ANTRIAN_MAX_CONNECTIONS_PER_CLIENT": "3"})
    with contextlib.ExitStack() as stack:
        screens = [stack.enter_context(ws_connect(server.ws_url + "/ws/display",
                                                  open_timeout=15)) for _ in range(3)]
        for screen in screens:
            assert '"snapshot"' in str(screen.recv(timeout=15))
        with open_socket(server.port) as extra:
            assert read_to_end(extra).startswith(b"HTTP/1.1 429 ")
        screens[0].close()
        wait_until(lambda: httpx.get(server.url + "/api/health").status_code == 200,
                   what="the closed WebSocket's place")


@pytest.mark.parametrize("finished", [True, False])
def test_a_100_kb_header_gets_431(server_factory: Any, finished: bool) -> None:
    """A 100 KB header is refused with 431, whether or not its blank line has arrived."""
    server = server_factory()
    head = b"GET /api/health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 100_000 + b"\r\n"
    with open_socket(server.port) as sock:
        sock.sendall(head + (b"\r\n" if finished else b""))
        answer = read_to_end(sock)
    assert answer.startswith(b"HTTP/1.1 431 ") and b'"headers_too_large"' in answer


def test_normal_headers_and_large_bodies_still_pass(server_factory: Any) -> None:
    """An 8 KB header is served; a body sent in the same packet as the headers is not taken
    for part of them (it meets the body cap, 413, not the header limit)."""
    server = server_factory()
    assert httpx.get(server.url + "/api/health",
                     headers={"X-Long": "a" * 8000}).status_code == 200
    r = httpx.post(server.url + "/api/tickets", content=b" " * 70_000,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_heads_split_anywhere_and_pipelined_requests_are_served(server_factory: Any) -> None:
    """The header limit counts a head's own bytes wherever the sends cut it: a head whose blank
    line is split over two sends, followed by a 70 KB body in a third, meets the body cap (413),
    not the header limit; two requests sent in one packet are both answered."""
    server = server_factory()
    body = b" " * 70_000
    head = (b"POST /api/tickets HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nX-Long: " + b"a" * 8000
            + b"\r\nContent-Length: %d\r\n\r" % len(body))
    with open_socket(server.port) as sock:
        for piece in (head, b"\n", body):
            sock.sendall(piece)
            time.sleep(0.05)  # each send its own read on the server
        answer = read_to_end(sock)
    assert answer.startswith(b"HTTP/1.1 413 ") and b'"payload_too_large"' in answer
    with open_socket(server.port) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"GET /api/services HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        answers = read_to_end(sock)
    assert answers.startswith(b"HTTP/1.1 200 ") and answers.count(b"HTTP/1.1 200 ") == 2


def test_ten_floods_of_unfinished_headers_do_not_grow_the_server(server_factory: Any) -> None:
    """10 connections each sending 10 MB of headers that never end: each is cut off at the
    limit and the server's memory stays where it was (it grew by 87 MB before the guard)."""
    server = server_factory()
    assert server.process is not None
    before = rss_kib(server.process.pid)
    chunk = b"X-Pad: " + b"a" * 65_000 + b"\r\n"
    with sockets(server.port, 10) as flood:
        for sock in flood:
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n")
            with contextlib.suppress(OSError):
                for _ in range(160):
                    sock.sendall(chunk)
        answers = [read_to_end(s) for s in flood]
    assert all(a.startswith(b"HTTP/1.1 431 ") for a in answers)
    growth_mib = (rss_kib(server.process.pid) - before) / 1024
    print(f"server RSS growth after 10 x 10 MB of headers: {growth_mib:.1f} MiB")
    assert growth_mib < 10
    assert httpx.get(server.url + "/api/health").status_code == 200


def test_serve_raises_the_open_files_limit_to_the_hard_limit() -> None:
    """A soft limit of 1,024 files would cap the screens; serve lifts it to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
    try:
        raise_open_files_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
