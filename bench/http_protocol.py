"""What the connection guard costs: the same app served by uvicorn with httptools (the floor),
plain h11, and the guard (httptools with its cap, deadline and header limit; on h11 until
2026-11-30), printed as figures.

Each server answers GET /api/services (a snapshot read from Redis, the page's most frequent
call) from 8 keep-alive clients; the figure is the server's CPU time per request, which other
load on the machine disturbs less than latency does (the least of `--rounds` rounds, the order
of the protocols rotating), plus the median and p99 latency of that round.
Exits 1 when the guard costs more than 1.5x the httptools floor measured in the same run.

Run: .venv/bin/python bench/http_protocol.py [--requests 4000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from call_latency import cpu_seconds, pct  # noqa: E402
from conftest import RedisServer, free_port, wait_until, write_site  # noqa: E402

PROTOCOLS = {
    "httptools": "'httptools'",
    "h11": "'h11'",
    "guard": "__import__('display_server.guard', fromlist=['GuardedHttpTools']).GuardedHttpTools",
}
LAUNCH = ("import uvicorn; uvicorn.run('antrian.main:create_from_env', factory=True, "
          "port={port}, log_level='warning', ws='websockets-sansio', http={http})")
TARGET = 1.5


async def load(url: str, requests: int, clients: int = 8) -> list[float]:
    """`requests` GETs from `clients` keep-alive connections; each one's latency in ms."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=clients)) \
            as http:

        async def client() -> None:
            for _ in range(requests // clients):
                start = time.perf_counter()
                r = await http.get("/api/services")
                latencies.append((time.perf_counter() - start) * 1000)
                r.raise_for_status()

        await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


async def measure(name: str, env: dict[str, str], requests: int) -> tuple[float, list[float]]:
    """Server CPU ms per request and the latencies, for one protocol."""
    port = free_port()
    code = LAUNCH.format(port=port, http=PROTOCOLS[name])
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(url + "/api/health").status_code == 200, 30, name)
        await load(url, requests // 4)  # warm up
        before = cpu_seconds(server.pid)
        latencies = await load(url, requests)
        cpu_ms = (cpu_seconds(server.pid) - before) * 1000 / len(latencies)
    finally:
        server.terminate()
        server.wait(15)
    return cpu_ms, latencies


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="antrian-bench-http-"))
    redis_server = RedisServer(tmp / "redis").start()
    env = {**os.environ, "ANTRIAN_CONFIG": str(write_site(tmp / "site.toml", "bench", 29)),
           "ANTRIAN_REDIS_URL": redis_server.url, "ANTRIAN_DATA_DIR": str(tmp)}
    best: dict[str, tuple[float, list[float]]] = {}
    names = list(PROTOCOLS)
    try:
        print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
              f"{args.requests} x GET /api/services, 8 keep-alive clients")
        for round_ in range(args.rounds):
            for name in names[round_ % 3:] + names[:round_ % 3]:
                result = await measure(name, env, args.requests)
                best[name] = min(best.get(name, result), result, key=lambda r: r[0])
    finally:
        redis_server.stop()
    cpu = {name: ms for name, (ms, _) in best.items()}
    for name, (ms, latencies) in best.items():
        print(f"{name:9}: server CPU {ms:.3f} ms/request  latency p50 "
              f"{statistics.median(latencies):.2f} ms  p99 {pct(latencies, 0.99):.2f} ms")
    ratio = cpu["guard"] / cpu["httptools"]
    print(f"guard / httptools CPU per request: {ratio:.2f} (target <= {TARGET}); "
          f"guard / plain h11: {cpu['guard'] / cpu['h11']:.2f}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
