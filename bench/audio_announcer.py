"""Bench: counter call → announcer starts playing, end to end; SIGTERM mid-clip → exit.

Starts its own redis-server and `antrian serve` (python -m antrian) on free ports,
runs `antrian announcer` with a player that only notes the time it was started.
Run: .venv/bin/python bench/audio_announcer.py [--calls N]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from display_server.tokens import counter_token, kiosk_token, load_secret

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
SITE = """
[site]
id = "bench"
name = "MPP Bench"

[[tenants]]
id = "samsat"
name = "Samsat"

[[services]]
code = "A"
name = "Perpanjangan STNK"
tenant = "samsat"
""" + "".join(f'\n[[counters]]\nnumber = {n}\nservices = ["A"]\n' for n in range(1, 30))

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
    redis_binary = shutil.which("redis-server")
    if redis_binary is None:
        print("redis-server is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="antrian-bench-") as folder:
        root = Path(folder)
        config, starts = root / "site.toml", root / "starts"
        config.write_text(SITE)
        redis_port, port = free_port(), free_port()
        url = f"http://127.0.0.1:{port}"
        long_clip = root / "long"
        player = f"sh -c 'date +%s.%N >> {starts}; [ -e {long_clip} ] && exec sleep 60; :' play"
        redis_argv = [redis_binary, "--port", str(redis_port), "--save", "", "--dir", folder]
        serve_argv = [sys.executable, "-m", "antrian", "serve", "--config", str(config),
                      "--data-dir", folder, "--port", str(port), "--log-level", "warning",
                      "--redis-url", f"redis://127.0.0.1:{redis_port}/0"]
        announce_argv = [sys.executable, "-m", "antrian", "announcer", "--server", url,
                         "--player", player, "--config", str(config),
                         "--data-dir", str(root / "announcer")]
        with (process(redis_argv, root / "redis.log"),
              process(serve_argv, root / "serve.log")):
            wait_until(lambda: httpx.get(url + "/api/health").status_code == 200,
                       what="the server")
            token = counter_token(load_secret(root), "bench", 1)
            auth = {"Authorization": f"Bearer {token}"}
            kiosk = {"Authorization": f"Bearer {kiosk_token(load_secret(root), 'bench')}"}
            with httpx.Client(base_url=url) as client, \
                    process(announce_argv, root / "announcer.log") as announcer:
                time.sleep(2)  # connect and read the snapshot
                latencies = []
                for n in range(args.calls):
                    client.post("/api/tickets", json={"service": "A"},
                                headers=kiosk).raise_for_status()
                    before = time.time()
                    client.post("/api/counters/1/call-next", headers=auth).raise_for_status()
                    wait_until(lambda n=n: len(lines(starts)) > n, 10, "the player")
                    latencies.append(float(lines(starts)[n]) - before)
                cuts = statistics.quantiles(latencies, n=100, method="inclusive")
                print(f"call → player started (synthesized, n={len(latencies)}): "
                      f"p50 {cuts[49] * 1000:.1f} ms  p99 {cuts[98] * 1000:.1f} ms")
                long_clip.touch()
                client.post("/api/tickets", json={"service": "A"},
                            headers=kiosk).raise_for_status()
                client.post("/api/counters/1/call-next", headers=auth).raise_for_status()
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
