"""Soak: a day at an MPP compressed ×20 on one `antrian serve` process, printed as figures
(not a test).

29 officers call, recall, skip and finish visitors (service time ~6 min, /20), kiosks issue
tickets at the pace the counters serve them, a status page reads /api/state every second, and
200 TVs follow /ws/display, each rebooting now and then (reconnecting with `since`). Every
minute it prints the server's RSS and open file descriptors. Exits non-zero when, after the
warm-up, RSS grows by more than RSS_BOUND_MIB or open fds by more than FDS_BOUND, when the
server closed a screen itself, or when any request got a 5xx.

Run: .venv/bin/python bench/soak.py [--minutes 30] [--screens 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

import websockets
from call_latency import RawHttp, rss_kib
from serving import COUNTERS, Bench, bench_server, open_fds, raise_fd_limit

SPEEDUP = 20
SERVICE_S = 6 * 60 / SPEEDUP        # mean time an officer serves a visitor
REBOOT_S = 120.0                    # mean time between two reboots of one TV (wall clock)
RSS_BOUND_MIB = 16                  # growth allowed from the end of warm-up to the end
FDS_BOUND = 20


@dataclass
class Tally:
    calls: int = 0
    issued: int = 0
    errors: int = 0                 # 5xx answers
    messages: int = 0               # messages received by all screens
    reconnects: int = 0
    server_closed: int = 0          # screens the server closed on its own
    connected: int = 0


async def officer(bench: Bench, counter: int, tally: Tally, until: float) -> None:
    http = RawHttp("127.0.0.1", bench.server.port)
    auth = bench.server.api.auth(counter)

    async def act(action: str, body: bytes = b"") -> bytes:
        status, answer = await http.post(f"/api/counters/{counter}/{action}", body, auth)
        tally.errors += status >= 500
        return answer

    while time.monotonic() < until:
        answer = await act("call-next")
        if b'"ticket":null' in answer or b'"ticket":{' not in answer:
            await asyncio.sleep(2.0)
            continue
        tally.calls += 1
        serving = min(random.expovariate(1 / SERVICE_S), 4 * SERVICE_S)
        await asyncio.sleep(max(0.0, min(serving, until - time.monotonic())))
        if random.random() < 0.1:
            await act("recall")
        if random.random() < 0.05:
            await act("skip")
        else:
            await act("done", b'{"outcome":"completed"}')
    await http.close()


async def kiosk(bench: Bench, tally: Tally, until: float) -> None:
    """Tickets at the pace the counters serve them, after a morning queue."""
    http = RawHttp("127.0.0.1", bench.server.port)
    auth = bench.server.api.kiosk_auth()  # more tickets than one client may take without it
    backlog = 2 * COUNTERS
    while time.monotonic() < until:
        service = random.choice((b"A", b"B"))
        status, _ = await http.post("/api/tickets", b'{"service":"%s"}' % service, auth)
        tally.errors += status >= 500
        tally.issued += status == 201
        if backlog:
            backlog -= 1
        else:
            await asyncio.sleep(SERVICE_S / COUNTERS * 0.95)
    await http.close()


async def status_page(bench: Bench, tally: Tally, until: float) -> None:
    http = RawHttp("127.0.0.1", bench.server.port)
    while time.monotonic() < until:
        status, _ = await http.request("GET", "/api/state")
        tally.errors += status >= 500
        await asyncio.sleep(1.0)
    await http.close()


async def tv(bench: Bench, tally: Tally, until: float) -> None:
    """A lobby TV: follows the events, reboots now and then, resumes with `since`."""
    last: str | None = None
    while time.monotonic() < until:
        url = bench.server.ws_url + "/ws/display" + (f"?since={last}" if last else "")
        reboot_at = min(until, time.monotonic() + random.expovariate(1 / REBOOT_S))
        async with websockets.connect(url, ping_interval=None, open_timeout=30) as ws:
            tally.connected += 1
            try:
                while (left := reboot_at - time.monotonic()) > 0:
                    try:
                        raw = await asyncio.wait_for(ws.recv(), left)
                    except TimeoutError:
                        break
                    tally.messages += 1
                    message: dict[str, Any] = json.loads(raw)
                    last = message.get("event_id") or last
            except websockets.ConnectionClosed:
                tally.server_closed += 1
            finally:
                tally.connected -= 1
        tally.reconnects += 1


def mib(kib: int) -> float:
    return kib / 1024


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--screens", type=int, default=200)
    args = parser.parse_args()
    warmup_min = min(5, max(1, int(args.minutes // 6)))
    if args.minutes <= warmup_min:
        parser.error(f"--minutes must be more than the warm-up ({warmup_min} min)")
    raise_fd_limit()
    tally = Tally()
    with bench_server() as bench:
        base_rss, base_fds = rss_kib(bench.pid), open_fds(bench.pid)
        start = time.monotonic()
        until = start + args.minutes * 60 + 5  # the last sample is taken under load
        tasks = [asyncio.create_task(officer(bench, n, tally, until))
                 for n in range(1, COUNTERS + 1)]
        tasks += [asyncio.create_task(kiosk(bench, tally, until)),
                  asyncio.create_task(status_page(bench, tally, until))]
        tasks += [asyncio.create_task(tv(bench, tally, until)) for _ in range(args.screens)]
        print(f"soak: {args.minutes:g} min (×{SPEEDUP} = {args.minutes * SPEEDUP / 60:.1f} h of "
              f"an MPP), {COUNTERS} counters, {args.screens} screens; warm-up {warmup_min} min")
        print("minute  RSS MiB   fds  calls  issued  screens  messages  reconnects  5xx")
        samples: list[tuple[int, int]] = []
        minute = 0
        while minute < args.minutes and not any(t.done() for t in tasks):
            minute += 1
            await asyncio.sleep(start + min(minute, args.minutes) * 60 - time.monotonic())
            rss, fds = rss_kib(bench.pid), open_fds(bench.pid)
            samples.append((rss, fds))
            print(f"{minute:6}  {mib(rss):7.1f}  {fds:4}  {tally.calls:5}  {tally.issued:6}  "
                  f"{tally.connected:7}  {tally.messages:8}  {tally.reconnects:10}  "
                  f"{tally.errors:3}", flush=True)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        crashed = [r for r in results if isinstance(r, BaseException)]
        await asyncio.sleep(2.0)  # the server closes the screens' sockets
        idle_rss, idle_fds = rss_kib(bench.pid), open_fds(bench.pid)
    (warm_rss, warm_fds), (rss, fds) = samples[min(warmup_min, len(samples)) - 1], samples[-1]
    rss_growth, fds_growth = mib(rss - warm_rss), fds - warm_fds
    print(f"under load, warm-up → end: RSS {mib(warm_rss):.1f} → {mib(rss):.1f} MiB "
          f"({rss_growth:+.1f}; bound +{RSS_BOUND_MIB}), fds {warm_fds} → {fds} "
          f"({fds_growth:+d}; bound +{FDS_BOUND})")
    print(f"load stopped: RSS {mib(idle_rss):.1f} MiB, fds {idle_fds} (before the load: "
          f"{mib(base_rss):.1f} MiB, {base_fds})")
    print(f"{tally.calls} calls, {tally.messages} messages to screens, "
          f"{tally.server_closed} screens closed by the server, {tally.errors} × 5xx, "
          f"{len(crashed)} load tasks failed")
    for failure in crashed[:3]:
        print(f"  e.g. {failure!r}")
    ok = (rss_growth <= RSS_BOUND_MIB and fds_growth <= FDS_BOUND and not tally.server_closed
          and not tally.errors and not crashed)
    print("all targets met" if ok else "target missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
