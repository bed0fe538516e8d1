"""Issue 14's budget in its literal form: 10 sites x 29 counters x 20 screens on TWO server
processes, call -> last screen of that site p99 under 50 ms (not a test).

One redis-server and two `antrian serve` processes, each started with all the site configs
(`--config` repeated, the same data dir and Redis: docs/operations.md "Banyak situs"), the site
chosen by the Host header: site k answers for `s<k>.bench`. Each site's screens are split over
both processes (10 + 10), every WebSocket and request naming its site's Host while dialling
127.0.0.1. Every site calls at a fixed 2 calls/s (bench/load.py's sites run: ~4 times a full
29-counter office), its counters taking turns, for --seconds; counter n's POSTs go to process
1 when n is odd, to process 2 when it is even (two processes behind one address), so half of
the screens of every call are on the process that took it and half on the other.

The load generator is bench/load.py's (worker processes on the shared monotonic clock), its
screens here connecting by Host and counting, per screen, the site its snapshot named and the
event id of every call it got. Printed: call -> last screen of its site p50/p99 over all sites
(and of the screens on the POST's process and on the other one), the two processes' CPU share
and RSS, Redis's and the generator's CPU, the machine's busy share, calls made, the screens
each site had; then the check that every screen got every call of its own site, once, and none
of another's. Exits 1 when the budget is missed, a call is not answered or not shown, or the
check fails.

Run: .venv/bin/python bench/sites.py [--sites 10] [--screens 20] [--rate 2] [--seconds 30]
     [--clients 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import load
import websockets
from call_latency import RawHttp, cpu_seconds, pct, rss_kib
from conftest import RedisServer, ServerProcess, write_site
from load import Generator, Group, line, machine_jiffies, redis_pid
from serving import BENCH_ENV, COUNTERS, raise_fd_limit

from display_server.tokens import counter_token, kiosk_token, load_secret

P99_MS = 50        # call -> last screen of its site, p99, under (issue 14)
PROCESSES = 2
REPORT = "?report"  # the marker a screen group answers with its screens' summary


class ScreenGroup(Group):
    """load.py's screen group whose screens dial 127.0.0.1 with their site's Host (the url's
    host) and keep, each, the site its snapshot named and the event ids of the calls it got."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.site: list[str | None] = []
        self.calls: list[list[str]] = []

    async def open(self, url: str, count: int) -> None:
        port = urlsplit(url).port
        for _ in range(count):
            ws = await websockets.connect(url, host="127.0.0.1", port=port, max_size=None,
                                          ping_interval=None)
            self.sockets.append(ws)
            self.site.append(None)
            self.calls.append([])
            self.tasks.append(asyncio.create_task(self._screen(ws, len(self.sockets) - 1)))

    async def _screen(self, ws: Any, screen: int) -> None:
        try:
            async for raw in ws:
                now = time.monotonic_ns()
                message = json.loads(raw)
                if message.get("type") == "snapshot":
                    self.site[screen] = message["site"]["id"]
                elif message.get("type") == "call":
                    self.calls[screen].append(message["event_id"])
                    self._mark(message["ticket"], now, raw)
        except websockets.ConnectionClosed:
            pass

    async def wait(self, marker: str, timeout: float) -> tuple[int, str | None]:
        """load.py's worker protocol has no op for a summary: asked to wait for REPORT, the
        group answers at once with its screens' sites and calls as the text."""
        if marker == REPORT:
            return 0, json.dumps([{"site": s, "calls": c, "open": ws.protocol.state.name
                                   == "OPEN"} for s, c, ws in zip(self.site, self.calls,
                                                                 self.sockets, strict=True)])
        return await super().wait(marker, timeout)


class SitesGenerator(Generator):
    """load.py's generator whose workers run this script (their groups are ScreenGroups)."""

    async def start(self, count: int) -> None:
        spawned = await asyncio.gather(*(asyncio.create_subprocess_exec(
            sys.executable, __file__, "--worker", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, limit=1 << 24) for _ in range(count)))
        self.processes += spawned
        self.readers += [asyncio.create_task(self._answers(p)) for p in spawned]

    async def report(self, group: str) -> list[dict[str, Any]]:
        answers = await self.each(group, "wait", marker=REPORT, timeout=0, text=True)
        return [screen for a in answers for screen in json.loads(a["text"])]


class SiteHttp(RawHttp):
    """load.py's raw HTTP client: it dials 127.0.0.1, its requests name the site's Host."""

    async def post(self, path: str, body: bytes = b"",
                   headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
        if self.reader is None or self.reader.at_eof():  # the server closes idle ones
            await self.close()
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return await super().post(path, body, headers)


class Site:
    def __init__(self, k: int, root: Path) -> None:
        self.k = k
        self.id = f"bench-s{k}"
        self.host = f"s{k}.bench"
        self.config = write_site(root / f"s{k}.toml", self.id, counters=COUNTERS)
        zone = 'timezone = "Asia/Jakarta"\n'
        text = self.config.read_text()  # and the Host it answers for
        self.config.write_text(text.replace(zone, f'{zone}hosts = ["{self.host}"]\n', 1))
        self.secret = b""
        self.calls: list[str] = []   # the event id of each call it made

    def auth(self, counter: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {counter_token(self.secret, self.id, counter)}"}

    def group(self, process: int) -> str:
        return f"s{self.k}p{process}"


async def issue(site: Site, port: int, count: int) -> None:
    """The tickets of the calls to come, issued before the screens connect."""
    kiosks = [SiteHttp(site.host, port) for _ in range(4)]
    auth = {"Authorization": f"Bearer {kiosk_token(site.secret, site.id)}"}

    async def kiosk(http: SiteHttp) -> None:
        for _ in range(count // len(kiosks) + 1):
            status, body = await http.post("/api/tickets", b'{"service":"A"}', auth)
            if status != 201:
                raise RuntimeError(f"{site.host}: ticket refused, {status} {body[:200]!r}")
        await http.close()

    await asyncio.gather(*(kiosk(http) for http in kiosks))


def check(sites: list[Site], reports: dict[str, list[dict[str, Any]]],
          screens: int) -> list[str]:
    """Every screen of a site named that site in its snapshot, stayed open, got each of the
    site's calls once and no other call."""
    problems: list[str] = []
    for site in sites:
        own, counts = set(site.calls), []
        for process in range(PROCESSES):
            for n, screen in enumerate(reports[site.group(process)]):
                got = Counter(screen["calls"])
                missing = len(own - set(got))
                foreign = sum(c for e, c in got.items() if e not in own)
                twice = sum(c - 1 for e, c in got.items() if e in own and c > 1)
                counts.append(len(screen["calls"]))
                where = f"{site.host} screen {n + 1} on process {process + 1}"
                if screen["site"] != site.id:
                    problems.append(f"{where}: its snapshot named site {screen['site']}")
                if not screen["open"]:
                    problems.append(f"{where}: closed")
                if missing or foreign or twice:
                    problems.append(f"{where}: {missing} of its site's {len(own)} calls "
                                    f"missing, {foreign} of another site, {twice} twice")
        split = " + ".join(str(len(reports[site.group(p)])) for p in range(PROCESSES))
        print(f"  {site.host}: {split} screens on processes 1, 2 (of {screens}), {len(own)} "
              f"calls, calls per screen {min(counts)}-{max(counts)}")
    return problems


async def run(args: argparse.Namespace, gen: SitesGenerator, root: Path) -> int:
    redis_server = RedisServer(root / "redis").start()
    data = root / "data"
    data.mkdir()
    sites = [Site(k, root) for k in range(1, args.sites + 1)]
    others = [arg for site in sites[1:] for arg in ("--config", str(site.config))]
    servers = [ServerProcess(sites[0].config, redis_server.url, data, host=sites[0].host,
                             extra_args=others, extra_env=BENCH_ENV)
               for _ in range(PROCESSES)]
    per_site = int(args.rate * args.seconds)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (other work "
          f"on the machine inflates every figure); python {sys.version.split()[0]}; "
          f"ANTRIAN_FANOUT_FAST={os.environ.get('ANTRIAN_FANOUT_FAST', '1')}; load generator: "
          f"{len(gen.processes)} processes")
    print(f"== {args.sites} sites on {PROCESSES} `antrian serve` processes (each started with "
          f"all {args.sites} configs, chosen by Host s<k>.bench), one redis-server; {COUNTERS} "
          f"counters and {args.screens} screens per site, the screens split over both "
          f"processes; each site calls {args.rate:g}/s, its counters taking turns (odd counters "
          f"POST to process 1, even to process 2), for {args.seconds:g} s ==", flush=True)
    try:
        for server in servers:   # one after the other: the first writes each site's secret
            server.start()
        for site in sites:
            site.secret = load_secret(data / site.id, None)
        await asyncio.gather(*(issue(site, servers[site.k % PROCESSES].port, per_site + 8)
                               for site in sites))
        pids = [load.server_pid(s) for s in servers]
        rss_before = [rss_kib(pid) for pid in pids]
        for site in sites:
            for process, server in enumerate(servers):
                count = args.screens // PROCESSES + (process < args.screens % PROCESSES)
                await gen.open(site.group(process), "antrian",
                               f"ws://{site.host}:{server.port}/ws/display", count)
        await asyncio.sleep(2.0)
        rss_after = [rss_kib(pid) for pid in pids]
        latencies: list[float] = []
        local: list[float] = []   # the last screen on the process that took the POST
        remote: list[float] = []  # ... on the other process
        on: list[list[float]] = [[] for _ in servers]  # ... on process 1, on process 2
        slow: list[tuple[float, str]] = []   # the calls over the budget, described
        lost: list[str] = []

        async def calling(site: Site) -> None:
            https = [SiteHttp(site.host, servers[n % PROCESSES].port) for n in range(COUNTERS)]

            async def call(i: int) -> None:
                n = i % COUNTERS + 1
                begin = time.monotonic_ns()
                status, body = await https[n - 1].post(f"/api/counters/{n}/call-next",
                                                       headers=site.auth(n))
                answer = json.loads(body) if status == 200 else {}
                if not answer.get("ticket"):
                    lost.append(f"{site.host} call {i}: {status} {body[:80]!r}")
                    return
                site.calls.append(answer["event_id"])
                try:
                    lasts = await asyncio.gather(*(gen.wait(site.group(p), answer["ticket"]["code"])
                                                   for p in range(PROCESSES)))
                except RuntimeError as error:
                    lost.append(f"{site.host} call {i}: {error}")
                    return
                posted = (n - 1) % PROCESSES   # the process that took it
                latencies.append((max(lasts) - begin) / 1e6)
                local.append((lasts[posted] - begin) / 1e6)
                remote.append((lasts[1 - posted] - begin) / 1e6)
                for process, last in enumerate(lasts):
                    on[process].append((last - begin) / 1e6)
                if latencies[-1] >= P99_MS:
                    slow.append((latencies[-1], f"{latencies[-1]:.1f} ms ({site.host} at "
                                 f"{(begin / 1e9 - start_at):.1f} s, POST to process "
                                 f"{posted + 1}, last screen on process "
                                 f"{lasts.index(max(lasts)) + 1})"))

            first = start_at + (site.k - 1) / (len(sites) * args.rate)  # staggered
            tasks = []
            for i in range(per_site):
                await asyncio.sleep(max(0.0, first + i / args.rate - time.monotonic()))
                tasks.append(asyncio.create_task(call(i)))
            await asyncio.gather(*tasks)
            for http in https:
                await http.close()

        rpid = redis_pid(redis_server.url)
        before = ([cpu_seconds(pid) for pid in pids], cpu_seconds(rpid) if rpid else 0.0,
                  gen.cpu(), machine_jiffies())
        start_at = time.monotonic() + 0.5
        await asyncio.gather(*(calling(site) for site in sites))
        elapsed = time.monotonic() - start_at
        cpu = [cpu_seconds(pid) - b for pid, b in zip(pids, before[0], strict=True)]
        redis_cpu = (cpu_seconds(rpid) if rpid else 0.0) - before[1]
        gen_cpu = gen.cpu() - before[2]
        busy, total = (machine_jiffies()[i] - before[3][i] for i in range(2))
        await asyncio.sleep(1.0)   # anything another site sent by mistake would be here now
        reports = {site.group(p): await gen.report(site.group(p))
                   for site in sites for p in range(PROCESSES)}
        for group in reports:
            await gen.close(group)

        done = len(latencies)
        print(f"calls: {done} shown of {len(sites) * per_site} scheduled, in {elapsed:.1f} s = "
              f"{done / elapsed:.1f} calls/s over all sites"
              + (f"; NOT ANSWERED OR NOT SHOWN: {len(lost)} ({lost[0]})" if lost else ""))
        p99 = pct(latencies, 0.99) if latencies else float("inf")
        if latencies:
            print(f"call -> last screen of its site: {line('all its screens', latencies)}")
            print(f"  of its screens on the process that took the POST: "
                  f"{line('same process', local)}")
            print(f"  of its screens on the other process:             "
                  f"{line('via Redis', remote)}")
            for process, values in enumerate(on):
                print(f"  of its screens on process {process + 1}:{' ' * 22}"
                      f"{line(f'process {process + 1}', values)}")
            print(f"  calls over {P99_MS} ms: {len(slow)} of {len(latencies)}"
                  + ("; the slowest: " + ", ".join(d for _, d in sorted(slow)[::-1][:4])
                     if slow else ""))
        shares = ", ".join(f"{c / elapsed:.0%}" for c in cpu)
        per_call = sum(cpu) / max(done, 1) * 1000
        print(f"server CPU: {shares} of one core (processes 1, 2; {per_call:.2f}"
              f" ms per call in all, background work included); redis {redis_cpu / elapsed:.0%};"
              f" load generator {gen_cpu / elapsed:.0%}; machine {busy / max(total, 1):.0%} busy "
              f"(all {os.cpu_count()} cores, every process)")
        print("server RSS: " + ", ".join(f"{b / 1024:.0f} -> {a / 1024:.0f} MiB" for b, a in
                                         zip(rss_before, rss_after, strict=True))
              + f" (processes 1, 2, before -> after their {len(sites) * args.screens // PROCESSES}"
              f" screens each); {sum(rss_after) / 1024:.0f} MiB in all", flush=True)
        print("screens per site (by the site each screen's snapshot named) and the calls they got:")
        problems = check(sites, reports, args.screens)
        for problem in problems[:10]:
            print(f"  WRONG: {problem}")
        print(f"check: every screen got every call of its own site once and none of another's:"
              f" {'ok' if not problems else f'FAILED ({len(problems)} screens)'}")
        ok = p99 < P99_MS and not lost
        print(f"target p99 < {P99_MS} ms with {len(sites)} sites x {COUNTERS} counters x "
              f"{args.screens} screens on {PROCESSES} processes: {'ok' if ok else 'MISSED'}"
              + ("" if (len(sites), args.screens) == (10, 20)
                 else " (the budget is about 10 sites x 20 screens)"))
        return 0 if ok and not problems else 1
    finally:
        for server in servers:
            server.stop()
        redis_server.stop()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--screens", type=int, default=20, help="screens per site")
    parser.add_argument("--rate", type=float, default=2.0, help="calls/s per site")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=4, help="load generator processes")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    raise_fd_limit()
    if args.worker:
        load.Group = ScreenGroup  # type: ignore[misc]  # load.worker's groups: ours
        await load.worker()
        return 0
    gen = SitesGenerator()
    await gen.start(args.clients)
    try:
        with tempfile.TemporaryDirectory(prefix="antrian-sites-") as tmp:
            return await run(args, gen, Path(tmp))
    finally:
        await gen.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
