"""Budget: a lobby TV page that receives 5,000 calls grows its JS heap by under 5 MB.

The heap is measured through the Chrome DevTools Protocol after a forced garbage collection,
once after a warm-up of 100 calls and again after 5,000 more; the page runs with sound on and
its default hold time, as on a TV.
Run: .venv/bin/python bench/page_heap.py [--calls 5000]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from page_harness import Bench, bench

BUDGET_MB = 5.0


def counters(cdp: Any) -> str:
    c = cdp.send("Memory.getDOMCounters")
    return f"{c['nodes']} nodes, {c['jsEventListeners']} listeners"


def heap_mb(cdp: Any) -> float:
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.collectGarbage")
    return float(cdp.send("Runtime.getHeapUsage")["usedSize"]) / 1e6


def calls(b: Bench, n: int) -> None:
    """n calls, spread over the counters, each counter calling one after another."""
    pairs = b.callers()

    def run(i: int) -> None:
        counter, service = pairs[i]
        for _ in range(n // len(pairs) + (i < n % len(pairs))):
            b.issue_and_call(counter, service)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run, range(len(pairs))))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    with bench() as b:
        page = b.browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
        cdp = page.context.new_cdp_session(page)
        cdp.send("HeapProfiler.enable")
        page.goto(b.server.url + "/display?screen=bench-heap")
        page.wait_for_function("document.querySelectorAll('.tile').length === 29")
        calls(b, 100)
        page.wait_for_timeout(2000)
        before = heap_mb(cdp)
        dom_before = counters(cdp)
        started = time.monotonic()
        calls(b, args.calls)
        took = time.monotonic() - started
        page.wait_for_timeout(3000)
        after = heap_mb(cdp)
        queued = page.evaluate("window.antrianDisplay.presenter.queue.length")
        growth = after - before
        print(f"{args.calls} calls in {took:.1f} s; JS heap {before:.2f} MB -> {after:.2f} MB, "
              f"growth {growth:+.2f} MB (budget {BUDGET_MB} MB)")
        print(f"DOM {dom_before} -> {counters(cdp)}; calls waiting for the card {queued} "
              f"(capped; older than the announcement age are skipped)")
        return 0 if growth < BUDGET_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
