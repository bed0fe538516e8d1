"""Benchmark: a reconnect storm, printed as figures (not a test).

N screens (default 1,000) open /ws/display on one `antrian serve` process at the same moment,
as every TV of a hall does after a server restart, for a few rounds. Prints per round the time
from the start of the storm until each screen has its snapshot (median, p99, last), how many
were refused or closed, and how many snapshot reads reached Redis (single-flight: far fewer
than screens). Exits non-zero when a round misses the target: every snapshot within 5 s, none
refused.

Run: .venv/bin/python bench/storm.py [--screens 1000] [--rounds 3] [--target 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from typing import Any

import redis
import websockets
from call_latency import pct
from serving import Bench, bench_server, raise_fd_limit


def evalsha_calls(url: str) -> int:
    """EVALSHA commands Redis has run: one per snapshot read (nothing else runs in a storm)."""
    client = redis.Redis.from_url(url)
    try:
        stats: dict[str, Any] = client.info("commandstats")
        return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))
    finally:
        client.close()


async def storm(bench: Bench, screens: int) -> tuple[list[float], list[str], float]:
    """Seconds from the storm's start to each screen's snapshot; the failures; the last one."""
    url = bench.server.ws_url + "/ws/display"
    start = time.monotonic()

    async def screen() -> tuple[Any, float]:
        ws = await websockets.connect(url, open_timeout=60, ping_interval=None, max_size=None)
        first = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if first.get("type") != "snapshot":
            raise RuntimeError(f"first message {first.get('type')!r}")
        return ws, time.monotonic() - start

    results = await asyncio.gather(*(screen() for _ in range(screens)), return_exceptions=True)
    times = [r[1] for r in results if not isinstance(r, BaseException)]
    failures = [repr(r) for r in results if isinstance(r, BaseException)]
    await asyncio.gather(*(r[0].close() for r in results if not isinstance(r, BaseException)),
                         return_exceptions=True)
    return times, failures, max(times, default=float("inf"))


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screens", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--target", type=float, default=5.0, help="seconds for every snapshot")
    args = parser.parse_args()
    raise_fd_limit()
    missed = False
    with bench_server() as bench:
        assert bench.server.redis_url is not None
        print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
              f"{args.screens} screens at once, {args.rounds} rounds")
        all_times: list[float] = []
        for n in range(1, args.rounds + 1):
            reads = evalsha_calls(bench.server.redis_url)
            times, failures, last = await storm(bench, args.screens)
            reads = evalsha_calls(bench.server.redis_url) - reads
            all_times += times
            ok = not failures and last <= args.target
            missed |= not ok
            median = statistics.median(times) if times else float("nan")
            p99 = pct(times, 0.99) if times else float("nan")
            print(f"round {n}: snapshot median {median:.2f} s, p99 {p99:.2f} s, "
                  f"all {last:.2f} s (target <= {args.target:g} s); refused/closed "
                  f"{len(failures)}; snapshot reads on Redis {reads}  {'ok' if ok else 'MISSED'}")
            for failure in failures[:3]:
                print(f"  e.g. {failure}")
            await asyncio.sleep(1.0)  # let the server close the last round's sockets
        if all_times:
            print(f"all rounds: median {statistics.median(all_times):.2f} s, "
                  f"p99 {pct(all_times, 0.99):.2f} s")
    print("target missed" if missed else "all targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
