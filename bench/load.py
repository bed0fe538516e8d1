"""Load sweep of antrian's fan-out over sites x counters x screens, printed as figures with their
targets (not a test).

Starts a real redis-server and `antrian serve` (the 29-counter bench site), a bare Starlette
broadcast server (the floor: one send_text per screen, nothing else) and, when npm is present,
Socket.IO with @socket.io/redis-streams-adapter as two Node processes (screens on one, the
broadcast posted to the other, so every message crosses Redis Streams as antrian's do). npm
installs socket.io into a temp dir outside the repo the first time (ANTRIAN_BENCH_NODE_DIR,
default /tmp/antrian-bench-socketio); without npm that column is skipped, with a note.

The load generator is this script in --clients (default 4) worker processes: the screens (the
same Python WebSocket client for antrian, Socket.IO and the floor) and the calling counters are
split over them, each worker times what its own screens receive (CLOCK_MONOTONIC, shared by all
processes) and reports back, so reading hundreds of screens is not the limit; the generator's
CPU is printed beside the server's so it is visible which side saturates.

Sites (default 1 and 10): N site configs (distinct site ids, 29 counters each, the bench site's
services) on ONE redis-server, one `antrian serve` process per site (the many-sites design), 20
screens per site, every site calling at a fixed 2 calls/s (an officer calls about once a minute,
so 2/s is ~4 times a full 29-counter office), the counters taking turns; call -> last screen of
that site, p50/p99, calls/s, CPU and memory per screen of all site processes. The budget "10
sites x 29 counters x 20 screens on two server processes: p99 < 50 ms" is judged on 10 site
processes on this 2-core machine.

For each number of screens on one site (default 200 and 1,000):
- call -> last screen: one call at a time, the time from sending the request until the last
  screen has the message; antrian, Socket.IO and the floor interleaved, call by call, every
  server's screens getting the same message: the floors broadcast antrian's own call event of
  that call, byte for byte (its ticket code is their marker; Socket.IO adds its 42["msg",...]
  framing), and the bytes per frame each column's screens received are printed. antrian
  twice: one process taking the call-next POST and all screens (the small-site deployment),
  and, in Socket.IO's shape, two `antrian serve` processes of one site (its own site id, on
  the same Redis and data dir: the documented "several processes behind one address") with
  the POST sent to the first and all screens on the second, so every call crosses the site's
  Redis stream. The budget against Socket.IO is judged on that two-process column; the
  one-process comparison is printed beside it, for information;
- throughput: 1, 4, 16 and 29 counters calling as fast as they can: calls/s, server CPU per
  call and share of a core, the generator's, Redis's and the whole machine's; the saturation
  point is the fewest counters already reaching 90 % of the best rate. During these steps each
  screen counts its frames from the socket's bytes (no WebSocket library), and the script
  checks that every screen stayed open and got one message per call.
Then memory per idle screen: server RSS before and after opening --idle (5,000) screens.

Targets (issue 14): 10 sites x 20 screens p99 < 50 ms; at 200 and at 1,000 screens antrian's
p50 and p99 no higher than Socket.IO's; >= 400 call-next/s with 200 screens; < 32 KiB per idle
screen; 5,000 idle screens on one process. Exits non-zero when one is missed.

Run: .venv/bin/python bench/load.py [--sites 1 10] [--screens 200 1000] [--calls 200]
     [--seconds 5] [--clients 4] [--site-seconds 30] [--no-throughput] [--idle 0]
(latency only: --sites --no-throughput --idle 0)
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
from typing import Any, NamedTuple

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))

from call_latency import BARE_APP, RawHttp, cpu_seconds, pct, rss_kib
from conftest import ServerProcess, free_port, wait_until, write_site
from serving import BENCH_ENV, COUNTERS, bench_server, raise_fd_limit

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
SITES_P99_MS = 50      # call -> last screen p99 with 10 sites x 20 screens, under
SITES_BUDGET = 10      # the number of sites that budget is about
COUNTER_STEPS = (1, 4, 16, 29)
TICKETS_PER_S = 1500  # tickets issued per second of a throughput step: more than it calls


# ---------------------------------------------------------------- the worker (one process) --

class FrameCounter:
    """Counts a connection's WebSocket frames from the raw bytes (server frames are unmasked):
    what a screen costs the load generator while the throughput steps run, a fraction of a
    WebSocket library's per-message work. It answers the server's pings."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self.transport = transport
        self.rest = b""
        self.frames = 0
        self.pings = 0

    def feed(self, data: bytes) -> None:
        buf = self.rest + data if self.rest else data
        pos, end = 0, len(buf)
        while pos + 2 <= end:
            length, head = buf[pos + 1] & 0x7F, 2
            if length == 126:
                if pos + 4 > end:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if pos + 10 > end:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if pos + head + length > end:
                break
            opcode = buf[pos] & 0x0F
            if opcode in (1, 2):
                self.frames += 1
            elif opcode == 9 and length < 126:  # ping: a pong with its payload, masked
                self.pings += 1
                mask = os.urandom(4)
                payload = buf[pos + head:pos + head + length]
                self.transport.write(bytes([0x8A, 0x80 | length]) + mask
                                     + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
            pos += head + length
        self.rest = buf[pos:]


def marker_of(message: Any) -> str | None:
    """What identifies a message on every server's screens: a call event's ticket code (the
    floors broadcast antrian's own call events), else a bare "marker"."""
    if not isinstance(message, dict):
        return None
    if message.get("type") == "call":
        return message.get("ticket")
    return message.get("marker")


class Group:
    """Screens of one kind in a worker: records when each sees a marker; a waiter for a
    marker is answered when the last of the group's screens has it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.seen: dict[str, list[int]] = {}
        self.waiters: dict[str, list[asyncio.Future[int]]] = {}
        self.parse = True
        self.received = 0
        self.counters: list[FrameCounter] = []
        self.sizes: list[int] = []       # WebSocket payload bytes of each marked message
        self.texts: dict[str, str] = {}  # the message that carried each marker, as received

    async def open(self, url: str, count: int) -> None:
        for _ in range(count):
            if self.kind == "socketio":
                ws = await websockets.connect(url, max_size=None, ping_interval=None,
                                              compression=None)
                await ws.recv()          # 0{"sid":...}: the Engine.IO handshake
                await ws.send("40")      # join the default namespace
                await ws.recv()          # 40{"sid":...}
            else:
                ws = await websockets.connect(url, max_size=None, ping_interval=None)
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read(ws)))

    def _mark(self, marker: str, now: int, raw: str) -> None:
        times = self.seen.setdefault(marker, [])
        if not times:   # its first screen in this worker: the message's size and text, once
            self.sizes.append(len(raw.encode()))
            self.texts[marker] = raw
        times.append(now)
        if len(times) == len(self.sockets):
            for future in self.waiters.pop(marker, []):
                if not future.done():
                    future.set_result(max(times))

    async def _read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                if not self.parse:
                    self.received += 1
                    continue
                now = time.monotonic_ns()
                if self.kind == "socketio":
                    if raw == "2":
                        await ws.send("3")   # Engine.IO ping -> pong
                    elif raw.startswith("42"):
                        marker = marker_of(json.loads(raw[2:])[1])
                        if marker:
                            self._mark(marker, now, raw)
                    continue
                marker = marker_of(json.loads(raw))
                if marker:
                    self._mark(marker, now, raw)
        except websockets.ConnectionClosed:
            pass

    async def wait(self, marker: str, timeout: float) -> tuple[int, str | None]:
        """When the last screen had the marker, and the message that carried it."""
        try:
            return await self._wait(marker, timeout), self.texts.get(marker)
        finally:
            self.texts.pop(marker, None)

    async def _wait(self, marker: str, timeout: float) -> int:
        times = self.seen.get(marker, [])
        if len(times) >= len(self.sockets):
            return max(times)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(marker, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"{marker}: {len(self.seen.get(marker, []))}/"
                               f"{len(self.sockets)} screens") from None

    def count_raw(self) -> None:
        """From now on each screen only counts its frames from the socket's bytes (the
        library no longer sees them; the connection still notices a close)."""
        for ws in self.sockets:
            counter = FrameCounter(ws.transport)
            ws.data_received = counter.feed
            self.counters.append(counter)

    def alive(self) -> int:
        return sum(1 for ws in self.sockets if ws.protocol.state.name == "OPEN")

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.counters:   # the library cannot read a close frame any more
            for ws in self.sockets:
                ws.transport.abort()
            return
        # together: a socket whose unread backlog delays its close frame waits close_timeout
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


async def counters_flat_out(port: int, headers: dict[str, dict[str, str]],
                            stop_at: float) -> tuple[int, bool]:
    """These counters calling as fast as they can until `stop_at` (monotonic): calls made,
    and whether the queue ran dry before the end."""
    done, dry = 0, False

    async def counter(auth: dict[str, str], n: str) -> None:
        nonlocal done, dry
        http = RawHttp("127.0.0.1", port)
        while time.monotonic() < stop_at:
            status, body = await http.post(f"/api/counters/{n}/call-next", headers=auth)
            if status == 200 and b'"ticket":null' not in body:
                done += 1
            elif status == 200:
                dry = True
        await http.close()

    await asyncio.gather(*(counter(auth, n) for n, auth in headers.items()))
    return done, dry


async def worker() -> None:
    """Commands as JSON lines on stdin, answers as JSON lines on stdout (with the same id)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    groups: dict[str, Group] = {}
    pending: set[asyncio.Task[None]] = set()

    def answer(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    async def handle(command: dict[str, Any]) -> None:
        op, reply = command["op"], {"id": command["id"]}
        try:
            if op == "open":
                group = groups.setdefault(command["group"], Group(command["kind"]))
                await group.open(command["url"], command["count"])
            elif op == "wait":
                reply["last"], text = await groups[command["group"]].wait(command["marker"],
                                                                          command["timeout"])
                if command.get("text"):
                    reply["text"] = text
            elif op == "sizes":
                reply["sizes"] = groups[command["group"]].sizes
            elif op == "raw":
                groups[command["group"]].count_raw()
            elif op == "frames":
                group = groups[command["group"]]
                reply["frames"] = sum(c.frames for c in group.counters)
                reply["pings"] = sum(c.pings for c in group.counters)
                reply["alive"] = group.alive()
            elif op == "parse":
                groups[command["group"]].parse = command["on"]
            elif op == "alive":
                reply["alive"] = groups[command["group"]].alive()
            elif op == "close":
                await groups.pop(command["group"]).close()
            elif op == "counters":
                stop_at = time.monotonic() + command["seconds"]
                reply["done"], reply["dry"] = await counters_flat_out(
                    command["port"], command["headers"], stop_at)
        except Exception as error:  # reported to the coordinator, which prints and stops
            reply["error"] = f"{type(error).__name__}: {error}"
        answer(reply)

    while line := await reader.readline():
        task = asyncio.create_task(handle(json.loads(line)))
        pending.add(task)
        task.add_done_callback(pending.discard)
    for group in groups.values():
        await group.close()


# ------------------------------------------------------------ the coordinator's view of them --

class Generator:
    """The worker processes; screens of a group are split evenly over them."""

    def __init__(self) -> None:
        self.processes: list[asyncio.subprocess.Process] = []
        self.readers: list[asyncio.Task[None]] = []
        self.futures: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.next_id = 0
        self.split: dict[str, list[int]] = {}

    async def start(self, count: int) -> None:
        for _ in range(count):
            process = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--worker", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, limit=1 << 24)
            self.processes.append(process)
            self.readers.append(asyncio.create_task(self._answers(process)))

    async def _answers(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            message = json.loads(line)
            future = self.futures.pop(message["id"])
            if not future.done():
                future.set_result(message)

    async def ask(self, worker: int, op: str, **args: Any) -> dict[str, Any]:
        self.next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.futures[self.next_id] = future
        stdin = self.processes[worker].stdin
        assert stdin is not None
        stdin.write(json.dumps({"id": self.next_id, "op": op, **args}).encode() + b"\n")
        answer = await future
        if "error" in answer:
            raise RuntimeError(f"load generator {worker}: {answer['error']}")
        return answer

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes)

    async def open(self, group: str, kind: str, url: str, count: int) -> None:
        n = len(self.processes)
        self.split[group] = [count // n + (1 if w < count % n else 0) for w in range(n)]
        await asyncio.gather(*(self.ask(w, "open", group=group, kind=kind, url=url, count=c)
                               for w, c in enumerate(self.split[group]) if c))

    def _holders(self, group: str) -> list[int]:
        return [w for w, c in enumerate(self.split[group]) if c]

    async def wait(self, group: str, marker: str, timeout: float = 20) -> int:
        """When the last screen of the group had the marker (monotonic ns)."""
        return (await self.wait_text(group, marker, timeout, text=False))[0]

    async def wait_text(self, group: str, marker: str, timeout: float = 20,
                        text: bool = True) -> tuple[int, str]:
        """When the last screen of the group had the marker, and (with `text`) the message
        that carried it, as a screen received it."""
        answers = await asyncio.gather(*(self.ask(w, "wait", group=group, marker=marker,
                                                  timeout=timeout, text=text)
                                         for w in self._holders(group)))
        return (max(int(a["last"]) for a in answers),
                next((a["text"] for a in answers if a.get("text")), ""))

    async def sizes(self, group: str) -> list[int]:
        """The WebSocket payload bytes of each marked message, as the group's screens got it."""
        return [size for a in await self.each(group, "sizes") for size in a["sizes"]]

    async def each(self, group: str, op: str, **args: Any) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self.ask(w, op, group=group, **args)
                                           for w in self._holders(group))))

    async def close(self, group: str) -> None:
        await self.each(group, "close")
        del self.split[group]

    async def counters(self, port: int, headers: dict[int, dict[str, str]],
                       seconds: float) -> tuple[int, bool]:
        """The counters calling flat out for `seconds`, dealt round-robin over the workers:
        calls made, and whether the queue ran dry."""
        n = len(self.processes)
        shares = [{str(c): h for c, h in headers.items() if c % n == w} for w in range(n)]
        answers = await asyncio.gather(*(self.ask(w, "counters", port=port, headers=share,
                                                  seconds=seconds)
                                         for w, share in enumerate(shares) if share))
        return sum(int(a["done"]) for a in answers), any(a["dry"] for a in answers)

    async def stop(self) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.close()
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        for task in self.readers:
            task.cancel()


# ----------------------------------------------------------------------- the coordinator --

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


def server_pid(server: ServerProcess) -> int:
    assert server.process is not None
    return server.process.pid


async def sites_run(redis_url: str, tmp: Path, sites: int, gen: Generator,
                    args: argparse.Namespace) -> float:
    """`sites` site processes on one Redis, each with its screens and calls at a fixed rate;
    prints the figures and returns the p99 (ms) of call -> last screen of that site."""
    servers: list[ServerProcess] = []
    for k in range(1, sites + 1):
        data = tmp / f"sites{sites}-{k}"
        data.mkdir()
        config = write_site(data / "site.toml", f"bench-{sites}x{k}", counters=COUNTERS)
        servers.append(ServerProcess(config, redis_url, data, extra_env=BENCH_ENV))
    rate, seconds, screens = args.site_rate, args.site_seconds, args.site_screens
    per_site = int(rate * seconds)
    print(f"\n== {sites} site{'s' if sites > 1 else ''}: {sites} server process"
          f"{'es' if sites > 1 else ''} (one per site), {os.cpu_count()} cores, one "
          f"redis-server; {COUNTERS} counters and {screens} screens per site; each site "
          f"calls {rate:g}/s, its counters taking turns, for {seconds:g} s ==", flush=True)
    try:
        for server in servers:
            server.start()
        await asyncio.gather(*(issue(server, "A", per_site + 8) for server in servers))
        rss_before = [rss_kib(server_pid(s)) for s in servers]
        for k, server in enumerate(servers):
            await gen.open(f"site{k}", "antrian", server.ws_url + "/ws/display", screens)
        await asyncio.sleep(2.0)
        rss_after = [rss_kib(server_pid(s)) for s in servers]
        latencies: list[float] = []
        lost: list[str] = []

        async def site(k: int, server: ServerProcess) -> None:
            https = [RawHttp("127.0.0.1", server.port) for _ in range(COUNTERS)]
            calls: list[asyncio.Task[None]] = []

            async def call(i: int) -> None:
                n = i % COUNTERS + 1
                begin = time.monotonic_ns()
                status, body = await https[n - 1].post(f"/api/counters/{n}/call-next",
                                                       headers=server.api.auth(n))
                ticket = json.loads(body)["ticket"] if status == 200 else None
                if ticket is None:
                    lost.append(f"site {k + 1} call {i}: {status} {body[:80]!r}")
                    return
                try:
                    last = await gen.wait(f"site{k}", ticket["code"])
                except RuntimeError as error:
                    lost.append(str(error))
                    return
                latencies.append((last - begin) / 1e6)

            first = start_at + k / (sites * rate)   # sites staggered over one interval
            for i in range(per_site):
                await asyncio.sleep(max(0.0, first + i / rate - time.monotonic()))
                calls.append(asyncio.create_task(call(i)))
            await asyncio.gather(*calls)
            for http in https:
                await http.close()

        cpu_before = sum(cpu_seconds(server_pid(s)) for s in servers)
        gen_before, machine_before = gen.cpu(), machine_jiffies()
        start_at = time.monotonic() + 0.5
        await asyncio.gather(*(site(k, s) for k, s in enumerate(servers)))
        elapsed = time.monotonic() - start_at
        cpu = sum(cpu_seconds(server_pid(s)) for s in servers) - cpu_before
        gen_cpu = gen.cpu() - gen_before
        busy, total = (machine_jiffies()[i] - machine_before[i] for i in range(2))
        for k in range(sites):
            await gen.close(f"site{k}")
        done = len(latencies)
        print(f"calls: {done} in {elapsed:.1f} s = {done / elapsed:.1f} calls/s over all sites"
              + (f"; NOT ANSWERED: {len(lost)} ({lost[0]})" if lost else ""))
        p99 = pct(latencies, 0.99) if latencies else float("inf")
        if latencies:
            print(f"call -> last screen of its site: {line('antrian', latencies)}")
        print(f"server CPU: {cpu / elapsed:.0%} of one core over the {sites} processes "
              f"({cpu / max(done, 1) * 1000:.2f} ms per call, background work included); load "
              f"generator {gen_cpu / elapsed:.0%} of one core; machine {busy / max(total, 1):.0%} "
              f"busy (all {os.cpu_count()} cores, every process)")
        print(f"server RSS growth per screen opened: "
              f"{(sum(rss_after) - sum(rss_before)) / (sites * screens):.1f} KiB (with so few "
              f"screens, mostly each process's first-connection warm-up); RSS of the "
              f"{sites} processes {sum(rss_after) / 1024:.0f} MiB "
              f"({sum(rss_after) / 1024 / sites:.0f} MiB each)", flush=True)
        return p99 if not lost else float("inf")
    finally:
        for server in servers:
            server.stop()


ANSWER = "antrian: the call-next answer alone"
PAIR = "pair"   # antrian as Socket.IO runs: the POST on one process, the screens on another
PAIR_ANSWER = "pair: the call-next answer alone"
LABELS = {"antrian": "antrian, 1 process (POST and screens on it)",
          ANSWER: "antrian, 1 process: the call-next answer alone",
          PAIR: "antrian, 2 processes (POST on one, screens on the other), as Socket.IO's",
          PAIR_ANSWER: "antrian, 2 processes: the call-next answer alone",
          "socketio": "Socket.IO + Redis Streams adapter, 2 processes (POST on one, screens "
                      "on the other)",
          "bare": "bare Starlette broadcast, 1 process (the floor)"}


async def latency(server: ServerProcess, gen: Generator, floors: dict[str, tuple[str, int]],
                  screens_n: int, calls: int,
                  pair: tuple[ServerProcess, ServerProcess] | None = None
                  ) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """Request sent -> the last of `screens_n` screens has the message, one at a time,
    antrian and each floor interleaved call by call; and the WebSocket payload bytes of each
    message as each column's screens got it. Every server's screens get the same message:
    the floors broadcast the very call event the one-process antrian screens just received
    for this call (its ticket code is their marker), byte for byte (Socket.IO wraps it in its
    own `42["msg",...]` framing). With `pair` (two processes of one
    other site on the same Redis), also that site's call-next POSTed to the first while its
    `screens_n` screens are on the second: every call crosses the site's Redis stream, as
    Socket.IO's broadcasts cross the Streams adapter."""
    http = RawHttp("127.0.0.1", server.port)
    posters: dict[str, RawHttp] = {}
    pair_http: RawHttp | None = None
    if pair is not None:
        await gen.open(PAIR, "antrian", pair[1].ws_url + "/ws/display", screens_n)
        pair_http = RawHttp("127.0.0.1", pair[0].port)
    for name, (url, post_port) in floors.items():
        await gen.open(name, "socketio" if name == "socketio" else "bare", url, screens_n)
        posters[name] = RawHttp("127.0.0.1", post_port)
    await asyncio.sleep(1.0)
    results: dict[str, list[float]] = {"antrian": [], ANSWER: [],
                                       **({PAIR: [], PAIR_ANSWER: []} if pair else {}),
                                       **{name: [] for name in posters}}
    for i in range(calls):
        n = i % COUNTERS + 1
        begin = time.monotonic_ns()
        _, body = await http.post(f"/api/counters/{n}/call-next", headers=server.api.auth(n))
        answered = time.monotonic_ns()
        code = json.loads(body)["ticket"]["code"]
        last, event = await gen.wait_text("ours", code)
        results["antrian"].append((last - begin) / 1e6)
        results[ANSWER].append((answered - begin) / 1e6)
        if pair is not None and pair_http is not None:
            begin = time.monotonic_ns()
            _, body = await pair_http.post(f"/api/counters/{n}/call-next",
                                           headers=pair[0].api.auth(n))
            answered = time.monotonic_ns()
            last = await gen.wait(PAIR, json.loads(body)["ticket"]["code"])
            results[PAIR].append((last - begin) / 1e6)
            results[PAIR_ANSWER].append((answered - begin) / 1e6)
        message = event.encode()   # antrian's call event for this call, as its screens got it
        for name, poster in posters.items():
            begin = time.monotonic_ns()
            await poster.post("/broadcast", message)
            last = await gen.wait(name, code)
            results[name].append((last - begin) / 1e6)
    sizes = {"antrian": await gen.sizes("ours")}
    await http.close()
    if pair_http is not None:
        sizes[PAIR] = await gen.sizes(PAIR)
        await pair_http.close()
        await gen.close(PAIR)
    for name, poster in posters.items():
        sizes[name] = await gen.sizes(name)
        await poster.close()
        await gen.close(name)
    return results, sizes


class Step(NamedTuple):
    rate: float       # calls/s
    cpu_ms: float     # server CPU per call
    server: float     # shares of one core: the server process, the load generator, Redis
    generator: float
    redis: float
    machine: float    # share of all cores busy (every process on the machine)
    dry: bool         # the queue ran out before the end: the rate is too low
    calls: int


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def redis_pid(redis_url: str) -> int | None:
    """The redis-server serving `redis_url`: its process title is "redis-server host:port"."""
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if b"redis-server" in title and title.endswith(b":" + port.encode()):
                return int(entry.name)
    return None


async def throughput(server: ServerProcess, gen: Generator, counters: int,
                     seconds: float) -> Step:
    """`counters` counters calling flat out while the open screens receive every event."""
    pid = server_pid(server)
    rpid = redis_pid(server.redis_url or "")

    def redis_cpu() -> float:
        return cpu_seconds(rpid) if rpid else 0.0

    headers = {n: server.api.auth(n) for n in range(1, counters + 1)}
    before = (cpu_seconds(pid), gen.cpu(), redis_cpu(), machine_jiffies(), time.monotonic())
    done, dry = await gen.counters(server.port, headers, seconds)
    after = (cpu_seconds(pid), gen.cpu(), redis_cpu(), machine_jiffies(), time.monotonic())
    elapsed = after[4] - before[4]
    cpu = after[0] - before[0]
    busy, total = (after[3][i] - before[3][i] for i in range(2))
    return Step(done / elapsed, cpu / max(done, 1) * 1000, cpu / elapsed,
                (after[1] - before[1]) / elapsed, (after[2] - before[2]) / elapsed,
                busy / max(total, 1), dry, done)


async def idle_memory(server: ServerProcess, gen: Generator, idle: int) -> tuple[float, int]:
    """Server RSS growth per idle screen, and how many of `idle` screens are open."""
    pid = server_pid(server)
    await asyncio.sleep(1.0)
    before = rss_kib(pid)
    await gen.open("idle", "antrian", server.ws_url + "/ws/display", idle)
    await asyncio.sleep(2.0)
    after = rss_kib(pid)
    alive = sum(a["alive"] for a in await gen.each("idle", "alive"))
    await gen.close("idle")
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


async def measure(server: ServerProcess, redis_url: str, gen: Generator,
                  args: argparse.Namespace) -> int:
    tmp = server.data_dir
    misses: list[str] = []
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
          f"(other work on the machine inflates every figure); python "
          f"{sys.version.split()[0]}; ANTRIAN_FANOUT_FAST="
          f"{os.environ.get('ANTRIAN_FANOUT_FAST', '1')}; load generator: "
          f"{len(gen.processes)} processes", flush=True)
    for sites in args.sites:
        p99 = await sites_run(redis_url, tmp, sites, gen, args)
        if sites == SITES_BUDGET:
            ok = p99 < SITES_P99_MS
            print(f"  target p99 < {SITES_P99_MS} ms with {SITES_BUDGET} sites x {COUNTERS} "
                  f"counters x {args.site_screens} screens: {'ok' if ok else 'MISSED'}"
                  + ("" if args.site_screens == 20 else " (the budget is about 20 screens)"))
            if not ok:
                misses.append(f"p99 with {SITES_BUDGET} sites")
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
    # antrian as Socket.IO runs: two processes of one site (its own, so the one-process
    # column's screens do not get its calls) on the same Redis and data dir, the documented
    # "several processes behind one address"; call-next to the first, screens on the second
    pair_dir = tmp / "pair"
    pair_dir.mkdir(exist_ok=True)
    pair_config = write_site(pair_dir / "site.toml", "bench-pair", counters=COUNTERS)
    pair = (ServerProcess(pair_config, redis_url, pair_dir, extra_env=BENCH_ENV),
            ServerProcess(pair_config, redis_url, pair_dir, extra_env=BENCH_ENV))
    try:
        for pair_process in pair:
            pair_process.start()
        for screens_n in args.screens:
            print(f"\n== 1 site, 1 server process, {screens_n} screens ==", flush=True)
            await issue(server, "A", args.calls)
            await issue(pair[0], "A", args.calls)
            if args.throughput:
                await issue(server, "B", int(len(COUNTER_STEPS) * args.seconds * TICKETS_PER_S))
            await gen.open("ours", "antrian", server.ws_url + "/ws/display", screens_n)
            res, sizes = await latency(server, gen, floors, screens_n, args.calls, pair)
            print("call -> last screen, interleaved call by call, read by the same client, "
                  "the same message (antrian's call event) on every server:")
            for name, values in res.items():
                print(f"  {line(LABELS.get(name, name), values)}")
            print("  message received per frame (WebSocket payload bytes, min-median-max over "
                  "the calls):")
            for name, got in sizes.items():
                print(f"    {LABELS.get(name, name)}: " + (
                    f"{min(got)}-{statistics.median(got):g}-{max(got)} bytes" if got
                    else "none") + (" (its 42[\"msg\",...] framing included)"
                                    if name == "socketio" else ""))
            if "socketio" in res:
                for key, what, budget in (
                        (PAIR, "antrian, 2 processes (POST on one, screens on the other), "
                               "as Socket.IO's", True),
                        ("antrian", "antrian, 1 process (POST and screens on it; not the "
                                    "budget's shape)", False)):
                    for q, label in ((0.5, "p50"), (0.99, "p99")):
                        mine, theirs = pct(res[key], q), pct(res["socketio"], q)
                        ok = mine <= theirs
                        verdict = (("ok" if ok else "MISSED") if budget
                                   else ("no higher" if ok else "higher") + ", for information")
                        print(f"  {label} {what}: {mine:.2f} ms vs Socket.IO's {theirs:.2f} ms"
                              + (" (target: no higher) " if budget else ": ") + verdict)
                        if budget and not ok:
                            misses.append(f"{label} at {screens_n} screens")
            if not args.throughput:
                await gen.close("ours")
                continue
            rates: list[float] = []
            await gen.each("ours", "raw")
            calls_made = 0
            for counters in COUNTER_STEPS:
                step = await throughput(server, gen, counters, args.seconds)
                print(f"throughput, {counters:2} counters: {step.rate:6.0f} calls/s, server CPU "
                      f"{step.cpu_ms:.2f} ms per call, {step.server:.0%} of one core; load "
                      f"generator {step.generator:.0%}, redis {step.redis:.0%} of one core; "
                      f"machine {step.machine:.0%} busy (all {os.cpu_count()} cores, every "
                      "process)" + (" (the queue ran dry: the rate is too low)" if step.dry
                                    else ""), flush=True)
                rates.append(step.rate)
                calls_made += step.calls
            await asyncio.sleep(2.0)   # the last step's messages still on their way
            counted = await gen.each("ours", "frames")
            frames = sum(a["frames"] for a in counted)
            print(f"  screens still open after the steps: {sum(a['alive'] for a in counted)}/"
                  f"{screens_n}; messages received per screen per call: "
                  f"{frames / max(1, screens_n * calls_made):.3f} (each call is one message)"
                  f"; server pings answered: {sum(a['pings'] for a in counted)}")
            await gen.close("ours")
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
        if args.idle:
            cost = await fast_path_cost(1000)
            print(f"\nfast path's own cost (in this process, 1,000 socket pairs): {cost:.1f} µs "
                  "CPU per screen per event")
            print(f"\n== {args.idle} idle screens on one process ==")
            per_kib, alive = await idle_memory(server, gen, args.idle)
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
        for pair_process in pair:
            pair_process.stop()
        for process in processes:
            process.terminate()
            await process.wait()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, nargs="*", default=[1, SITES_BUDGET])
    parser.add_argument("--site-screens", type=int, default=20, help="screens per site")
    parser.add_argument("--site-rate", type=float, default=2.0, help="calls/s per site")
    parser.add_argument("--site-seconds", type=float, default=30)
    parser.add_argument("--screens", type=int, nargs="*", default=[200, 1000])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--idle", type=int, default=IDLE_SCREENS, help="0: skip")
    parser.add_argument("--throughput", action=argparse.BooleanOptionalAction, default=True,
                        help="the counters-flat-out steps (--no-throughput: latency only)")
    parser.add_argument("--clients", type=int, default=4, help="load generator processes")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    raise_fd_limit()
    if args.worker:
        await worker()
        return 0
    gen = Generator()
    await gen.start(args.clients)
    try:
        with bench_server() as bench:
            assert bench.server.redis_url is not None
            return await measure(bench.server, bench.server.redis_url, gen, args)
    finally:
        await gen.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
