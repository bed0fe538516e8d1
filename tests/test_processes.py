"""Several `antrian serve` processes on one Redis (issue 14, "Several processes"): three
independent processes of one site on three ports (several hosts behind one address) and one
`antrian serve --workers 2`. Real redis-server, real processes, real WebSocket screens that
speak the contract (docs/events.md): a snapshot, then every event; a link lost is resumed on
another process with `since` = the last event id seen.

- a call made on any process reaches every screen on every process, each event once and in
  the stream's order;
- a process killed with -9 loses no acknowledged action, and its screens resume on the others
  with no gap and no duplicate;
- the archiver's lease moves to a survivor, and the archive ends with every event and every
  visit exactly once, as the answers said.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import httpx
import redis
import sqlalchemy as sa
import websockets
from conftest import ROOT, ServerProcess, eventually, wait_until
from site_api import SiteApi

from display_server.archive.tables import events as events_table
from display_server.archive.tables import visits as visits_table
from display_server.keys import SiteKeys
from display_server.state import wants
from protocol.event_ids import event_key


class Screen:
    """A lobby screen: the snapshot, then every event; when its link drops it resumes on the
    next process of its list that answers, with `since` = the last event id it saw."""

    def __init__(self, urls: Sequence[str], query: str = "") -> None:
        self.urls = list(urls)       # its own process first, then the others in turn
        self.query = query           # e.g. "services=B"
        self.messages: list[dict[str, Any]] = []   # every event, as received
        self.snapshots: list[dict[str, Any]] = []
        self.links: list[str] = []   # the process of each link it opened
        self.last: str | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Screen:
        self.task = asyncio.create_task(self._run())
        return self

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    def url(self, base: str) -> str:
        params = [p for p in (self.query, self.last and f"since={self.last}") if p]
        return f"{base}/ws/display" + ("?" + "&".join(params) if params else "")

    async def _run(self) -> None:
        for base in itertools.cycle(self.urls):
            with contextlib.suppress(OSError, TimeoutError, websockets.WebSocketException):
                async with websockets.connect(self.url(base), open_timeout=10,
                                              max_size=2**22) as ws:
                    self.links.append(base)
                    async for raw in ws:
                        message = json.loads(raw)
                        if message["type"] == "snapshot":
                            self.snapshots.append(message)
                            self.last = message["event_id"]
                        elif message["type"] not in ("heartbeat", "pong"):
                            self.messages.append(message)
                            self.last = message["event_id"]
            await asyncio.sleep(0.05)

    @property
    def services(self) -> frozenset[str] | None:
        """The services its query limits it to (None: all)."""
        wanted = self.query.removeprefix("services=")
        return frozenset(wanted.split(",")) if wanted else None

    @property
    def ids(self) -> list[str]:
        return [m["event_id"] for m in self.messages]


def stream(redis_url: str, site_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The site's events stream as Redis holds it: (id, event), in order."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        entries = cast(list[Any], client.xrange(SiteKeys(site_id)("events")))
        return [(str(i), json.loads(f["d"])) for i, f in entries]
    finally:
        client.close()


def lease_pid(redis_url: str, site_id: str) -> int | None:
    """The process id in the archiver's lease (`<host>-<pid>-<hex>`), None when nobody holds
    it."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        holder = client.get(SiteKeys(site_id)("archiver"))
    finally:
        client.close()
    return None if holder is None else int(str(holder).rsplit("-", 2)[1])


def pending(redis_url: str, site_id: str) -> int:
    """Events the archiver's group has read and not acknowledged."""
    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.xpending(SiteKeys(site_id)("events"), "archiver")["pending"])
    finally:
        client.close()


def leading(server: ServerProcess) -> bool:
    health = httpx.get(server.url + "/api/health", timeout=5).json()
    return bool(health["archive"]["leading"])


class Desk:
    """Counter actions as a careful client makes them: each with a request_id, sent to the
    counter's own process and, while that one does not answer, to the next one with the same
    request_id; the answers kept."""

    def __init__(self, servers: Sequence[ServerProcess], api: SiteApi) -> None:
        self.servers = list(servers)
        self.api = api
        self.clients = [httpx.AsyncClient(base_url=s.url, timeout=10) for s in servers]
        self.answers: list[tuple[int, str, dict[str, Any]]] = []   # (counter, action, answer)

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()

    async def post(self, home: int, path: str, body: dict[str, Any],
                   headers: dict[str, str]) -> dict[str, Any]:
        body = {**body, "request_id": uuid.uuid4().hex}
        index = home
        for _ in range(1200):
            client = self.clients[index % len(self.clients)]
            try:
                r = await client.post(path, json=body, headers=headers)
            except httpx.TransportError:
                index += 1   # that process is gone: the same request to the next one
                await asyncio.sleep(0.02)
                continue
            if r.status_code == 503:
                await asyncio.sleep(0.05)
                continue
            assert r.status_code in (200, 201), r.text
            answer: dict[str, Any] = r.json()
            return answer
        raise AssertionError(f"{path} never answered")

    async def ticket(self, home: int, service: str) -> dict[str, Any]:
        return await self.post(home, "/api/tickets", {"service": service},
                               self.api.kiosk_auth())

    async def act(self, home: int, counter: int, action: str,
                  **body: Any) -> dict[str, Any]:
        answer = await self.post(home, f"/api/counters/{counter}/{action}", body,
                                 self.api.auth(counter))
        self.answers.append((counter, action, answer))
        return answer


async def start_screens(servers: Sequence[ServerProcess], per_process: int,
                        query: str = "") -> list[Screen]:
    screens = []
    for n, _ in enumerate(servers):
        urls = [s.ws_url for s in [*servers[n:], *servers[:n]]]
        screens += [Screen(urls, query).start() for _ in range(per_process)]
    await eventually(lambda: all(s.snapshots for s in screens), "every screen's snapshot")
    return screens


async def all_caught_up(screens: Sequence[Screen],
                        entries: list[tuple[str, dict[str, Any]]]) -> None:
    """Wait until every screen has seen the stream's last event that it shows."""
    lasts = [next((i for i, e in reversed(entries) if wants(s.services, e)), "0-0")
             for s in screens]
    await eventually(lambda: all(s.last is not None and event_key(s.last) >= event_key(last)
                                 for s, last in zip(screens, lasts, strict=True)),
                     "every screen at the last event it shows", timeout=60)


def after(entries: list[tuple[str, dict[str, Any]]], first: str,
          services: frozenset[str] | None = None) -> list[str]:
    """The ids of the stream's events after `first` that a screen with `services` shows."""
    return [i for i, e in entries if event_key(i) > event_key(first) and wants(services, e)]


def check_answers(desk: Desk, entries: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Every acknowledged action is in the stream, as its answer said; no ticket was called
    twice. The tickets called."""
    by_id = dict(entries)
    called = []
    for counter, action, answer in desk.answers:
        if action == "call-next":
            ticket = answer["ticket"]
            if ticket is None:          # nobody waited: no event
                continue
            event = by_id[answer["event_id"]]
            assert (event["type"], event["ticket"], event["counter"]) == (
                "call", ticket["code"], counter)
            called.append(ticket["code"])
        elif "event_id" in answer:
            assert by_id[answer["event_id"]]["counter"] == counter
    assert len(called) == len(set(called)), Counter(called).most_common(3)
    calls = [e["ticket"] for _, e in entries if e["type"] == "call"]
    assert sorted(calls) == sorted(called)   # no call the answers did not see
    return called


def three(server_factory: Any) -> list[ServerProcess]:
    """Three processes of the site on three ports, one data dir (one secret, one archive)."""
    first = server_factory()          # migrates the archive; the others find it done
    with ThreadPoolExecutor(2) as pool:
        others = list(pool.map(lambda _: server_factory(), range(2)))
    return [first, *others]


async def test_calls_on_every_process_reach_every_screen_once_and_in_order(
        server_factory: Any, redis_url: str) -> None:
    """Counters on processes 1, 2 and 3 in turn call, recall, finish and pause: every screen
    on every process gets every event exactly once, in the stream's order, and the screens
    limited to service B all get B's events in that same order."""
    servers = three(server_factory)
    api = servers[0].api
    site_id = server_factory.site_id
    screens = await start_screens(servers, 2)
    b_screens = await start_screens(servers, 1, "services=B")
    first = screens[0].snapshots[0]["event_id"]
    assert {s.snapshots[0]["event_id"] for s in screens + b_screens} == {first}
    desk = Desk(servers, api)
    try:
        for n in range(24):
            await desk.ticket(n % 3, "AB"[n % 2])

        async def counter(number: int) -> None:
            for round_ in range(3):
                home = number + round_
                await desk.act(home % 3, number, "call-next")
                await desk.act((home + 1) % 3, number, "recall")
                await desk.act((home + 2) % 3, number, "done", outcome="completed")

        async def pausing() -> None:
            for n in range(3):
                await desk.act(n, 7, "pause")
                await desk.act(n + 1, 7, "resume")

        await asyncio.gather(*(counter(n) for n in range(1, 7)), pausing())
        entries = stream(redis_url, site_id)
        await all_caught_up(screens + b_screens, entries)
        expected = after(entries, first)
        assert len(expected) == 24 + 6 * 3 * 3 + 6
        for screen in screens:
            assert screen.ids == expected
            assert screen.links == screen.urls[:1] and len(screen.snapshots) == 1
        expected_b = after(entries, first, frozenset({"B"}))
        assert 0 < len(expected_b) < len(expected)
        for screen in b_screens:
            assert screen.ids == expected_b
        # the same messages everywhere, not only the same ids
        assert all(s.messages == screens[0].messages for s in screens)
        called = check_answers(desk, entries)
        assert len(called) == 18
    finally:
        await desk.close()
        for screen in screens + b_screens:
            await screen.stop()


async def test_a_process_killed_with_9_loses_nothing_and_its_screens_resume_elsewhere(
        server_factory: Any, redis_url: str) -> None:
    """Nine counters work through three processes; process 1 is killed with -9 in the middle.
    Its counters go on through the others (the request in flight sent again with its
    request_id), its screens resume on a survivor with `since`: in the end every screen has
    every event once, in order, and /api/state and the stream hold every acknowledged action."""
    servers = three(server_factory)
    victim, survivors = servers[0], servers[1:]
    api = survivors[0].api
    site_id = server_factory.site_id
    screens = await start_screens(servers, 2)
    first = screens[0].snapshots[0]["event_id"]
    desk = Desk(servers, api)
    try:
        for n in range(90):
            await desk.ticket(1 + n % 2, "A" if n % 3 else "B")

        async def counter(number: int) -> None:
            for round_ in range(6):
                await desk.act(number % 3, number, "call-next")
                if round_ % 2:
                    await desk.act(number % 3, number, "recall")
                await desk.act(number % 3, number, "done", outcome="completed")
            await desk.act(number % 3, number, "call-next")   # each ends serving one

        answered_before: list[int] = []

        async def kill() -> None:
            await eventually(lambda: len(desk.answers) >= 60, "60 actions answered")
            await asyncio.to_thread(victim.kill)
            answered_before.append(len(desk.answers))

        await asyncio.gather(kill(), *(counter(n) for n in range(1, 10)))
        assert victim.process is not None and victim.process.returncode == -signal.SIGKILL
        assert len(desk.answers) > answered_before[0] + 30   # the work went on after the kill
        entries = stream(redis_url, site_id)
        await all_caught_up(screens, entries)
        expected = after(entries, first)
        moved = [s for s in screens if s.urls[0] == victim.ws_url]
        assert len(moved) == 2
        for screen in moved:        # resumed on a survivor, with since, no fresh snapshot
            assert screen.links[0] == victim.ws_url
            assert {*screen.links[1:]} <= {s.ws_url for s in survivors} and screen.links[1:]
        for screen in screens:
            assert len(screen.snapshots) == 1, screen.snapshots[1:]
            assert screen.ids == expected, (len(screen.ids), len(expected))
        called = check_answers(desk, entries)
        assert len(called) == 9 * 7
        state = api.state()
        assert state["event_id"] == entries[-1][0]
        last_call = {c: a["ticket"]["code"] for c, action, a in desk.answers
                     if action == "call-next"}
        serving = {c["number"]: c["ticket"]["code"] for c in state["counters"] if c["ticket"]}
        assert serving == last_call
        assert state["waiting"]["A"] + state["waiting"]["B"] == 90 - len(called)
    finally:
        await desk.close()
        for screen in screens:
            await screen.stop()


def archived(data_dir: Path, site_id: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The archive's event ids in order and its visits by ticket code (SQLite, the data dir
    the processes share)."""
    engine = sa.create_engine(f"sqlite:///{data_dir / 'archive.sqlite3'}")
    try:
        with engine.connect() as connection:
            ids = [row.event_id for row in connection.execute(
                sa.select(events_table.c.event_id).where(events_table.c.site == site_id)
                .order_by(events_table.c.ms, events_table.c.seq))]
            visits = {row["code"]: dict(row) for row in connection.execute(
                sa.select(visits_table).where(visits_table.c.site == site_id)).mappings()}
    finally:
        engine.dispose()
    return ids, visits


def check_archive(data_dir: Path, site_id: str, entries: list[tuple[str, dict[str, Any]]],
                  desk: Desk, tickets: Sequence[str]) -> None:
    """The archive holds every event of the stream once and one visit per ticket, each with
    the first counter, recalls and outcome the answers said."""
    ids, visits = archived(data_dir, site_id)
    assert ids == [i for i, _ in entries]
    assert sorted(visits) == sorted(tickets)
    serving: dict[int, str] = {}
    first_counter: dict[str, int] = {}
    recalls: Counter[str] = Counter()
    outcome: dict[str, str] = {}
    for counter, action, answer in desk.answers:
        if action == "call-next" and answer["ticket"] is not None:
            serving[counter] = answer["ticket"]["code"]
            first_counter.setdefault(serving[counter], counter)
        elif action == "recall":
            recalls[serving[counter]] += 1
        elif action == "done":
            outcome[serving[counter]] = "completed"
    for code, visit in visits.items():
        assert (visit["first_counter"], visit["recalls"], visit["outcome"]) == (
            first_counter.get(code), recalls[code], outcome.get(code)), visit


def report_total(server: ServerProcess) -> dict[str, Any]:
    """`antrian report --format json`'s total, read from the shared archive."""
    env = {**os.environ, "ANTRIAN_DATA_DIR": str(server.data_dir)}
    env.pop("ANTRIAN_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "antrian", "report", "--config", str(server.config),
         "--format", "json", "--redis-url", server.redis_url or ""],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    total: dict[str, Any] = json.loads(done.stdout)["total"]
    return total


async def work(desk: Desk, counters: range, homes: int, tickets: list[str],
               rounds: int = 4) -> None:
    """Tickets from a kiosk and counters that call, sometimes recall, and finish."""

    async def kiosk() -> None:
        for n in range(len(counters) * rounds):
            tickets.append((await desk.ticket(n % homes, "A"))["code"])

    async def counter(number: int) -> None:
        for round_ in range(rounds):
            answer = await desk.act(number % homes, number, "call-next")
            if answer["ticket"] is None:
                await asyncio.sleep(0.05)
                continue
            if (number + round_) % 2:
                await desk.act(number % homes, number, "recall")
            await desk.act(number % homes, number, "done", outcome="completed")

    await asyncio.gather(kiosk(), *(counter(n) for n in counters))


async def test_the_archiver_lease_moves_to_a_survivor_and_the_archive_is_whole(
        server_factory: Any, redis_url: str, tmp_path: Path) -> None:
    """The process holding the archiver's lease is killed with -9 while counters work, in the
    middle of a batch (the archive is locked by the test, so the batch it read cannot be
    written): one survivor takes the lease (5 s, plus a round), archives what the dead one had
    read and not acknowledged, and the shared archive ends with every event and every visit
    exactly once, as the answers said."""
    servers = three(server_factory)
    site_id = server_factory.site_id
    wait_until(lambda: lease_pid(redis_url, site_id) is not None, what="a leaseholder")
    holder = next(s for s in servers
                  if s.process is not None and s.process.pid == lease_pid(redis_url, site_id))
    assert leading(holder)
    survivors = [s for s in servers if s is not holder]
    assert not any(leading(s) for s in survivors)
    desk = Desk([*survivors, holder], survivors[0].api)
    tickets: list[str] = []
    taken: list[float] = []
    try:
        async def kill() -> None:
            await eventually(lambda: len(desk.answers) >= 20, "20 actions answered")
            lock = sqlite3.connect(tmp_path / "archive.sqlite3", timeout=30,
                                   check_same_thread=False)
            try:
                await asyncio.to_thread(lock.execute, "BEGIN IMMEDIATE")  # no writer gets in
                await eventually(lambda: pending(redis_url, site_id) > 0,
                                 "the leaseholder holding a batch it cannot write")
                await asyncio.to_thread(holder.kill)
            finally:
                lock.rollback()
                lock.close()
            killed = time.monotonic()
            await eventually(lambda: any(leading(s) for s in survivors),
                             "a survivor takes the lease", timeout=60)
            taken.append(time.monotonic() - killed)

        await asyncio.gather(kill(), work(desk, range(1, 9), 2, tickets))
        print(f"archiver lease taken over {taken[0]:.1f} s after the kill -9")
        assert [leading(s) for s in survivors].count(True) == 1
        assert lease_pid(redis_url, site_id) in {s.process.pid for s in survivors if s.process}
        entries = stream(redis_url, site_id)

        def archived_up() -> bool:
            health = [httpx.get(s.url + "/api/health", timeout=5).json() for s in survivors]
            return any(h["archive"]["leading"] and h["archive"]["lag"] == 0 for h in health)

        wait_until(archived_up, timeout=60, what="the archive caught up")
        check_archive(tmp_path, site_id, entries, desk, tickets)
        total = report_total(survivors[0])
        called = check_answers(desk, entries)
        assert (total["issued"], total["called"], total["completed"]) == (
            len(tickets), len(called), len(called))
    finally:
        await desk.close()


def workers_of(server: ServerProcess) -> set[int]:
    """The worker processes of an `antrian serve --workers N` (children of its supervisor)."""
    assert server.process is not None
    found = subprocess.run(["pgrep", "-P", str(server.process.pid), "-f", "spawn_main"],
                           capture_output=True, text=True, check=False).stdout.split()
    return {int(pid) for pid in found}


async def test_workers_2_one_worker_killed_with_9(server_factory: Any, redis_url: str,
                                                  tmp_path: Path) -> None:
    """`antrian serve --workers 2`: the worker holding the archiver's lease is killed with -9
    while counters work. Its screens come back on the same address with `since` and miss
    nothing; the lease moves to another worker; the archive is whole."""
    server = server_factory(extra_args=["--workers", "2"])
    site_id = server_factory.site_id
    wait_until(lambda: len(workers_of(server)) == 2, what="two workers")
    wait_until(lambda: lease_pid(redis_url, site_id) in workers_of(server),
               what="a worker holds the lease")
    victim = lease_pid(redis_url, site_id)
    assert victim is not None
    screens = await start_screens([server], 6)
    first = screens[0].snapshots[0]["event_id"]
    desk = Desk([server], server.api)
    tickets: list[str] = []
    try:
        async def kill() -> None:
            await eventually(lambda: len(desk.answers) >= 20, "20 actions answered")
            os.kill(victim, signal.SIGKILL)

        await asyncio.gather(kill(), work(desk, range(1, 7), 1, tickets))
        wait_until(lambda: lease_pid(redis_url, site_id) not in (None, victim),
                   timeout=60, what="another worker takes the lease")
        assert lease_pid(redis_url, site_id) in workers_of(server)
        entries = stream(redis_url, site_id)
        await all_caught_up(screens, entries)
        expected = after(entries, first)
        for screen in screens:
            assert len(screen.snapshots) == 1, screen.snapshots[1:]
            assert screen.ids == expected, (len(screen.ids), len(expected))
        print(f"{sum(len(s.links) > 1 for s in screens)} of 6 screens resumed after the kill")

        def archived_up() -> bool:
            return len(archived(tmp_path, site_id)[0]) == len(entries)

        wait_until(archived_up, timeout=60, what="the archive caught up")
        check_archive(tmp_path, site_id, entries, desk, tickets)
        check_answers(desk, entries)
    finally:
        await desk.close()
        for screen in screens:
            await screen.stop()
