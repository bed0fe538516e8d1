"""A seeded simulation of a site's traffic: visitors and officers drive the real Lua scripts
through Store on a simulated clock, day after day (data for reports, their tests and benches)."""

from __future__ import annotations

import argparse
import asyncio
import heapq
import os
import random
import sys
from collections import Counter as Tally
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from display_server.archive import db as archive_db
from display_server.archive.archiver import Archiver
from display_server.config import SiteConfig, load_config
from display_server.errors import ApiError
from display_server.hours import is_open
from display_server.paths import data_dir
from display_server.reporting import months
from display_server.store import Store, connect
from display_server.survey_questions import PROFILE, profile_values
from texts import pause_reasons, t

SECOND = 1000
MINUTE = 60 * SECOND


@dataclass(frozen=True)
class Behaviour:
    """How visitors and officers behave: the day's hours and the odds of each action."""

    arrivals_from: time = time(7, 45)   # visitors take tickets from then ...
    arrivals_to: time = time(15, 45)    # ... to then, when a service is open
    work_from: time = time(8, 0)        # counters call from then ...
    work_to: time = time(15, 30)        # ... to then; who still waits is left to the day close
    priority: float = 0.05              # a ticket in a priority category
    recall: float = 0.15                # the called visitor does not come at once
    skip: float = 0.06                  # nor at all: a no-show
    restore: float = 0.4                # a no-show who comes back within the grace window
    transfer: float = 0.05              # sent on to another service
    not_completed: float = 0.1          # served, the application not completed
    call_through: float = 0.2           # Panggil while serving (completes the current ticket)
    pause: float = 0.03                 # an idle counter pauses (prayer, break, ...)
    service_mean_s: float = 300.0       # mean service time at the counter
    survey: float = 0.3                 # a served visitor answers the satisfaction survey


class SimClock:
    """The simulated time (a Store clock): the simulation sets it, nothing waits for it."""

    def __init__(self, ms: int = 0) -> None:
        self.ms = ms

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.ms / 1000, UTC)


@dataclass
class Desk:
    """One counter's part in the simulation: what it is doing and the no-shows it may put back."""

    number: int
    ticket: str = ""        # the visitor called, '' when idle
    service: str = ""       # the service the visitor is called in
    serving: bool = False   # the visitor came: the next step finishes
    paused: bool = False
    # no-shows that come back: (due ms, skipped ms, code, service)
    restores: list[tuple[int, int, str, str]] = field(default_factory=list)


def _ms(day: date, at: time, tz: ZoneInfo) -> int:
    return int(datetime.combine(day, at, tz).timestamp() * 1000)


class Simulation:
    """A site's days of traffic from one seed: the same seed gives the same events."""

    def __init__(self, store: Store, clock: SimClock, seed: int,
                 behaviour: Behaviour | None = None) -> None:
        self.store = store
        self.site: SiteConfig = store.site
        self.clock = clock
        self.rng = random.Random(seed)
        self.survey_rng = random.Random(seed + 1)  # its own: the traffic stays the same
        self.how = behaviour or Behaviour()
        self.done: Tally[str] = Tally()
        self.reasons = pause_reasons()
        self.served = {s for c in self.site.counters for s in c.services}
        self.idle: dict[int, Desk] = {}  # counters with nobody to call
        self.waiting: Tally[str] = Tally()  # today's waiting tickets per service
        self._queue: list[tuple[int, int, str, Any]] = []
        self._order = 0

    def open_services(self, ms: int) -> list[str]:
        moment = datetime.fromtimestamp(ms / 1000, self.site.tz)
        return [s.code for s in self.site.services
                if is_open(s.hours, moment, self.site.holidays)]

    def _at(self, ms: int, kind: str, what: Any) -> None:
        self._order += 1
        heapq.heappush(self._queue, (ms, self._order, kind, what))

    async def run(self, first: date, days: int, per_day: int,
                  after_day: Callable[[str], Awaitable[None]] | None = None) -> Tally[str]:
        """Simulate `days` days from `first`, about `per_day` arrivals on each (fewer on closed
        days); `after_day(day)` runs after each (e.g. the archiver's drain)."""
        for i in range(days):
            day = first + timedelta(days=i)
            await self.day(day, per_day)
            if after_day is not None:
                await after_day(day.isoformat())
        return self.done

    async def day(self, day: date, per_day: int) -> None:
        """One day: `per_day` visitors over the arrival hours, each taking a ticket of a
        service open then; every counter works its hours and ends idle and not paused."""
        tz, how = self.site.tz, self.how
        start, end = _ms(day, how.arrivals_from, tz), _ms(day, how.arrivals_to, tz)
        for _ in range(per_day):
            self._at(self.rng.randrange(start, end), "arrive", None)
        work_from, work_to = _ms(day, how.work_from, tz), _ms(day, how.work_to, tz)
        self.idle.clear()
        self.waiting.clear()
        for c in self.site.counters:
            self._at(work_from + self.rng.randrange(5 * MINUTE), "desk", Desk(c.number))
        while self._queue:
            ms, _, kind, what = heapq.heappop(self._queue)
            self.clock.ms = ms
            if kind == "arrive":
                await self._arrive(ms)
            elif kind == "return":  # a no-show comes back: an idle counter notices
                if what.number in self.idle:
                    self._at(ms, "desk", self.idle.pop(what.number))
            else:
                await self._desk(what, ms, work_to)
        self.clock.ms = _ms(day + timedelta(days=1), time(0), tz)  # the day is over

    async def _arrive(self, ms: int) -> None:
        services = self.open_services(ms)
        if not services:
            self.done["closed"] += 1
            return
        categories = self.site.priority_categories
        priority = (self.rng.choice(categories).id
                    if categories and self.rng.random() < self.how.priority else "")
        service = self.rng.choice(services)
        try:
            await self.store.issue(service, priority=priority)
            self.done["ticket"] += 1
            self._queued(service, ms)
        except ApiError:
            self.done["refused"] += 1  # the service's quota for the day is reached

    async def _act(self, desk: Desk, action: str, arg: str = "") -> dict[str, Any]:
        self.done[action] += 1
        return await self.store.act(desk.number, action, arg)

    async def _call(self, desk: Desk, ms: int, ticket: str = "") -> None:
        """Call the given ticket or the next one; with nobody waiting the counter idles until a
        visitor of its services comes (Panggil then only completes its current visitor)."""
        services = self.site.counter(desk.number).services  # type: ignore[union-attr]
        if not ticket and not any(self.waiting[s] for s in services):
            if desk.ticket:
                await self._act(desk, "done", "completed")
            desk.ticket = ""
            self.idle[desk.number] = desk
            return
        answer = await self.store.call(desk.number, ticket=ticket)
        self.done["call"] += 1
        called = answer["ticket"]
        desk.ticket, desk.service = (called["code"], called["service"]) if called else ("", "")
        if called:
            self.waiting[called["service"]] -= 1
            self._at(ms + self.rng.randrange(20 * SECOND, 90 * SECOND), "desk", desk)
        else:
            self.idle[desk.number] = desk  # until a visitor of its services arrives

    def _queued(self, service: str, ms: int) -> None:
        """A visitor waits in `service`: one idle counter of it notices a little later."""
        self.waiting[service] += 1
        for c in self.site.counters:
            if c.number in self.idle and service in c.services:
                desk = self.idle.pop(c.number)
                self._at(ms + self.rng.randrange(5 * SECOND, 30 * SECOND), "desk", desk)
                return

    async def _desk(self, desk: Desk, ms: int, work_to: int) -> None:
        """The counter's next step: its visitor's, a resume, a no-show put back, or a call."""
        rng, how = self.rng, self.how
        if desk.paused:
            desk.paused = False
            await self._act(desk, "resume")
        if desk.ticket:
            await (self._finish(desk, ms, work_to) if desk.serving
                   else self._visitor(desk, ms, work_to))
            return
        if ms >= work_to:
            return  # closed for the day: whoever still waits is left to the day close
        grace = self.site.grace_minutes * MINUTE
        desk.restores = [r for r in desk.restores if ms - r[1] < grace - SECOND]
        due = [r for r in desk.restores if r[0] <= ms]
        if due:
            desk.restores.remove(due[0])
            _, _, code, service = due[0]
            await self._act(desk, "restore", code)
            self.waiting[service] += 1
            await self._call(desk, ms, ticket=code)
        elif rng.random() < how.pause:
            desk.paused = True
            await self._act(desk, "pause", rng.choice(self.reasons))
            self._at(min(ms + rng.randrange(5 * MINUTE, 30 * MINUTE), work_to), "desk", desk)
        else:
            await self._call(desk, ms)

    async def _visitor(self, desk: Desk, ms: int, work_to: int) -> None:
        """The called visitor comes late (a recall), never (a no-show), is sent on to another
        service, or sits down to be served."""
        rng, how = self.rng, self.how
        roll = rng.random()
        targets = [s for s in self.open_services(ms) if s != desk.service and s in self.served]
        if roll < how.recall and ms < work_to:
            await self._act(desk, "recall")
            self._at(ms + rng.randrange(20 * SECOND, 60 * SECOND), "desk", desk)
            return
        if roll < how.recall + how.skip:
            await self._act(desk, "skip")
            if rng.random() < how.restore:
                grace = self.site.grace_minutes * MINUTE
                due = ms + rng.randrange(MINUTE, grace)
                desk.restores.append((due, ms, desk.ticket, desk.service))
                self._at(due, "return", desk)
        elif roll < how.recall + how.skip + how.transfer and targets:
            target = rng.choice(targets)
            await self._act(desk, "transfer", target)
            self._queued(target, ms)
        else:
            desk.serving = True
            took = int(rng.expovariate(1 / how.service_mean_s) * SECOND) + 30 * SECOND
            self._at(ms + took, "desk", desk)
            return
        desk.ticket = ""
        self._at(ms + rng.randrange(10 * SECOND, 60 * SECOND), "desk", desk)

    async def _finish(self, desk: Desk, ms: int, work_to: int) -> None:
        """Selesai with an outcome, or Panggil, which completes the visitor and calls the next."""
        desk.serving = False
        if ms < work_to and self.rng.random() < self.how.call_through:
            await self._call(desk, ms)
            return
        outcome = "not_completed" if self.rng.random() < self.how.not_completed else "completed"
        await self._act(desk, "done", outcome)
        await self._survey(desk)
        desk.ticket = ""
        self._at(ms + self.rng.randrange(10 * SECOND, 60 * SECOND), "desk", desk)


    async def _survey(self, desk: Desk) -> None:
        """Some served visitors answer the survey, on the counter's tablet or their phone:
        mostly 3 and 4, fees mostly free (U4), complaint handling (U8) and facilities (U9)
        weaker; some give their profile."""
        rng = self.survey_rng
        if not desk.ticket or rng.random() >= self.how.survey:
            return
        weights = [(1, 5), (2, 12), (3, 53), (4, 30)]
        weaker = [(1, 8), (2, 25), (3, 47), (4, 20)]
        answers = [rng.choices([v for v, _ in w], [n for _, n in w])[0]
                   for w in [weights] * 3 + [[(2, 5), (3, 15), (4, 80)]] + [weights] * 3
                   + [weaker] * 2]
        profile = {name: rng.choice(values) for name, values in PROFILE_CHOICES.items()
                   if rng.random() < 0.6}
        await self.store.rate(self.store.today(), desk.ticket, answers, profile or None,
                              via=rng.choice(("status", "counter")))
        self.done["survey"] += 1


PROFILE_CHOICES = {name: profile_values(name) for name in PROFILE}


async def drain(archiver: Archiver) -> int:
    """Archive every event the stream holds now, and close the days before the archiver's
    clock's day; the number of events archived."""
    archived = 0
    while count := await archiver.step():
        archived += count
    return archived


async def simulate(site: SiteConfig, redis_url: str, database_url: str | None, *, first: date,
                   days: int, per_day: int, seed: int, stream_maxlen: int) -> Tally[str]:
    """Simulate `days` days on the site's Redis on one connection; with `database_url`, the
    archiver archives each day when it is over."""
    redis = connect(redis_url, pool_size=1, pool_timeout=10)
    clock = SimClock()
    simulation = Simulation(Store(redis, site, clock=clock, stream_maxlen=stream_maxlen), clock,
                            seed)
    after_day = None
    if database_url is not None:
        await asyncio.to_thread(archive_db.upgrade, database_url)
        archiver = Archiver(redis, site, archive_db.engine(database_url), clock, block_ms=1,
                            after_close=months.store_closed)

        async def after_day(day: str) -> None:
            simulation.done["archived"] += await drain(archiver)

    try:
        return await simulation.run(first, days, per_day, after_day)
    finally:
        await redis.aclose()


def default_first(site: SiteConfig, days: int, now: datetime) -> date:
    """The first day simulated without --start: `days` days ending yesterday, in the site's
    zone (not the host's: at 18.00 UTC it is already the next day in Jakarta)."""
    return now.astimezone(site.tz).date() - timedelta(days=days)


def _simulate(args: argparse.Namespace) -> int:
    site = load_config(args.config)
    redis_url = args.redis_url or os.environ.get("ANTRIAN_REDIS_URL")
    if not redis_url:
        print("antrian:", t("cli.simulate_needs_redis"), file=sys.stderr)
        return 2
    database_url = None
    if not args.no_archive:
        env = dict(os.environ)
        if args.database_url:
            env["ANTRIAN_DATABASE_URL"] = args.database_url
        database_url = archive_db.database_url(data_dir(args.data_dir), env)
    first = args.start or default_first(site, args.days, datetime.now(UTC))
    done = asyncio.run(simulate(site, redis_url, database_url, first=first, days=args.days,
                                per_day=args.per_day, seed=args.seed,
                                stream_maxlen=args.stream_maxlen))
    print(t("cli.simulate_done", days=args.days, first=first.isoformat(),
            tickets=done["ticket"], archived=done["archived"]))
    print(", ".join(f"{k}: {v}" for k, v in sorted(done.items())))
    return 0


def _count(text: str) -> int:
    value = int(text)
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError("must be between 1 and 100000")
    return value


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("simulate", help=t("help.simulate"))
    common(p)
    p.add_argument("--days", type=_count, required=True, help=t("help.simulate_days"))
    p.add_argument("--per-day", type=_count, default=200, help=t("help.simulate_per_day"))
    p.add_argument("--seed", type=int, default=1, help=t("help.simulate_seed"))
    p.add_argument("--start", type=date.fromisoformat,
                   help=t("help.simulate_start"))
    p.add_argument("--redis-url", help=t("help.redis_url"))
    p.add_argument("--database-url",
                   help=t("help.simulate_database"))
    p.add_argument("--no-archive", action="store_true", help=t("help.simulate_redis_only"))
    p.add_argument("--stream-maxlen", type=int, default=100_000,
                   help=t("help.simulate_maxlen"))
    p.set_defaults(func=_simulate)
