"""Benchmark of the queue engine's real-time path, printed as figures (not a test).

Starts a real redis-server, `antrian serve` and a bare Starlette WebSocket broadcaster, then:
1. call → last screen: N screens (default 200) on /ws/display, 29 counters calling one after
   another; the same broadcast through the bare endpoint is the floor on this machine.
2. call-next throughput: 29 counters calling as fast as they can with 29 screens connected.
3. memory per idle screen connection: server RSS before and after opening M idle screens.

Exits non-zero when a target is missed: memory per idle screen <= 64 KiB, call -> last screen
p99 <= 1.5 x the bare floor's p99 measured in the same run, throughput >= 500 calls/s.

Run: .venv/bin/python bench/call_latency.py [--screens 200] [--calls 300] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import ServerProcess, free_port, wait_until  # noqa: E402
from serving import bench_server  # noqa: E402

BARE_APP = '''
import asyncio
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute

clients = set()

async def ws(websocket):
    await websocket.accept()
    clients.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except Exception:
        clients.discard(websocket)

async def broadcast(request):
    body = (await request.body()).decode()
    for c in list(clients):
        await c.send_text(body)
    return PlainTextResponse("ok")

app = Starlette(routes=[WebSocketRoute("/ws", ws),
                        Route("/broadcast", broadcast, methods=["POST"])])
'''


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Screens:
    """Many WebSocket clients in this process; records when each sees a marker."""

    def __init__(self) -> None:
        self.sockets: list[Any] = []
        self.seen: dict[str, list[int]] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, url: str, count: int) -> None:
        for _ in range(count):
            ws = await websockets.connect(url, max_size=None, ping_interval=None)
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: Any) -> None:
        async for raw in ws:
            now = time.monotonic_ns()
            data = json.loads(raw)
            marker = data.get("ticket") if data.get("type") == "call" else data.get("marker")
            if marker:
                self.seen.setdefault(marker, []).append(now)

    async def wait_for(self, marker: str, count: int, timeout: float = 10) -> int:
        deadline = time.monotonic() + timeout
        while len(self.seen.get(marker, [])) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{marker}: {len(self.seen.get(marker, []))}/{count}")
            await asyncio.sleep(0.001)
        return max(self.seen[marker])

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        # together: a socket whose unread backlog delays its close frame waits close_timeout
        await asyncio.gather(*(ws.close() for ws in self.sockets))


async def latency(server: ServerProcess, bare_port: int, screens_n: int,
                  calls: int) -> dict[str, list[float]]:
    """Trigger → the last of `screens_n` screens has the message, for antrian and the floor."""
    results: dict[str, list[float]] = {"antrian": [], "bare": []}
    http, bare_http = RawHttp("127.0.0.1", server.port), RawHttp("127.0.0.1", bare_port)
    for _ in range(calls):
        await http.post("/api/tickets", b'{"service":"A"}', server.api.kiosk_auth())
    ours, bare = Screens(), Screens()
    await ours.open(server.ws_url + "/ws/display", screens_n)
    await bare.open(f"ws://127.0.0.1:{bare_port}/ws", screens_n)
    await asyncio.sleep(0.5)
    for i in range(calls):
        n = i % 29 + 1
        start = time.monotonic_ns()
        _, body = await http.post(f"/api/counters/{n}/call-next", headers=server.api.auth(n))
        last = await ours.wait_for(json.loads(body)["ticket"]["code"], screens_n)
        results["antrian"].append((last - start) / 1e6)
        marker = f"m{i}"
        start = time.monotonic_ns()
        await bare_http.post("/broadcast", json.dumps({"type": "bare", "marker": marker}).encode())
        last = await bare.wait_for(marker, screens_n)
        results["bare"].append((last - start) / 1e6)
    for client in (http, bare_http):
        await client.close()
    await ours.close()
    await bare.close()
    return results


class RawHttp:
    """A minimal keep-alive HTTP/1.1 client: the load generator must cost far less CPU than
    the server it measures (httpx costs about as much per request as the server does)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes = b"",
                   headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
        return await self.request("POST", path, body, headers)

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
        if self.reader is None or self.reader.at_eof():  # the server closes idle ones
            await self.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.writer is not None
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n".encode() + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def throughput(server: ServerProcess, seconds: float) -> tuple[int, float, float]:
    """Calls per second and server CPU seconds per call, 29 counters, 29 screens."""
    assert server.process is not None
    screens = Screens()
    await screens.open(server.ws_url + "/ws/display", 29)
    needed = int(seconds * 1500)
    kiosks = [RawHttp("127.0.0.1", server.port) for _ in range(16)]

    async def issuer(k: int) -> None:
        for _ in range(needed // 16):
            await kiosks[k].post("/api/tickets", b'{"service":"%s"}' % b"AB"[k % 2:k % 2 + 1],
                                 headers=server.api.kiosk_auth())

    await asyncio.gather(*(issuer(k) for k in range(16)))
    done = 0
    stop_at = time.monotonic() + seconds

    async def counter(n: int) -> None:
        nonlocal done
        http = RawHttp("127.0.0.1", server.port)
        headers = server.api.auth(n)
        while time.monotonic() < stop_at:
            status, body = await http.post(f"/api/counters/{n}/call-next", headers=headers)
            if status == 200 and b'"ticket":null' not in body:
                done += 1
        await http.close()

    cpu_before = cpu_seconds(server.process.pid)
    start = time.monotonic()
    await asyncio.gather(*(counter(n) for n in range(1, 30)))
    elapsed = time.monotonic() - start
    cpu = cpu_seconds(server.process.pid) - cpu_before
    for k in kiosks:
        await k.close()
    await screens.close()
    return done, elapsed, cpu


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def memory(server: ServerProcess, idle: int) -> float:
    assert server.process is not None
    pid = server.process.pid
    await asyncio.sleep(0.5)
    before = rss_kib(pid)
    screens = Screens()
    await screens.open(server.ws_url + "/ws/display", idle)
    await asyncio.sleep(1.0)
    after = rss_kib(pid)
    await screens.close()
    return (after - before) / idle


MEMORY_KIB = 64  # per idle screen connection, at most
P99_RATIO = 1.5  # call -> last screen p99 over the bare broadcast's p99, at most
THROUGHPUT = 500  # call-next per second, at least


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--screens", type=int, default=200)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()

    with bench_server() as bench:
        return await measure(bench.server, args)


async def measure(server: ServerProcess, args: argparse.Namespace) -> int:
    """Every figure against `server`, with the bare broadcaster started beside it."""
    tmp = server.data_dir
    bare_port = free_port()
    (tmp / "bare_ws.py").write_text(BARE_APP)
    bare = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "bare_ws:app", "--port", str(bare_port),
        "--log-level", "warning", "--ws", "websockets-sansio", "--ws-per-message-deflate",
        "false", cwd=tmp)
    wait_until(lambda: httpx.post(f"http://127.0.0.1:{bare_port}/broadcast",
                                  content="{}").status_code == 200)
    try:
        print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
        per_kib = await memory(server, args.idle)
        print(f"server memory per idle screen connection: {per_kib:.1f} KiB "
              f"({args.idle} screens; target <= {MEMORY_KIB} KiB)")
        res = await latency(server, bare_port, args.screens, args.calls)
        for name, values in res.items():
            print(f"call -> last of {args.screens} screens [{name:7}]: "
                  f"p50 {statistics.median(values):6.2f} ms  p99 {pct(values, 0.99):6.2f} ms  "
                  f"(n={len(values)})")
        ratio = pct(res["antrian"], 0.99) / pct(res["bare"], 0.99)
        print(f"p99 ratio antrian / bare floor: {ratio:.2f} (target <= {P99_RATIO})")
        done, elapsed, cpu = await throughput(server, args.seconds)
        print(f"call-next throughput, 29 counters, 29 screens: {done / elapsed:.0f} calls/s "
              f"({done} in {elapsed:.1f} s; target >= {THROUGHPUT}); server CPU "
              f"{cpu / max(done, 1) * 1000:.2f} ms per call")
        missed = [name for name, ok in (("memory", per_kib <= MEMORY_KIB),
                                        ("p99 ratio", ratio <= P99_RATIO),
                                        ("throughput", done / elapsed >= THROUGHPUT)) if not ok]
        print(f"target missed: {', '.join(missed)}" if missed else "all targets met")
        return 1 if missed else 0
    finally:
        bare.terminate()
        await bare.wait()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
