"""A local redis-server started and supervised by `antrian serve` when no Redis URL is given."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import redis
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from texts import t

log = logging.getLogger("antrian.redis")
SOCKET_PATH_MAX = 100
SYSTEM_URL = "redis://127.0.0.1:6379/0"


class RedisNotFoundError(RuntimeError):
    """No redis-server binary could be found."""


def find_binary(explicit: str | None = None) -> str:
    """The redis-server to run: the given path or the one on PATH."""
    found = shutil.which(explicit or "redis-server")
    if found is None:
        raise RedisNotFoundError(t("cli.redis_missing"))
    return found


def default_url(explicit: str | None, data_dir: Path) -> str:
    """The Redis to use: the flag, ANTRIAN_REDIS_URL, the local Redis of `antrian serve` in
    this data dir if it runs, else the machine's Redis on 127.0.0.1:6379."""
    chosen = explicit or os.environ.get("ANTRIAN_REDIS_URL")
    if chosen:
        return chosen
    sock = data_dir / "redis" / "redis.sock"
    return f"unix://{sock}" if sock.exists() else SYSTEM_URL


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the server dies, so Redis flushes its AOF and exits."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalRedis:
    """Runs redis-server with its data (AOF, fsync every second) under `data_dir/redis`,
    reachable on a unix socket (or a free loopback port when the path is too long), and
    restarts it if it dies while the server runs."""

    def __init__(self, data_dir: Path, binary: str | None = None) -> None:
        self.binary = find_binary(binary)
        self.dir = data_dir / "redis"
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        sock = self.dir / "redis.sock"
        self.socket = sock if len(str(sock)) <= SOCKET_PATH_MAX else None
        self.port = 0 if self.socket else free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self.socket:
            return f"unix://{self.socket}"
        return f"redis://127.0.0.1:{self.port}/0"

    def _args(self) -> list[str]:
        args = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "everysec",
            "--save", "", "--daemonize", "no", "--logfile", str(self.dir / "redis.log"),
        ]
        if self.socket:
            args += ["--unixsocket", str(self.socket), "--unixsocketperm", "700"]
        return args

    def _client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)

    def _shutdown_leftover(self) -> None:
        """A Redis of ours left running by a server killed hard: stop it (its AOF is kept)."""
        if self.socket and self.socket.exists():
            with contextlib.suppress(redis.RedisError), self._client() as client:
                client.shutdown(nosave=True)
                log.info("stopped a leftover local Redis on %s", self.socket)

    def _spawn(self) -> None:
        self.process = subprocess.Popen(
            self._args(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
            # not in the terminal's process group: Ctrl+C stops `antrian serve`, which then
            # stops this Redis itself (else Redis died first and was "restarted" on the way out)
            start_new_session=True,
        )
        for attempt in Retrying(stop=stop_after_delay(15), wait=wait_exponential(0.01, max=0.3),
                                retry=retry_if_exception_type(redis.RedisError), reraise=True):
            with attempt:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited: see {self.dir / 'redis.log'}")
                with self._client() as client:
                    client.ping()

    def start(self) -> str:
        """Start Redis and its watcher; return the URL to connect to."""
        self._shutdown_leftover()
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="redis-watch", daemon=True)
        self._watcher.start()
        log.info("local Redis on %s (data in %s)", self.url, self.dir)
        return self.url

    def _watch(self) -> None:
        while not self._stopping.is_set():
            assert self.process is not None
            code = self.process.wait()
            if self._stopping.is_set():
                return
            log.error("local Redis exited with %s; restarting", code)
            time.sleep(0.5)
            try:
                self._spawn()
            except (RuntimeError, redis.RedisError, OSError) as exc:
                log.error("cannot restart local Redis: %s", exc)
                self._stopping.wait(5)

    def stop(self) -> None:
        """Stop Redis gracefully (it writes its AOF) and wait for it."""
        self._stopping.set()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
