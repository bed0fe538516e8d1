"""What GET /metrics costs on a big, old site, and what it measures: printed figures.

Starts a real redis-server and `antrian serve` (29 counters), writes `--days` days of daily
aggregates (`stats:{day}`, every count of every service and counter, as years of work leave
them) and opens `--screens` screens on /ws/display. Then:
1. the first scrape (it sums every past day's aggregates) and `--scrapes` more (today's
   aggregates, the waiting counts and every process's figures each time): median and p99;
2. `--calls` calls with the screens connected: the server's own call -> broadcast histogram
   (p50 / p99 bucket bounds, from the scrape), next to the sum of tickets counted.

Exits non-zero when a steady scrape's p99 exceeds 100 ms.

Run: .venv/bin/python bench/metrics_scrape.py [--days 1095] [--screens 200] [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import redis
import websockets
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import RedisServer, ServerProcess, write_site  # noqa: E402

from display_server.keys import SiteKeys  # noqa: E402

COUNTS = ("issued", "called", "served", "completed", "no_show", "recalled", "wait_ms",
          "service_ms")


def fill_days(url: str, site_id: str, days: int) -> int:
    """`days` past days of aggregates for services A-D and counters 1-29; tickets issued."""
    keys, client = SiteKeys(site_id), redis.Redis.from_url(url)
    issued = 0
    with client.pipeline(transaction=False) as pipe:
        for back in range(1, days + 1):
            day = (date.today() - timedelta(days=back)).isoformat()
            fields = {f"{c}:{s}": 40 for c in COUNTS for s in "ABCD"}
            fields.update({f"{c}:c{n}": 5 for c in COUNTS[1:4] for n in range(1, 30)})
            pipe.hset(keys("stats", day), mapping=fields)
            issued += 160
        pipe.execute()
    client.close()
    return issued


def samples(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()) if k != "process")
            out[f"{s.name}{{{labels}}}"] = out.get(f"{s.name}{{{labels}}}", 0.0) + s.value
    return out


def quantile_bound(figures: dict[str, float], q: float) -> str:
    """The smallest bucket bound holding the q-quantile of the broadcast histogram."""
    count = figures["antrian_call_broadcast_seconds_count{}"]
    buckets = sorted((float(k.split("le=")[1].rstrip("}")), v) for k, v in figures.items()
                     if k.startswith("antrian_call_broadcast_seconds_bucket"))
    for bound, seen in buckets:
        if seen >= q * count:
            return f"<= {bound * 1000:.0f} ms"
    return "?"


async def main(args: Any) -> int:
    work = Path(__import__("tempfile").mkdtemp(prefix="antrian-metrics-"))
    own = RedisServer(work / "redis").start()
    config = write_site(work / "site.toml", "metrikbench", counters=29)
    server = ServerProcess(config, own.url, work).start()
    try:
        past = fill_days(own.url, "metrikbench", args.days)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            began = time.perf_counter()
            first = samples(client.get("/metrics").text)
            first_ms = (time.perf_counter() - began) * 1000
            assert first["antrian_tickets_issued_total{service=A}"] == past // 4
            screens = [await websockets.connect(server.ws_url + "/ws/display")
                       for _ in range(args.screens)]
            for ws in screens:
                await ws.recv()
            times = []
            for _ in range(args.scrapes):
                began = time.perf_counter()
                client.get("/metrics").raise_for_status()
                times.append((time.perf_counter() - began) * 1000)
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(f"{args.days} days of aggregates, {args.screens} screens")
            print(f"first scrape (sums the past days): {first_ms:.1f} ms")
            print(f"steady scrapes: median {statistics.median(times):.1f} ms, p99 {p99:.1f} ms")
            for n in range(args.calls):
                server.api.ticket("A")
                server.api.call(n % 29 + 1)
            await asyncio.sleep(1)
            figures = samples(client.get("/metrics").text)
            print(f"{args.calls} calls: broadcast histogram count "
                  f"{figures['antrian_call_broadcast_seconds_count{}']:.0f}, p50 "
                  f"{quantile_bound(figures, 0.5)}, p99 {quantile_bound(figures, 0.99)}, "
                  f"mean {figures['antrian_call_broadcast_seconds_sum{}'] * 1000 / args.calls:.1f}"
                  " ms")
            print(f"screens connected: {figures['antrian_screens_connected{}']:.0f}")
            for ws in screens:
                await ws.close()
        return 0 if p99 <= 100 else 1
    finally:
        server.stop()
        own.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--screens", type=int, default=200)
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--calls", type=int, default=200)
    sys.exit(asyncio.run(main(parser.parse_args())))
