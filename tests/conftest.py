"""Shared fixtures: a real redis-server on a free port, test sites, clocks and servers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis
from postgres_server import PostgresServer
from site_api import SiteApi

from display_server.config import SiteConfig, load_config, parse_config
from display_server.tokens import counter_token, load_secret

ROOT = Path(__file__).resolve().parent.parent
# the page tests' fixtures (browser, live, make_page), without each file importing them
pytest_plugins = ["test_pages_support"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Any, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, redis.RedisError, OSError):
            if check():
                return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


async def eventually(check: Callable[[], bool], what: str = "condition",
                     timeout: float = 30.0) -> None:
    """Wait, without blocking the event loop, until `check()` is true."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class RedisServer:
    """A real redis-server process on a free loopback port, data in `directory`."""

    def __init__(self, directory: Path, appendonly: bool = False) -> None:
        self.directory = directory
        self.port = free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes" if self.appendonly else "no", "--dir", str(self.directory),
             "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: redis.Redis(port=self.port).ping(), what="redis-server")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (Debian's `postgresql`, a free port)."""
    server = PostgresServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty archive database: an SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


class FakeClock:
    """A settable clock: tests move time instead of waiting for it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


SITE_ZONE = ZoneInfo("Asia/Jakarta")  # every test site's zone
MIDNIGHT_MARGIN_S = 90  # longer than nearly every test; well within pytest-timeout's 300 s


def seconds_to_site_midnight(now: datetime) -> float:
    """Seconds from `now` to the next midnight in the test sites' zone (17:00 UTC)."""
    local = now.astimezone(SITE_ZONE)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), SITE_ZONE)
    return (midnight - local).total_seconds()


def midnight_wait(now: datetime) -> float:
    """How long a test starting at `now` waits: nothing, or, in the last MIDNIGHT_MARGIN_S
    seconds of the site's day, until a second into the next one."""
    left = seconds_to_site_midnight(now)
    return left + 1 if left < MIDNIGHT_MARGIN_S else 0.0


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """clear_of_site_midnight: a test does not start in the last MIDNIGHT_MARGIN_S seconds of
    the site's day: it waits for the new day instead. Servers run on the real clock, and at
    local midnight the queue numbers start again at 001 and "today" (reports, the dashboard,
    status links) changes, so a test issuing A001 at 23:59:59 WIB and reading it at 00:00:01
    would fail. A hook, not a fixture, so it runs before any fixture of the test is set up,
    also a module's or the session's that writes a site relative to "now" (an autouse
    function fixture came after those). Per process, so under pytest-xdist each worker waits
    for itself; at most once a run, and only in a run that passes 17:00 UTC."""
    wait = midnight_wait(datetime.now(UTC))
    if wait:
        time.sleep(wait)


# Wednesday 25 November 2026, 10:00 WIB
WEDNESDAY_10AM = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
_site_numbers = itertools.count()


def site_document(site_id: str, counters: int = 4, **site_extra: Any) -> dict[str, Any]:
    """A small site: A and B always open, C open only on Mondays, D with a quota of 3."""
    return {
        "site": {"id": site_id, "name": "MPP Uji", "timezone": "Asia/Jakarta", **site_extra},
        "tenants": [{"id": "samsat", "name": "Samsat"}, {"id": "capil", "name": "Disdukcapil"}],
        "priority_categories": [{"id": "lansia", "name": "Lansia"}],
        "services": [
            {"code": "A", "name": "Perpanjangan STNK", "tenant": "samsat"},
            {"code": "B", "name": "KTP-el", "tenant": "capil"},
            {"code": "C", "name": "Balik Nama", "tenant": "samsat", "days": ["senin"],
             "hours": "08:00-12:00"},
            {"code": "D", "name": "Akta", "tenant": "capil", "quota": 3},
        ],
        "counters": [
            {"number": n, "services": ["A", "B", "D"] if n % 2 else ["B", "A", "D"]}
            for n in range(1, counters + 1)
        ],
    }


def make_site(**overrides: Any) -> SiteConfig:
    site_id = f"t{next(_site_numbers)}-{uuid.uuid4().hex[:6]}"
    counters = overrides.pop("counters", 4)
    return parse_config(site_document(site_id, counters, **overrides))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WEDNESDAY_10AM)


@pytest.fixture
def site() -> SiteConfig:
    return make_site()


def token(data_dir: Path, site: SiteConfig, counter: int) -> str:
    return counter_token(load_secret(data_dir, site.secret), site.id, counter)


class Api(SiteApi):
    """The site's API on a TestClient around the app, with the site and its data dir."""

    def __init__(self, client: httpx.Client, site: SiteConfig, data_dir: Path) -> None:
        super().__init__(client, load_secret(data_dir, site.secret), site.id)
        self.site = site
        self.data_dir = data_dir


@pytest.fixture
def api(site: SiteConfig, clock: FakeClock, redis_url: str, tmp_path: Path) -> Iterator[Api]:
    """The whole app (API, WebSocket, pages, call audio) as antrian.main assembles it."""
    from starlette.testclient import TestClient  # imported here: benches reuse this module

    from antrian.main import build_app

    with TestClient(build_app(site, redis_url, tmp_path, clock=clock)) as client:
        yield Api(client, site, tmp_path)


@pytest.fixture
def web(api: Api) -> Api:
    """The same whole app as `api`, under the name the page tests use."""
    return api


def write_site(path: Path, site_id: str, counters: int = 4) -> Path:
    """Write the test site as TOML (for servers started as processes, on the real clock). C
    opens on a weekday three days from now (site-local), not on Mondays: closed whenever the
    test runs, also on a Monday morning and across midnight."""
    doc = site_document(site_id, counters)
    now = datetime.now(SITE_ZONE)
    other = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")[
        (now.weekday() + 3) % 7]
    lines = [f'[site]\nid = "{site_id}"\nname = "MPP Uji"\ntimezone = "Asia/Jakarta"\n']
    lines += [f'[[tenants]]\nid = "{t["id"]}"\nname = "{t["name"]}"\n' for t in doc["tenants"]]
    lines.append('[[priority_categories]]\nid = "lansia"\nname = "Lansia"\n')
    for s in doc["services"]:
        extra = ""
        if "quota" in s:
            extra += f"quota = {s['quota']}\n"
        if "days" in s:
            extra += f'days = ["{other}"]\nhours = "{s["hours"]}"\n'
        lines.append(f'[[services]]\ncode = "{s["code"]}"\nname = "{s["name"]}"\n'
                     f'tenant = "{s["tenant"]}"\n{extra}')
    for c in doc["counters"]:
        services = ", ".join(f'"{x}"' for x in c["services"])
        lines.append(f"[[counters]]\nnumber = {c['number']}\nservices = [{services}]\n")
    path.write_text("\n".join(lines))
    return path


class ServerProcess:
    """`antrian serve` as a real uvicorn process."""

    def __init__(self, config: Path, redis_url: str | None, data_dir: Path,
                 port: int | None = None, extra_env: dict[str, str] | None = None,
                 extra_args: Sequence[str] = (), host: str | None = None) -> None:
        self.extra_args = list(extra_args)  # e.g. --log-format json
        self.host = host  # the Host its health check names (a server of several sites)
        self.config = config
        self.redis_url = redis_url
        self.data_dir = data_dir
        self.port = port or free_port()
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @functools.cached_property
    def api(self) -> SiteApi:
        """The site's API on this server (once it runs), with the tokens its callers have."""
        site = load_config(str(self.config))
        return SiteApi(httpx.Client(base_url=self.url, timeout=10),
                       load_secret(self.data_dir, site.secret), site.id)

    def start(self) -> ServerProcess:
        args = [sys.executable, "-m", "antrian", "serve", "--config", str(self.config),
                "--data-dir", str(self.data_dir), "--port", str(self.port),
                "--log-level", "warning"]
        if self.redis_url:
            args += ["--redis-url", self.redis_url]
        args += self.extra_args
        env = {**os.environ, **self.extra_env}
        env.pop("ANTRIAN_REDIS_URL", None)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=log,
                                            start_new_session=True)
        def healthy() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            headers = {"Host": self.host} if self.host else None
            return httpx.get(self.url + "/api/health", headers=headers).status_code == 200

        wait_until(healthy, timeout=30, what=f"server on port {self.port} (log {self.log})")
        return self

    def kill(self) -> None:
        """kill -9, no chance to clean up."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


@pytest.fixture
def server_factory(tmp_path: Path, redis_url: str) -> Iterator[Any]:
    """Start servers of one fresh site on the session's Redis; stopped after the test."""
    site_id = f"p{next(_site_numbers)}-{uuid.uuid4().hex[:6]}"
    config = write_site(tmp_path / "site.toml", site_id, counters=29)
    started: list[ServerProcess] = []

    def start(**kwargs: Any) -> ServerProcess:
        kwargs.setdefault("redis_url", redis_url)
        server = ServerProcess(config, data_dir=tmp_path, **kwargs).start()
        started.append(server)
        return server

    start.config = config  # type: ignore[attr-defined]
    start.site_id = site_id  # type: ignore[attr-defined]
    yield start
    for server in started:
        server.stop()


def site_keys(redis_url: str, site_id: str) -> dict[str, bytes | None]:
    """Every Redis key of a site with its DUMP, except the rate limiter's counters: what a
    refused request must leave exactly as it was."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = sorted(k.decode() for k in client.scan_iter(match=f"antrian:{{{site_id}}}:*"))
        return {k: client.dump(k) for k in keys if ":ratelimit:" not in k}
    finally:
        client.close()
