"""What `WAIT 1` costs a counter action on Redis Cluster and on Sentinel (not a test).

Starts a 3-master, 3-replica cluster and a primary + replica + 3 sentinels on loopback ports
(tests/redis_topologies.py), then times Store actions (issue, call-next, done: each one
script call) with the replica wait on and off, interleaved action by action, and prints p50 /
p99 per action in ms. The figures are in docs/operations.md ("The WAIT bound").

Run: .venv/bin/python bench/redis_wait.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import make_site  # noqa: E402
from redis_topologies import Cluster, SentinelSet  # noqa: E402

from display_server.store import Store, connect  # noqa: E402


async def measure(url: str, rounds: int) -> dict[bool, list[float]]:
    redis = connect(url, pool_size=4, pool_timeout=5)
    store = Store(redis, make_site(counters=1))
    times: dict[bool, list[float]] = {True: [], False: []}
    for i in range(rounds):
        for waits in (i % 2 == 0, i % 2 == 1):  # interleaved, each side first half the time
            store.waits = waits
            for action in (lambda: store.issue("A"), lambda: store.call(1),
                           lambda: store.act(1, "done")):
                start = time.perf_counter()
                await action()
                times[waits].append((time.perf_counter() - start) * 1000)
    await redis.aclose()
    return times


def line(name: str, samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100)
    return f"{name:<22} p50 {statistics.median(samples):6.2f} ms   p99 {cuts[98]:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, topology in (("cluster", Cluster(Path(tmp) / "c")),
                               ("sentinel", SentinelSet(Path(tmp) / "s"))):
            started = topology.start()
            try:
                times = asyncio.run(measure(started.url, args.rounds))
            finally:
                started.stop()
            print(line(f"{name}, no wait", times[False]))
            print(line(f"{name}, WAIT 1", times[True]))


if __name__ == "__main__":
    main()
