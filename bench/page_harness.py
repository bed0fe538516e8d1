"""What the page benchmarks share (not a benchmark): a real redis-server, `antrian serve` with
the demo site (29 counters, 40 services) with its API (`server.api`), and Debian's headless
Chromium."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import RedisServer, ServerProcess  # noqa: E402
from test_pages_support import launch  # noqa: E402

from display_server.config import SiteConfig, parse_config  # noqa: E402

# What a lobby TV runs with: its one page is always in front, never a throttled background tab.
# In one browser holding 20 pages, without these, 19 renderers run at nice +5 and lose the CPU.
TV_FLAGS = ("--disable-renderer-backgrounding", "--disable-background-timer-throttling",
            "--disable-backgrounding-occluded-windows")


@dataclass
class Bench:
    server: ServerProcess
    browser: Browser
    site: SiteConfig

    def callers(self) -> list[tuple[int, str]]:
        """(counter, service) pairs, no two counters sharing a service, the service open now and
        without a quota: a ticket issued for it and called there is exactly the one called."""
        rows = self.server.api.client.get("/api/services").json()["services"]
        usable = {s["code"] for s in rows if s["open"] and not s["quota"]}
        taken: set[str] = set()
        pairs = []
        for c in self.site.counters:
            if c.services[0] in usable and not taken & set(c.services):
                taken |= set(c.services)
                pairs.append((c.number, c.services[0]))
        return pairs

    def issue_and_call(self, counter: int, service: str) -> tuple[str, float, float]:
        """Issue a ticket and call it; (code, time before the call, time of its answer)."""
        self.server.api.ticket(service)
        sent = time.time()
        code = self.server.api.call(counter)["ticket"]["code"]
        return code, sent, time.time()


@contextlib.contextmanager
def bench() -> Iterator[Bench]:
    with tempfile.TemporaryDirectory(prefix="antrian-page-bench-") as tmp:
        directory = Path(tmp)
        text = resources.files("display_server.sites").joinpath("serang.toml").read_text("utf-8")
        config = directory / "serang.toml"
        config.write_text(text)
        redis = RedisServer(directory / "redis").start()
        server = ServerProcess(config, redis.url, directory).start()
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright.chromium, extra=TV_FLAGS)
                try:
                    yield Bench(server, browser, parse_config(tomllib.loads(text)))
                finally:
                    browser.close()
        finally:
            server.stop()
            redis.stop()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
