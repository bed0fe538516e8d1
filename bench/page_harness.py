"""What the page benchmarks share (not a benchmark): a real redis-server, `antrian serve` with
the demo site (29 counters, 40 services), counter tokens, and Debian's headless Chromium."""

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

import httpx
from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import RedisServer, ServerProcess  # noqa: E402
from test_pages_support import launch  # noqa: E402

from display_server.config import SiteConfig, parse_config  # noqa: E402
from display_server.tokens import counter_token, kiosk_token, load_secret  # noqa: E402

# What a lobby TV runs with: its one page is always in front, never a throttled background tab.
# In one browser holding 20 pages, without these, 19 renderers run at nice +5 and lose the CPU.
TV_FLAGS = ("--disable-renderer-backgrounding", "--disable-background-timer-throttling",
            "--disable-backgrounding-occluded-windows")


@dataclass
class Bench:
    server: ServerProcess
    browser: Browser
    http: httpx.Client
    site: SiteConfig

    def auth(self, counter: int) -> dict[str, str]:
        token = counter_token(load_secret(self.server.data_dir), self.site.id, counter)
        return {"Authorization": f"Bearer {token}"}

    def callers(self) -> list[tuple[int, str]]:
        """(counter, service) pairs, no two counters sharing a service, the service open now and
        without a quota: a ticket issued for it and called there is exactly the one called."""
        rows = self.http.get("/api/services").json()["services"]
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
        kiosk = kiosk_token(load_secret(self.server.data_dir), self.site.id)  # no rate limit
        self.http.post("/api/tickets", json={"service": service},
                       headers={"Authorization": f"Bearer {kiosk}"}).raise_for_status()
        sent = time.time()
        r = self.http.post(f"/api/counters/{counter}/call-next", headers=self.auth(counter))
        answered = time.time()
        r.raise_for_status()
        return r.json()["ticket"]["code"], sent, answered


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
                    yield Bench(server, browser, httpx.Client(base_url=server.url, timeout=30),
                                parse_config(tomllib.loads(text)))
                finally:
                    browser.close()
        finally:
            server.stop()
            redis.stop()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
