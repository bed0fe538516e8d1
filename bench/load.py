"""Load sweep of one server process's fan-out, printed as figures with their targets (not a test).

Starts a real redis-server and `antrian serve` (the 29-counter bench site), a bare Starlette
broadcast server (the floor: one send_text per screen, nothing else) and, when npm is present,
Socket.IO with @socket.io/redis-streams-adapter as two Node processes (screens on one, the
broadcast posted to the other, so every message crosses Redis Streams as antrian's do). npm
installs socket.io into a temp dir outside the repo the first time (ANTRIAN_BENCH_NODE_DIR,
default /tmp/antrian-bench-socketio); without npm that column is skipped, with a note.

For each number of screens (default 200 and 1,000):
- call -> last screen: one call at a time, the time from sending the request until the last
  screen has the message; antrian, Socket.IO and the floor interleaved, call by call, with
  the same Python WebSocket client;
- throughput: 1, 4, 16 and 29 counters calling as fast as they can: calls/s, server CPU per
  call; the saturation point is the first step that adds less than 10 % calls/s.
Then memory per idle screen: server RSS before and after opening --idle (5,000) screens.

Targets (issue 14): at 200 and at 1,000 screens antrian's p50 and p99 no higher than
Socket.IO's; >= 400 call-next/s with 200 screens; < 32 KiB per idle screen; 5,000 idle screens
on one process. Exits non-zero when one is missed.

Run: .venv/bin/python bench/load.py [--screens 200 1000] [--calls 200] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))

from call_latency import BARE_APP, RawHttp, Screens, cpu_seconds, pct, rss_kib
from conftest import ServerProcess, free_port, wait_until
from serving import bench_server, raise_fd_limit

NODE_DIR = Path(os.environ.get("ANTRIAN_BENCH_NODE_DIR", "/tmp/antrian-bench-socketio"))
NODE_PACKAGES = ["socket.io@4", "@socket.io/redis-streams-adapter@0", "redis@4"]
SOCKETIO_APP = r"""
const { createServer } = require("http");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter } = require("@socket.io/redis-streams-adapter");
const [port, redisUrl] = [Number(process.argv[2]), process.argv[3]];
(async () => {
  const client = createClient({ url: redisUrl });
  await client.connect();
  let io;
  const http = createServer((req, res) => {
    if (req.method === "POST" && req.url === "/broadcast") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => { io.emit("msg", JSON.parse(body)); res.end("ok"); });
    } else { res.statusCode = 404; res.end(); }
  });
  io = new Server(http, { adapter: createAdapter(client), transports: ["websocket"],
                          perMessageDeflate: false, serveClient: false });
  http.listen(port, "127.0.0.1");
})();
"""
THROUGHPUT_200 = 400   # call-next/s with 200 screens, at least
MEMORY_KIB = 32        # per idle screen, under
IDLE_SCREENS = 5000    # on one process
COUNTER_STEPS = (1, 4, 16, 29)
TICKETS_PER_S = 700  # tickets issued per second of a throughput step: more than it calls


class SweepScreens(Screens):
    """antrian's screens; while the throughput steps run they only count what they receive,
    so the load generator (on the same cores) costs less than the server it measures."""

    parse = True
    received = 0

    async def _read(self, ws: Any) -> None:
        async for raw in ws:
            if not self.parse:
                self.received += 1
                continue
            now = time.monotonic_ns()
            data = json.loads(raw)
            if data.get("type") == "call":
                self.seen.setdefault(data["ticket"], []).append(now)


class SocketIoScreens(Screens):
    """The same client speaking Engine.IO 4 / Socket.IO 5 over a plain WebSocket."""

    async def open(self, url: str, count: int) -> None:
        for _ in range(count):
            ws = await websockets.connect(url, max_size=None, ping_interval=None,
                                          compression=None)
            await ws.recv()          # 0{"sid":...}: the Engine.IO handshake
            await ws.send("40")      # join the default namespace
            await ws.recv()          # 40{"sid":...}
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: Any) -> None:
        async for raw in ws:
            now = time.monotonic_ns()
            if raw == "2":
                await ws.send("3")   # Engine.IO ping -> pong
                continue
            if raw.startswith("42"):
                marker = json.loads(raw[2:])[1].get("marker")
                if marker:
                    self.seen.setdefault(marker, []).append(now)


def node_ready() -> str | None:
    """Install socket.io outside the repo if needed; None when ready, else why it is skipped."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not found: the Socket.IO column is skipped"
    if not (NODE_DIR / "node_modules" / "@socket.io" / "redis-streams-adapter").exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        (NODE_DIR / "package.json").write_text('{"name":"antrian-bench","private":true}\n')
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", *NODE_PACKAGES],
                              cwd=NODE_DIR, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return f"npm install failed, the Socket.IO column is skipped: {done.stderr[-300:]}"
    (NODE_DIR / "server.js").write_text(SOCKETIO_APP)
    return None


async def start(*args: str, cwd: Path, port: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(*args, cwd=cwd)
    wait_until(lambda: httpx.post(f"http://127.0.0.1:{port}/broadcast",
                                  content="{}").status_code == 200, timeout=30)
    return process


async def issue(server: ServerProcess, service: str, count: int) -> None:
    """Tickets for the calls to come, issued before the screens connect: the screens then get
    only the calls' events, as in an office whose queue was already there."""
    kiosks = [RawHttp("127.0.0.1", server.port) for _ in range(8)]
    body = b'{"service":"%s"}' % service.encode()

    async def kiosk(k: int) -> None:
        for _ in range(count // 8 + 1):
            await kiosks[k].post("/api/tickets", body, server.api.kiosk_auth())
        await kiosks[k].close()

    await asyncio.gather(*(kiosk(k) for k in range(8)))


async def latency(server: ServerProcess, ours: Screens, floors: dict[str, tuple[str, int]],
                  screens_n: int, calls: int) -> dict[str, list[float]]:
    """Request sent -> the last of `screens_n` screens has the message, one at a time,
    antrian and each floor interleaved call by call."""
    http = RawHttp("127.0.0.1", server.port)
    others: dict[str, tuple[Screens, RawHttp]] = {}
    for name, (url, post_port) in floors.items():
        screens = SocketIoScreens() if name == "socketio" else Screens()
        await screens.open(url, screens_n)
        others[name] = (screens, RawHttp("127.0.0.1", post_port))
    await asyncio.sleep(1.0)
    results: dict[str, list[float]] = {"antrian": [], **{name: [] for name in others}}
    for i in range(calls):
        n = i % 29 + 1
        begin = time.monotonic_ns()
        _, body = await http.post(f"/api/counters/{n}/call-next", headers=server.api.auth(n))
        last = await ours.wait_for(json.loads(body)["ticket"]["code"], screens_n)
        results["antrian"].append((last - begin) / 1e6)
        for name, (screens, poster) in others.items():
            marker = f"{name}{i}"
            begin = time.monotonic_ns()
            await poster.post("/broadcast", json.dumps({"type": "bare", "marker": marker}).encode())
            last = await screens.wait_for(marker, screens_n)
            results[name].append((last - begin) / 1e6)
    await http.close()
    for screens, poster in others.values():
        await poster.close()
        await screens.close()
    return results


async def throughput(server: ServerProcess, counters: int,
                     seconds: float) -> tuple[float, float, float]:
    """Calls/s, server CPU ms per call and the server's share of one core, with `counters`
    counters calling flat out while the open screens receive every event."""
    assert server.process is not None
    done = 0
    stop_at = time.monotonic() + seconds

    async def counter(n: int) -> None:
        nonlocal done
        http = RawHttp("127.0.0.1", server.port)
        while time.monotonic() < stop_at:
            status, body = await http.post(f"/api/counters/{n}/call-next",
                                           headers=server.api.auth(n))
            if status == 200 and b'"ticket":null' not in body:
                done += 1
        await http.close()

    cpu_before, begin = cpu_seconds(server.process.pid), time.monotonic()
    await asyncio.gather(*(counter(n) for n in range(1, counters + 1)))
    elapsed = time.monotonic() - begin
    cpu = cpu_seconds(server.process.pid) - cpu_before
    return done / elapsed, cpu / max(done, 1) * 1000, cpu / elapsed


async def idle_memory(server: ServerProcess, idle: int) -> tuple[float, int]:
    """Server RSS growth per idle screen, and how many of `idle` screens got their snapshot."""
    assert server.process is not None
    pid = server.process.pid
    await asyncio.sleep(1.0)
    before = rss_kib(pid)
    screens = Screens()
    await screens.open(server.ws_url + "/ws/display", idle)
    await asyncio.sleep(2.0)
    after = rss_kib(pid)
    alive = sum(1 for ws in screens.sockets if ws.protocol.state.name == "OPEN")
    await screens.close()
    return (after - before) / idle, alive


class _Sink:
    """A socket's transport as the fan-out's frame sink (what guard.py's protocol is)."""

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


async def fast_path_cost(screens_n: int, events: int = 200) -> float:
    """CPU µs per screen per event of the fast path's publish, in this process (on this
    process's event loop), to `screens_n` socket pairs whose other ends are read after each
    event: encoding, filter, one transport write (the send syscall) per screen."""
    from conftest import WEDNESDAY_10AM, make_site

    from display_server.fanout import Fanout
    from display_server.store import Event

    loop = asyncio.get_running_loop()
    fanout = Fanout(store=None, site=make_site(), clock=lambda: WEDNESDAY_10AM)  # type: ignore[arg-type]
    ends = []
    for _ in range(screens_n):
        ours, theirs = socket.socketpair()
        transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
        fanout.subscribe(None).attach(_Sink(transport), b"")
        ends.append(theirs)
    message = {"type": "call", "at": "x", "service": "A", "ticket": "A001", "counter": 1,
               "waiting": {"A": 3, "B": 4}}
    spent = 0.0
    for i in range(events):
        begin = time.process_time()
        fanout.publish([Event(f"{1000 + i}-0", json.dumps(message))])
        spent += time.process_time() - begin
        for end in ends:
            end.recv(65536)
    for end in ends:
        end.close()
    for sub in list(fanout.subscribers):
        assert sub.sink is not None
        sub.sink.abort()
    return spent / events / screens_n * 1e6


def line(name: str, values: list[float]) -> str:
    return (f"p50 {statistics.median(values):6.2f} ms  p99 {pct(values, 0.99):6.2f} ms  "
            f"[{name}, n={len(values)}]")


async def measure(server: ServerProcess, redis_url: str, args: argparse.Namespace) -> int:
    tmp = server.data_dir
    misses: list[str] = []
    processes: list[asyncio.subprocess.Process] = []
    bare_port = free_port()
    (tmp / "bare_ws.py").write_text(BARE_APP)
    processes.append(await start(
        sys.executable, "-m", "uvicorn", "bare_ws:app", "--port", str(bare_port),
        "--log-level", "warning", "--ws", "websockets-sansio", "--ws-per-message-deflate",
        "false", cwd=tmp, port=bare_port))
    floors = {"bare": (f"ws://127.0.0.1:{bare_port}/ws", bare_port)}
    why_not = node_ready()
    if why_not is None:
        screens_port, post_port = free_port(), free_port()
        for port in (screens_port, post_port):
            processes.append(await start("node", "server.js", str(port), redis_url,
                                         cwd=NODE_DIR, port=port))
        floors["socketio"] = (
            f"ws://127.0.0.1:{screens_port}/socket.io/?EIO=4&transport=websocket", post_port)
    else:
        print(f"NOTE: {why_not}")
    try:
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
              f"(other work on the machine inflates every figure); python "
              f"{sys.version.split()[0]}; ANTRIAN_FANOUT_FAST="
              f"{os.environ.get('ANTRIAN_FANOUT_FAST', '1')}", flush=True)
        for screens_n in args.screens:
            print(f"\n== {screens_n} screens ==", flush=True)
            await issue(server, "A", args.calls)
            await issue(server, "B", int(len(COUNTER_STEPS) * args.seconds * TICKETS_PER_S))
            ours = SweepScreens()
            await ours.open(server.ws_url + "/ws/display", screens_n)
            res = await latency(server, ours, floors, screens_n, args.calls)
            for name, values in res.items():
                print(f"call -> last screen: {line(name, values)}")
            if "socketio" in res:
                for q, label in ((0.5, "p50"), (0.99, "p99")):
                    mine, theirs = pct(res["antrian"], q), pct(res["socketio"], q)
                    ok = mine <= theirs
                    print(f"  {label} antrian {mine:.2f} ms vs Socket.IO {theirs:.2f} ms "
                          f"(target: no higher) {'ok' if ok else 'MISSED'}")
                    if not ok:
                        misses.append(f"{label} at {screens_n} screens")
            rates: list[float] = []
            ours.parse = False
            for counters in COUNTER_STEPS:
                rate, cpu_ms, busy = await throughput(server, counters, args.seconds)
                print(f"throughput, {counters:2} counters: {rate:6.0f} calls/s, server CPU "
                      f"{cpu_ms:.2f} ms per call, {busy:.0%} of one core", flush=True)
                rates.append(rate)
            await ours.close()
            best = max(rates)
            # saturated: the fewest counters that already reach 90 % of the best rate
            knee = next(c for c, r in zip(COUNTER_STEPS, rates, strict=True) if r >= 0.9 * best)
            print(f"  saturation: {best:.0f} calls/s, 90 % of it reached by {knee} counters"
                  + (" (still rising at the last step)" if rates[-1] == best
                     and knee == COUNTER_STEPS[-1] else ""))
            if screens_n == 200:
                ok = best >= THROUGHPUT_200
                print(f"  target >= {THROUGHPUT_200} calls/s with 200 screens: "
                      f"{'ok' if ok else 'MISSED'}")
                if not ok:
                    misses.append("throughput at 200 screens")
        cost = await fast_path_cost(1000)
        print(f"\nfast path's own cost (in this process, 1,000 socket pairs): {cost:.1f} µs "
              "CPU per screen per event")
        print(f"\n== {args.idle} idle screens on one process ==")
        per_kib, alive = await idle_memory(server, args.idle)
        print(f"memory per idle screen: {per_kib:.1f} KiB (target < {MEMORY_KIB} KiB) "
              f"{'ok' if per_kib < MEMORY_KIB else 'MISSED'}")
        print(f"idle screens open: {alive}/{args.idle} (target {IDLE_SCREENS}) "
              f"{'ok' if alive >= IDLE_SCREENS else 'MISSED'}")
        if per_kib >= MEMORY_KIB:
            misses.append("memory per idle screen")
        if alive < IDLE_SCREENS:
            misses.append("idle screens")
        print("\n" + (f"targets missed: {', '.join(misses)}" if misses else "all targets met"))
        return 1 if misses else 0
    finally:
        for process in processes:
            process.terminate()
            await process.wait()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screens", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--idle", type=int, default=IDLE_SCREENS)
    args = parser.parse_args()
    raise_fd_limit()
    with bench_server() as bench:
        assert bench.server.redis_url is not None
        return await measure(bench.server, bench.server.redis_url, args)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
