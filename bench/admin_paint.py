"""Budget: the office dashboard (/admin) paints within 1 s with a year of data in the archive.

Fills the archive of a fresh demo site (serang.toml) with a seeded year of visits (default
750,000 tickets, bench/report_speed.py's generator), starts `antrian serve` on its own
redis-server, signs in to /admin in Debian's headless Chromium and loads it again and again:
the default range (the 30 days up to today) and the whole year so far. First paint is the
browser's first-contentful-paint of each load; the charts (SVG images, one archive query each)
arrive after it, and when they are all in is printed for reference. Prints median and p99;
exits non-zero when a median first paint misses 1 s.

Run: .venv/bin/python bench/admin_paint.py [--tickets 750000] [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from importlib import resources
from pathlib import Path

from page_harness import RedisServer, ServerProcess, launch, pct
from playwright.sync_api import Page, sync_playwright
from report_speed import YEAR, fill

from display_server.archive.db import database_url, engine, upgrade
from display_server.config import load_config
from display_server.tokens import admin_token, load_secret

BUDGET_MS = 1000.0
PAINT = "() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
CHARTS = "() => [...document.querySelectorAll('img.chart')].every(i => i.complete)"


def paints(page: Page, url: str, runs: int) -> tuple[list[float], list[float]]:
    """First-contentful-paint of `runs` fresh loads of `url`, and when their charts (images
    whose queries run after the page is sent) had all arrived, in ms."""
    painted, charted = [], []
    for _ in range(runs):
        page.goto(url, wait_until="load")
        page.wait_for_function(PAINT)
        page.wait_for_function(CHARTS)
        painted.append(float(page.evaluate(PAINT)))
        charted.append(float(page.evaluate("() => performance.now()")))
    return painted, charted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=750_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="antrian-admin-bench-") as tmp:
        directory = Path(tmp)
        config = directory / "serang.toml"
        config.write_text(resources.files("display_server.sites").joinpath("serang.toml")
                          .read_text("utf-8"))
        site = load_config(config)
        url = database_url(directory)
        upgrade(url)
        db = engine(url)
        try:
            print(f"archive: {args.tickets:,} tickets of {YEAR} inserted in "
                  f"{fill(db, site, args.tickets):.1f} s")
        finally:
            db.dispose()
        redis = RedisServer(directory / "redis").start()
        server = ServerProcess(config, redis.url, directory).start()
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright.chromium)
                try:
                    page = browser.new_page(viewport={"width": 1920, "height": 1080})
                    page.goto(f"{server.url}/admin")
                    page.fill("#token", admin_token(load_secret(directory, site.secret),
                                                    site.id))
                    page.click("button[type=submit]")
                    page.wait_for_selector("#counts")
                    today = page.eval_on_selector('input[name="sampai"]', "i => i.value")
                    cases = {"30 days": f"{server.url}/admin",
                             "year": f"{server.url}/admin?dari={YEAR}-01-01&sampai={today}"}
                    ok = True
                    for name, address in cases.items():
                        found, charted = paints(page, address, args.runs)
                        median, p99 = statistics.median(found), pct(found, 0.99)
                        hit = median < BUDGET_MS
                        ok &= hit
                        print(f"/admin {name:8}: first paint median {median:6.1f} ms  p99 "
                              f"{p99:6.1f} ms  target {BUDGET_MS:.0f} ms "
                              f"{'ok' if hit else 'MISSED'}  (charts in: median "
                              f"{statistics.median(charted):6.1f} ms)")
                finally:
                    browser.close()
        finally:
            server.stop()
            redis.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
