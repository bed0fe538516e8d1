"""`GET /metrics`: the site and this process in Prometheus' text format (prometheus-client),
for loopback clients, the office's bearer token, or the office's /admin session.

Two kinds of figures:

- **site-wide**, the same whichever process answers, read from Redis at scrape time (one read
  shared by overlapping scrapes, SingleFlight): tickets issued, calls and served per service or
  counter since the site began (the sum of the daily aggregates `stats:{day}`: they survive any
  restart; the days before yesterday are summed once a day per process, yesterday's and today's
  read each time, as a ticket called before midnight and finished after it counts on its own
  day's aggregates),
  the people waiting now, the archiver's lag, whether Redis answered;
- **per process** (label `process`, `<host>:<pid>`): screens and announcers connected to it,
  its call -> broadcast latency histogram, played acknowledgements it took, requests that
  failed on Redis, the fan-out follower's errors and restarts, the archiver's errors there.
  Each process writes its own figures to Redis (`metrics:processes`) every PUBLISH_S seconds
  and when it answers a scrape, and the answer holds every live process's: with `antrian serve
  --workers N` (or several servers on one Redis) whichever process answers shows them all, and
  `sum()` over `process` is the site's. A process silent for STALE_S seconds is left out.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from display_server import instruments
from display_server.api import Context, ctx
from display_server.keys import ttl
from display_server.screens import authorize_office
from display_server.singleflight import SingleFlight

PUBLISH_S = 10.0   # each process writes its figures to Redis this often
STALE_S = 30.0     # a process whose figures are older than this is gone
STATS_BATCH = 100  # stats hashes read per pipeline when summing the past days
log = logging.getLogger("antrian.metrics")
_COUNTER_FIELD = re.compile(r"c[0-9]+")


@dataclass
class SiteFigures:
    """What the site-wide metrics show: totals by aggregate field, waiting now."""

    totals: Counter[str] = field(default_factory=Counter)  # "issued:A", "called:c5", ...
    waiting: dict[str, int] = field(default_factory=dict)
    archive_lag: int | None = None
    redis_error: str = ""  # the read failed: "unavailable" (connection, timeout) or "error"

    @property
    def redis_up(self) -> bool:
        return not self.redis_error


class SiteReader:
    """Reads the site-wide figures from Redis; the past days' totals are kept for the day."""

    def __init__(self, c: Context) -> None:
        self.c = c
        self._past_for: str | None = None  # `_past` sums the days before this one's yesterday
        self._past: Counter[str] = Counter()
        self.read = SingleFlight(self._read)

    async def _read(self) -> SiteFigures:
        store = self.c.store
        today = store.today()
        recent = (today, (date.fromisoformat(today) - timedelta(days=1)).isoformat())
        fields = self.wanted()
        try:
            if self._past_for != today:
                self._past = await self._sum_days(exclude=recent)
                self._past_for = today
            totals = Counter(self._past)
            for day in recent:
                values = await store.redis.hmget(store.keys("stats", day), fields)
                totals.update({k: int(v) for k, v in zip(fields, values, strict=True) if v})
            figures = SiteFigures(totals=totals)
            figures.waiting = {k: int(v) for k, v in (await store.snapshot())["waiting"].items()}
            if self.c.archiver is not None:
                figures.archive_lag = (await self.c.archiver.report())["lag"]
        except (RedisConnectionError, RedisTimeoutError, OSError):
            return SiteFigures(redis_error="unavailable")
        except RedisError:
            return SiteFigures(redis_error="error")
        return figures

    def wanted(self) -> list[str]:
        """The aggregate fields the metrics show."""
        site = self.c.site
        return ([f"{count}:{s.code}" for count in ("issued", "served") for s in site.services]
                + [f"called:c{c.number}" for c in site.counters])

    async def _sum_days(self, exclude: tuple[str, ...]) -> Counter[str]:
        """The metrics' fields of the daily aggregates of every day but `exclude`, summed (SCAN,
        then HMGET in pipelined batches)."""
        store, fields = self.c.store, self.wanted()
        pattern = store.keys("stats", "*")
        skipped = {store.keys("stats", day) for day in exclude}
        names = [k async for k in store.redis.scan_iter(match=pattern, count=1000)
                 if k not in skipped]
        sums = [0] * len(fields)
        for start in range(0, len(names), STATS_BATCH):
            async with store.redis.pipeline(transaction=False) as pipe:
                for name in names[start:start + STATS_BATCH]:
                    pipe.hmget(name, fields)
                for day in await pipe.execute():
                    for i, value in enumerate(day):
                        if value is not None:
                            sums[i] += int(value)
            await asyncio.sleep(0)  # the screens' fan-out runs between batches
        return Counter(dict(zip(fields, sums, strict=True)))


def _site_families(c: Context, figures: SiteFigures) -> Iterator[Metric]:
    up = GaugeMetricFamily("antrian_redis_up", "1 when this scrape could read the site's Redis")
    up.add_metric([], 1 if figures.redis_up else 0)
    yield up
    if not figures.redis_up:
        return
    totals = figures.totals
    for name, what, prefix in (
        ("antrian_tickets_issued", "Tickets issued since the site began, per service", "issued"),
        ("antrian_served", "Tickets finished at a counter since the site began, per service",
         "served"),
    ):
        family = CounterMetricFamily(name, what, labels=["service"])
        for service in c.site.services:
            family.add_metric([service.code], totals.get(f"{prefix}:{service.code}", 0))
        yield family
    calls = CounterMetricFamily("antrian_calls", "Calls (first calls of a ticket) since the site "
                                "began, per counter", labels=["counter"])
    for counter in c.site.counters:
        calls.add_metric([str(counter.number)], totals.get(f"called:c{counter.number}", 0))
    yield calls
    waiting = GaugeMetricFamily("antrian_waiting", "People waiting now, per service",
                                labels=["service"])
    for service in c.site.services:
        waiting.add_metric([service.code], figures.waiting.get(service.code, 0))
    yield waiting
    if c.archiver is not None and figures.archive_lag is not None:
        lag = GaugeMetricFamily("antrian_archive_lag_events",
                                "Events of the stream not archived yet (unread and unacknowledged)")
        lag.add_metric([], figures.archive_lag)
        yield lag


def _process_families(c: Context, process: str) -> Iterator[Metric]:
    subscribers = list(c.fanout.subscribers)
    for name, what, value in (
        ("antrian_screens_connected", "WebSocket screens (/ws/display) connected to this process",
         len(subscribers)),
        ("antrian_announcers_connected", "Of those, the ones that reported a played call on "
         "their link (the announcer, speaking TVs)", sum(1 for s in subscribers if s.announcer)),
    ):
        gauge = GaugeMetricFamily(name, what, labels=["process"])
        gauge.add_metric([process], value)
        yield gauge
    state = c.fanout.state
    for name, what, value in (
        ("antrian_fanout_errors", "Failed reads of the events stream and events that could not "
         "be fanned out, in this process", state.errors),
        ("antrian_fanout_restarts", "Times this process's supervisor restarted its ended or "
         "stuck events follower", state.restarts),
    ):
        counter = CounterMetricFamily(name, what, labels=["process"])
        counter.add_metric([process], value)
        yield counter
    if c.archiver is not None:
        errors = CounterMetricFamily("antrian_archive_errors", "Failed archive rounds in this "
                                     "process (its archiver)", labels=["process"])
        errors.add_metric([process], c.archiver.state.errors)
        yield errors
        leading = GaugeMetricFamily("antrian_archive_leading", "1 while this process holds the "
                                    "archiver's lease", labels=["process"])
        leading.add_metric([process], 1 if c.archiver.state.leading else 0)
        yield leading


class _Families:
    """Ready metric families, as a collector for generate_latest."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


def is_loopback(request: Request) -> bool:
    """A request from this machine: its client address is a loopback one and no proxy relayed
    it (X-Forwarded-For naming another address, or a Forwarded header). Behind a trusted proxy
    (ANTRIAN_TRUSTED_PROXIES) the client is the forwarded address already."""
    addresses = [request.client.host if request.client else ""]
    addresses += [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",")
                  if a.strip()]
    if "forwarded" in request.headers:
        return False
    try:
        return all(ipaddress.ip_address(a.strip("[]")).is_loopback for a in addresses)
    except ValueError:
        return False


async def metrics(request: Request) -> Response:
    """GET /metrics: loopback, or the office's bearer token (401 otherwise, like the office's
    other endpoints), or a live /admin session when the pages set `app.state.office_session`."""
    c = ctx(request)
    if not is_loopback(request) and not await _office_session(request):
        authorize_office(request)
    app_state: Any = request.app.state
    reader: SiteReader | None = getattr(app_state, "site_metrics", None)
    if reader is None:
        reader = app_state.site_metrics = SiteReader(c)
    figures = await reader.read()
    own = instruments.of(request.app)
    if figures.redis_error:
        own.redis_error(figures.redis_error)
    processes = await every_process(c, own, publish_too=figures.redis_up)
    text = generate_latest(_Families([*_site_families(c, figures), *processes]))
    return Response(text, media_type=CONTENT_TYPE_LATEST)


def own_text(c: Context, own: instruments.Instruments) -> str:
    """This process's figures in Prometheus' text format."""
    families = _Families(_process_families(c, own.process))
    return (generate_latest(families) + generate_latest(own.registry)).decode()


async def publish(c: Context, own: instruments.Instruments, text: str) -> None:
    """Write this process's figures (`text`) to Redis for the other processes' answers."""
    key = c.store.keys("metrics_processes")
    async with c.store.redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, own.process, json.dumps({"at": time.time(), "text": text}))
        pipe.expire(key, ttl("metrics_processes"))
        await pipe.execute()


async def publish_forever(app: Starlette) -> None:
    """Every PUBLISH_S seconds, this process's figures to Redis (a failure waits for the next)."""
    while True:
        c, own = ctx_of(app), instruments.of(app)
        try:
            await publish(c, own, own_text(c, own))
        except (RedisError, OSError) as exc:
            log.debug("metrics not published: %s", exc)
        await asyncio.sleep(PUBLISH_S)


def ctx_of(app: Starlette) -> Context:
    found: Context = app.state.ctx
    return found


async def every_process(c: Context, own: instruments.Instruments, publish_too: bool = True
                        ) -> list[Metric]:
    """The families of every live process, this one's fresh, merged by name (each sample keeps
    its `process`); only this one's when Redis cannot be read. Gone processes are deleted."""
    mine = own_text(c, own)
    texts = [mine]
    key = c.store.keys("metrics_processes")
    if publish_too:
        try:
            await publish(c, own, mine)
            entries = cast(dict[str, str], await c.store.redis.hgetall(key))
            gone = []
            for process, entry in entries.items():
                if process == own.process:
                    continue
                try:
                    data = json.loads(entry)
                    fresh = time.time() - float(data["at"]) <= STALE_S
                    text = str(data["text"])
                except (ValueError, TypeError, KeyError):
                    fresh, text = False, ""
                if fresh:
                    texts.append(text)
                else:
                    gone.append(process)
            if gone:
                await c.store.redis.hdel(key, *gone)
        except (RedisError, OSError) as exc:
            log.debug("other processes' metrics not read: %s", exc)
    return merge(texts)


def merge(texts: Iterable[str]) -> list[Metric]:
    """Families of several processes' texts, one family per name with every sample."""
    families: dict[str, Metric] = {}
    for text in texts:
        try:
            parsed = list(text_string_to_metric_families(text))
        except ValueError:
            log.warning("a process's metrics could not be parsed; left out")
            continue
        for family in parsed:
            into = families.setdefault(
                family.name, Metric(family.name, family.documentation, family.type))
            into.samples.extend(family.samples)
    return list(families.values())


async def _office_session(request: Request) -> bool:
    """Whether the request carries a live /admin session (the pages' hook; False without)."""
    check = getattr(request.app.state, "office_session", None)
    if check is None or "authorization" in request.headers:
        return False
    return bool(await check(request))


routes = [Route("/metrics", metrics)]
