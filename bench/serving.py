"""Shared by bench/call_latency.py, storm.py and soak.py: the 29-counter bench site served by a
real `antrian serve` on its own redis-server in a temp dir; `server.api` has the tokens a load
generator needs."""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import RedisServer, ServerProcess, write_site  # noqa: E402

SITE_ID = "bench"
COUNTERS = 29
# every screen of a bench comes from 127.0.0.1: lift the per-client connection cap
BENCH_ENV = {"ANTRIAN_MAX_CONNECTIONS_PER_CLIENT": "100000"}


@dataclass
class Bench:
    """A running server of the bench site."""

    server: ServerProcess

    @property
    def pid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid


@contextlib.contextmanager
def bench_server() -> Iterator[Bench]:
    tmp = Path(tempfile.mkdtemp(prefix="antrian-bench-"))
    redis_server = RedisServer(tmp / "redis").start()
    config = write_site(tmp / "site.toml", SITE_ID, counters=COUNTERS)
    server = ServerProcess(config, redis_server.url, tmp, extra_env=BENCH_ENV)
    try:
        server.start()
        yield Bench(server)
    finally:
        server.stop()
        redis_server.stop()


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def raise_fd_limit() -> None:
    """Thousands of sockets: raise this process's soft fd limit to the hard one (a server
    started afterwards inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
