"""Bench: counter call → announcer starts playing, end to end; SIGTERM mid-clip → exit.

Starts the bench site (bench/serving.py: its own redis-server and `antrian serve`), runs
`antrian announcer` with a player that only notes the time it was started.
Run: .venv/bin/python bench/audio_announcer.py [--calls N]
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import ROOT, wait_until
from serving import bench_server


@contextlib.contextmanager
def process(argv: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        child = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait(10)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    with bench_server() as bench:
        server, root = bench.server, bench.server.data_dir
        starts, long_clip = root / "starts", root / "long"
        player = f"sh -c 'date +%s.%N >> {starts}; [ -e {long_clip} ] && exec sleep 60; :' play"
        announce_argv = [sys.executable, "-m", "antrian", "announcer", "--server", server.url,
                         "--player", player, "--config", str(server.config),
                         "--data-dir", str(root / "announcer")]
        with process(announce_argv, root / "announcer.log") as announcer:
            time.sleep(2)  # connect and read the snapshot
            latencies = []
            for n in range(args.calls):
                server.api.ticket("A")
                before = time.time()
                server.api.call(1)  # counter 1 serves A first
                wait_until(lambda n=n: len(lines(starts)) > n, 10, "the player")
                latencies.append(float(lines(starts)[n]) - before)
            cuts = statistics.quantiles(latencies, n=100, method="inclusive")
            print(f"call → player started (synthesized, n={len(latencies)}): "
                  f"p50 {cuts[49] * 1000:.1f} ms  p99 {cuts[98] * 1000:.1f} ms")
            long_clip.touch()
            server.api.ticket("A")
            server.api.call(1)
            wait_until(lambda: len(lines(starts)) > args.calls, 10, "the 60 s clip")
            time.sleep(0.2)
            announcer.send_signal(signal.SIGTERM)
            start = time.monotonic()
            code = announcer.wait(10)
            print(f"SIGTERM mid-clip → announcer exited ({code}): "
                  f"{(time.monotonic() - start) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
