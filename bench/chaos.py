"""Chaos under load (issue 14): faults injected while the sites work, then the invariants
checked; printed as figures (not a test).

Starts a Redis Cluster of 3 masters and 3 replicas (or, with `--redis sentinel`, a primary, a
replica and three sentinels: tests/redis_topologies.py) and, for each of `--sites` sites (the
29-counter bench site of bench/serving.py), `--processes` `antrian serve` processes on that
Redis sharing one SQLite archive (with `--postgres`, all the sites share one database on a real
PostgreSQL server, tests/postgres_server.py: Debian's `postgresql`). Then, at once:
- a kiosk per site issues tickets at the pace the counters serve them (each retried with the
  same `request_id`, on another process, until answered);
- 29 counters per site call the next visitor, serve a moment, finish (one in ten skipped)
  with counter_client's Client: a press that stays unanswered is sent again, with the same
  `request_id`, to another process of the site, as a client behind a balancer would;
- `--screens` screens (split over the sites and their processes) follow /ws/display with
  protocol.follower's Follower, which resumes with `since`; a screen whose process went away
  resumes on the next process of its site;
- faults for `--minutes` (or `--seconds`), one at a time, at random intervals (`--every`
  seconds on average), a server fault and a Redis fault in turns: a site's process with the
  most screens is killed (SIGKILL) and started again a few seconds later; the Redis faults
  take turns among their kinds (the one done least so far, ties drawn at random):
  - the Redis master of a site's slot (the Sentinel primary) is killed, the failover awaited,
    and the node started again (it comes back as a replica);
  - the replica of that master (Sentinel's replica) is killed and started again (meanwhile
    the actions find no replica for their `WAIT 1` and are answered 500 ms late);
  - Sentinel only: one of the three sentinels is killed and started again; and one is
    killed, then the primary too (a failover with 2 of 3 sentinels: quorum 2), then both are
    started again;
  each Redis fault waits until every node is up and every master has a synced replica again
  (and every sentinel is back and agrees on the primary).
Then the load drains (each counter finishes its visitor) and it checks, per site:
- every ticket was called at most once: by the call answers (distinct request ids per ticket)
  and by the events stream (one `call` event per ticket);
- every answered action is in the events stream (none lost in a failover), every issued
  ticket (the kiosk's answers) is accounted for: waiting, done or skipped, and /api/state
  agrees (no counter still serving, the same number waiting); no ticket without an answer;
- every screen saw every call event of its site after its first snapshot, in order, no gap,
  and needed no fresh snapshot on a reconnect;
- the archive (the archiver's lease moving between processes) has every event once and
  exactly the visits done, skipped and waiting.
Prints counts, actions/s, faults, failover times, reconnects, the longest outage a counter saw,
PASS or FAIL (exit 1). The faults are drawn at random from `--seed` (printed), the load's
timing too (the machine's timing is not reproducible).

Run (one bench at a time on a small machine):
  flock /tmp/antrian-bench.lock .venv/bin/python bench/chaos.py [--redis cluster|sentinel]
      [--postgres] [--sites 2] [--processes 2] [--screens 200] [--minutes 3 | --seconds 60]
      [--every 15] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from redis import Redis
from serving import BENCH_ENV, COUNTERS, raise_fd_limit  # sets sys.path: tests/ and the repo

from conftest import ServerProcess, free_port, wait_until, write_site  # isort: skip
from postgres_server import PostgresServer  # isort: skip
from redis_topologies import Cluster, Node, SentinelSet  # isort: skip

from counter_client.client import Client
from counter_client.errors import CounterError, Unavailable
from counter_client.models import ActionResult, Press
from display_server.keys import SiteKeys
from display_server.store import connect
from protocol.event_ids import event_key
from protocol.follower import Follower

SERVE_S = (1.0, 6.0)      # an officer serves a visitor this long (uniform), in seconds
SKIP_SHARE = 0.1          # visitors who do not come: skipped
SERVICES = ("A", "B")     # always open in the bench site
BACKLOG = 2 * COUNTERS    # tickets the kiosk issues at once at the start (a morning queue)
SERVER_DOWN_S = (1.0, 6.0)  # a killed server process is started again after this long
REDIS_DOWN_S = (3.0, 10.0)  # a killed Redis node is started again after this long
RETRIED = (429, 502, 503, 504)  # as counter_client retries them (errors.BY_STATUS)
SLOW_S = 1.0              # a press answered later than this is counted as slow
GIVE_UP_S = 120.0         # after the load stops, a press unanswered this long is a failure
ERROR_MARKS = ("Redis error on", "unhandled error", "Traceback", "Error: ")
DRAIN_S = 90.0            # screens and archives catch up within this after the load


class Archive:
    """Where a site's processes archive to: an SQLite file, or a PostgreSQL database; read for
    the checks with the database's own driver, not the server's code."""

    def __init__(self, sqlite: Path | None = None, postgres: tuple[int, str] | None = None
                 ) -> None:
        self.sqlite = sqlite
        self.postgres = postgres  # (port, database) on 127.0.0.1, user postgres

    @property
    def url(self) -> str:
        """ANTRIAN_DATABASE_URL for the servers."""
        if self.postgres is not None:
            port, database = self.postgres
            return f"postgresql://postgres@127.0.0.1:{port}/{database}"
        return f"sqlite:///{self.sqlite}"

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """`query` with `?` placeholders."""
        if self.postgres is not None:
            port, database = self.postgres
            with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres "
                                 f"dbname={database}", connect_timeout=10) as db:
                return list(db.execute(query.replace("?", "%s"), params).fetchall())
        assert self.sqlite is not None
        with sqlite3.connect(self.sqlite, timeout=30) as lite:
            return lite.execute(query, params).fetchall()


@dataclass
class Site:
    """One site's deployment and what its clients saw."""

    site_id: str
    servers: list[ServerProcess]
    archive: Archive
    issued: dict[str, dict[str, Any]] = field(default_factory=dict)      # code -> answer
    calls: dict[str, set[str]] = field(default_factory=dict)             # code -> request ids
    answered: dict[str, tuple[str, str]] = field(default_factory=dict)   # event id -> (type, code)
    finished: dict[str, str] = field(default_factory=dict)               # code -> done | skip
    problems: list[str] = field(default_factory=list)                    # refused actions
    screens: list[Screen] = field(default_factory=list)


@dataclass
class Tally:
    actions: int = 0
    retries: int = 0              # sends that found no answer and went again
    outages: list[float] = field(default_factory=list)   # seconds a press went unanswered
    slowest: float = 0.0          # seconds from a press's first send to its answer, the most
    slow: int = 0                 # presses answered after more than SLOW_S
    faults: collections.Counter[str] = field(default_factory=collections.Counter)
    fault_log: list[str] = field(default_factory=list)
    failovers: list[float] = field(default_factory=list)  # seconds from a kill to a new master

    def answered(self, sent: float, unanswered_since: float | None) -> None:
        now = time.monotonic()
        self.actions += 1
        self.slowest = max(self.slowest, now - sent)
        self.slow += now - sent > SLOW_S
        if unanswered_since is not None:
            self.outages.append(now - unanswered_since)


class Screen:
    """A lobby screen: protocol.follower's Follower on one process of its site, moving to the
    next process when the link is lost."""

    def __init__(self, site: Site, first: int) -> None:
        self.site = site
        self.at = first
        self.base: str | None = None            # the first snapshot's event id
        self.resyncs = 0                         # fresh snapshots after the first
        self.seen: list[tuple[str, str]] = []    # (event id, type) in arrival order
        self.drops = 0
        self.links: list[tuple[float, bool, int]] = []  # (wall clock, up, the server's port)
        self.follower = Follower(site.servers[first].url, self.message, self.link,
                                 max_backoff=2.0)

    def message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "snapshot":
            if self.base is None:
                self.base = message.get("event_id")
            else:
                self.resyncs += 1
        elif kind not in ("heartbeat", "pong", "error") and message.get("event_id"):
            self.seen.append((message["event_id"], kind or ""))

    def link(self, up: bool) -> None:
        self.links.append((time.time(), up, self.site.servers[self.at].port))
        if not up and self.base is not None:
            self.drops += 1
            self.at = (self.at + 1) % len(self.site.servers)
            self.follower.server = self.site.servers[self.at].url


async def counter(site: Site, n: int, tally: Tally, stop: asyncio.Event) -> None:
    """One officer: call, serve, finish (or skip), until `stop`; the current visitor is
    always finished before stopping."""
    token = site.servers[0].api.token(n)
    clients = [Client(s.url, n, token, timeout=5.0, attempts=2, max_backoff=0.5)
               for s in site.servers]
    at = n % len(clients)

    async def send(press: Press) -> ActionResult | None:
        nonlocal at
        since: float | None = None
        sent = time.monotonic()
        while True:
            try:
                result = await clients[at].send(press)
            except Unavailable as error:
                tally.retries += 1
                since = since or time.monotonic()
                if stop.is_set() and time.monotonic() - since > GIVE_UP_S:
                    site.problems.append(f"counter {n} {press.action}: no answer for "
                                         f"{GIVE_UP_S:g} s ({error.code})")
                    return None
                at = (at + 1) % len(clients)
                await asyncio.sleep(0.2)
                continue
            except CounterError as error:
                site.problems.append(f"counter {n} {press.action}: {error.status} {error.code}")
                return None
            tally.answered(sent, since)
            return result

    try:
        while not stop.is_set():
            press = Press("call-next")
            called = await send(press)
            if called is None or called.ticket is None:
                await asyncio.sleep(1.0)
                continue
            code = called.ticket.code
            site.calls.setdefault(code, set()).add(press.request_id)
            if called.event_id:
                site.answered[called.event_id] = ("call", code)
            await asyncio.sleep(random.uniform(*SERVE_S))
            skip = random.random() < SKIP_SHARE
            finish = await send(Press("skip") if skip else Press("done", "completed"))
            if finish is not None:
                site.finished[code] = "skip" if skip else "done"
                if finish.event_id:
                    site.answered[finish.event_id] = ("skip" if skip else "done", code)
    finally:
        for client in clients:
            await client.aclose()


async def kiosk(site: Site, tally: Tally, stop: asyncio.Event) -> None:
    """Tickets at about the pace the counters serve them, each retried with its request id."""
    auth = site.servers[0].api.kiosk_auth()
    clients = [httpx.AsyncClient(base_url=s.url, headers=auth, timeout=5.0, trust_env=False)
               for s in site.servers]
    pace = statistics.mean(SERVE_S) / COUNTERS
    at = 0
    try:
        for i in range(10**9):
            if stop.is_set():
                break
            body = {"service": random.choice(SERVICES), "request_id": os.urandom(12).hex()}
            since: float | None = None
            sent = time.monotonic()
            while True:
                try:
                    answer = await clients[at].post("/api/tickets", json=body)
                except httpx.HTTPError:
                    answer = None
                if answer is not None and answer.status_code == 201:
                    site.issued[answer.json()["code"]] = answer.json()
                    tally.answered(sent, since)
                    break
                if answer is not None and answer.status_code not in RETRIED:
                    site.problems.append(f"kiosk: {answer.status_code} {answer.text[:120]}")
                    break
                tally.retries += 1
                since = since or time.monotonic()
                if stop.is_set() and time.monotonic() - since > GIVE_UP_S:
                    site.problems.append(f"kiosk: no answer for {GIVE_UP_S:g} s")
                    break
                at = (at + 1) % len(clients)
                await asyncio.sleep(0.2)
            if i >= BACKLOG:
                await asyncio.sleep(pace * random.uniform(0.5, 1.4))
    finally:
        for client in clients:
            await client.aclose()


# -- faults ----------------------------------------------------------------------------------

class Topology:
    """The Redis deployment and its faults: the master of a site's slot (the Sentinel primary)
    killed, failed over and started again; its replica killed and started again; on Sentinel,
    one of the three sentinels killed and started again, alone or with a failover meanwhile."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self.cluster = Cluster(directory) if kind == "cluster" else None
        self.sentinel = SentinelSet(directory) if kind == "sentinel" else None

    @property
    def redis_faults(self) -> tuple[str, ...]:
        """The kinds of Redis fault, as the tally names them."""
        if self.cluster is not None:
            return ("cluster master killed", "cluster replica killed")
        return ("sentinel primary killed", "sentinel replica killed", "one sentinel killed",
                "one sentinel and the primary killed")

    @property
    def master_faults(self) -> tuple[str, ...]:
        """The kinds that kill a master (a screen may be shown a call it lost: a ghost)."""
        return tuple(k for k in self.redis_faults if "master" in k or "primary" in k)

    def start(self) -> str:
        if self.cluster is not None:
            return self.cluster.start().url
        assert self.sentinel is not None
        return self.sentinel.start().url

    def stop(self) -> None:
        for part in (self.cluster, self.sentinel):
            if part is not None:
                part.stop()

    # -- Sentinel's view ----------------------------------------------------------------------

    def _living_sentinels(self) -> list[int]:
        assert self.sentinel is not None
        return [port for port, process in zip(self.sentinel.sentinel_ports,
                                              self.sentinel.sentinels, strict=True)
                if process.poll() is None]

    def _ask(self, port: int) -> Redis:
        return Redis(port=port, socket_timeout=2, decode_responses=True)

    def primary_port(self) -> int | None:
        """The primary every living sentinel names; None while they disagree."""
        assert self.sentinel is not None
        named = set()
        for port in self._living_sentinels():
            with self._ask(port) as client:
                named.add(int(client.sentinel_get_master_addr_by_name(
                    self.sentinel.service)[1]))
        return named.pop() if len(named) == 1 else None

    def _sentinels_whole(self, primary: int, replica: int) -> bool:
        """All three sentinels up, each naming `primary`, seeing the other two and `replica`
        with nothing down or disconnected."""
        assert self.sentinel is not None
        living = self._living_sentinels()
        if len(living) != len(self.sentinel.sentinel_ports):
            return False
        service = self.sentinel.service
        for port in living:
            with self._ask(port) as client:
                if int(client.sentinel_get_master_addr_by_name(service)[1]) != primary:
                    return False
                others = client.sentinel_sentinels(service)
                replicas = [r for r in client.sentinel_slaves(service)
                            if int(r["port"]) == replica]
                if (len(others) != len(living) - 1 or len(replicas) != 1
                        or any(o["is_sdown"] or o["is_disconnected"] for o in others)
                        or replicas[0]["is_sdown"] or replicas[0]["is_disconnected"]
                        or replicas[0].get("master-link-status") != "ok"):
                    return False
        return True

    def _restart_sentinel(self, index: int) -> None:
        """Start sentinel `index` again on its own config file (which it rewrites itself)."""
        assert self.sentinel is not None
        port = self.sentinel.sentinel_ports[index]
        directory = self.sentinel.directory
        self.sentinel.sentinels[index] = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server",
             str(directory / f"sentinel-{port}.conf"), "--sentinel"],
            stdout=(directory / f"sentinel-{port}.log").open("ab"),
            stderr=subprocess.STDOUT, start_new_session=True)

    def _kill_sentinel(self, index: int) -> int:
        assert self.sentinel is not None
        process = self.sentinel.sentinels[index]
        process.kill()
        process.wait(10)
        return self.sentinel.sentinel_ports[index]

    # -- the whole deployment -----------------------------------------------------------------

    def whole(self) -> bool:
        """Every node up, every master with a replica in sync; on Sentinel, every sentinel up,
        agreeing on the primary and seeing the replica and each other."""
        nodes = self.nodes()
        if any(n.process is None or n.process.poll() is not None for n in nodes):
            return False
        infos = [n.client().info("replication") for n in nodes]
        replicas_ok = all(i.get("master_link_status") == "up"
                          and not i.get("master_sync_in_progress")
                          for i in infos if i["role"] == "slave")
        masters = [i for i in infos if i["role"] == "master"]
        if self.cluster is not None:
            states = [n.client().cluster("info")["cluster_state"] for n in nodes]
            return (replicas_ok and all(s == "ok" for s in states) and len(masters) == 3
                    and all(int(i.get("connected_slaves", 0)) >= 1 for i in masters))
        if not replicas_ok or len(masters) != 1:
            return False
        primary = nodes[infos.index(masters[0])].port
        replica = next(n.port for n in nodes if n.port != primary)
        return self.primary_port() == primary and self._sentinels_whole(primary, replica)

    def nodes(self) -> list[Node]:
        if self.cluster is not None:
            return self.cluster.nodes
        assert self.sentinel is not None
        return [self.sentinel.primary, self.sentinel.replica]

    def _master(self, site_id: str) -> Node:
        """The master of the site's slot (the Sentinel primary)."""
        if self.cluster is not None:
            return self.cluster.master_of(SiteKeys(site_id)("events"))
        port = self.primary_port()
        return next(n for n in self.nodes() if n.port == port)

    def _replica_of(self, master: Node) -> Node:
        for node in self.nodes():
            info = node.client().info("replication")
            if info["role"] == "slave" and int(info["master_port"]) == master.port:
                return node
        raise LookupError(f"no replica of :{master.port}")

    def _fail_over(self, site_id: str, victim: Node) -> float:
        """Kill `victim` (the site's master) and wait for its successor; the seconds it took."""
        begin = time.monotonic()
        victim.kill()
        if self.cluster is not None:
            key = SiteKeys(site_id)("events")
            wait_until(lambda: self.cluster is not None and self.cluster.promoted(key, victim),
                       timeout=60, what="the replica promoted")
            self.cluster.wait_ok(self.cluster.alive(), timeout=60)
        else:
            wait_until(lambda: self.primary_port() not in (None, victim.port), timeout=60,
                       what="the living sentinels' new primary")
        return time.monotonic() - begin

    def fault(self, kind: str, site_id: str, down_s: float, sentinel: int
              ) -> tuple[str, float | None]:
        """Blocking: the fault `kind` (one of redis_faults) on `site_id`'s master or its
        replica, or on sentinel number `sentinel`, until all is whole again; a line for the log
        and the failover's seconds (None: no failover)."""
        wait_until(self.whole, timeout=60, what="the Redis deployment whole before a fault")
        begin = time.monotonic()
        failover: float | None = None
        if kind in ("cluster master killed", "sentinel primary killed"):
            victim = self._master(site_id)
            failover = self._fail_over(site_id, victim)
            time.sleep(max(0.0, down_s - failover))
            victim.start()
            line = f"redis master :{victim.port} of {site_id} killed, failover {failover:.1f} s"
        elif kind in ("cluster replica killed", "sentinel replica killed"):
            victim = self._replica_of(self._master(site_id))
            victim.kill()
            time.sleep(down_s)
            victim.start()
            line = f"redis replica :{victim.port} of {site_id}'s master killed for {down_s:.1f} s"
        elif kind == "one sentinel killed":
            port = self._kill_sentinel(sentinel)
            time.sleep(down_s)
            self._restart_sentinel(sentinel)
            line = f"sentinel :{port} killed for {down_s:.1f} s"
        else:
            port = self._kill_sentinel(sentinel)
            time.sleep(1.0)  # a sentinel down, then the primary: 2 of 3 must fail it over
            victim = self._master(site_id)
            failover = self._fail_over(site_id, victim)
            time.sleep(max(0.0, down_s - failover))
            victim.start()
            self._restart_sentinel(sentinel)
            line = (f"sentinel :{port} killed, then primary :{victim.port}: failover by the "
                    f"2 left {failover:.1f} s")
        wait_until(self.whole, timeout=90, what="the Redis deployment whole again after: "
                   + kind)
        return f"{line}, whole again after {time.monotonic() - begin:.1f} s", failover


async def chaos(sites: list[Site], topology: Topology, seconds: float, every: float,
                tally: Tally) -> None:
    start = time.monotonic()
    end = start + seconds
    while True:
        gap = random.uniform(0.5, 1.5) * every
        if time.monotonic() + gap > end:
            break
        await asyncio.sleep(gap)
        site = random.choice(sites)
        begin = time.monotonic() - start
        servers_killed = tally.faults["server process killed"]
        redis_faults = sum(tally.faults[k] for k in topology.redis_faults)
        # a server fault and a Redis fault take turns, which one first at random
        if servers_killed < redis_faults or (servers_killed == redis_faults
                                             and random.random() < 0.5):
            # the process with the most screens on it (they move to the next one on a kill)
            on = collections.Counter(screen.at for screen in site.screens)
            most = max(on[i] for i in range(len(site.servers)))
            server = site.servers[random.choice(
                [i for i in range(len(site.servers)) if on[i] == most])]
            server.kill()
            tally.faults["server process killed"] += 1
            await asyncio.sleep(random.uniform(*SERVER_DOWN_S))
            await asyncio.to_thread(server.start)
            line = f"server :{server.port} of {site.site_id} killed and started again"
        else:  # the Redis kinds take turns: the one done least so far, ties at random
            least = min(tally.faults[k] for k in topology.redis_faults)
            kind = random.choice([k for k in topology.redis_faults if tally.faults[k] == least])
            tally.faults[kind] += 1
            line, failover = await asyncio.to_thread(
                topology.fault, kind, site.site_id, random.uniform(*REDIS_DOWN_S),
                random.randrange(3))
            if failover is not None:
                tally.failovers.append(failover)
        tally.fault_log.append(f"{begin:6.1f} s  {line} (over at {time.monotonic() - start:.1f} s)")
        print("  fault:", tally.fault_log[-1], flush=True)


# -- checks ----------------------------------------------------------------------------------

async def read_stream(url: str, site_id: str) -> list[tuple[str, dict[str, Any]]]:
    redis = connect(url, pool_size=4, pool_timeout=10)
    key = SiteKeys(site_id)("events")
    out: list[tuple[str, dict[str, Any]]] = []
    after = "-"
    try:
        while True:
            page: list[Any] = await redis.xrange(key, min=after, max="+", count=5000) or []
            rows = [r for r in page if not out or r[0] != out[-1][0]]
            if not rows:
                return out
            for event_id, fields in rows:
                out.append((str(event_id), json.loads(fields["d"])))
            after = out[-1][0]
    finally:
        await redis.aclose()


def archive_rows(site: Site, query: str) -> list[tuple[Any, ...]]:
    return site.archive.rows(query, site.site_id)


async def drained(site: Site, last: str) -> tuple[bool, bool]:
    """Wait until every screen and the archive have the stream's last event."""
    deadline = time.monotonic() + DRAIN_S

    def screens_done() -> bool:
        return all(s.follower.since == last for s in site.screens)

    def archive_done() -> bool:
        rows = archive_rows(site, "SELECT last_event_id FROM archiver_state WHERE site = ?")
        return bool(rows) and rows[0][0] == last

    while time.monotonic() < deadline and not (screens_done() and archive_done()):
        await asyncio.sleep(0.5)
    return screens_done(), archive_done()


async def check(site: Site, url: str, redis_killed: bool) -> list[str]:
    """The invariants of one site; a list of failures (empty: it held). `redis_killed`: a
    Redis master died in the run, so screens may have been shown calls it lost (ghosts)."""
    fail: list[str] = []
    stream = await read_stream(url, site.site_id)
    last = stream[-1][0] if stream else "0-0"
    screens_ok, archive_ok = await drained(site, last)
    ids = {event_id for event_id, _ in stream}
    by_type: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for _, event in stream:
        if event.get("ticket"):
            by_type[event["type"]][event["ticket"]] += 1
    s = site.site_id
    # called at most once
    twice = [c for c, n in by_type["call"].items() if n > 1]
    if twice:
        fail.append(f"{s}: {len(twice)} tickets with more than one call event, e.g. {twice[:5]}")
    answered_twice = [c for c, rids in site.calls.items() if len(rids) > 1]
    if answered_twice:
        fail.append(f"{s}: {len(answered_twice)} tickets answered to two call presses, "
                    f"e.g. {answered_twice[:5]}")
    # acknowledged actions kept
    lost = [f"{kind} {code} ({eid})" for eid, (kind, code) in site.answered.items()
            if eid not in ids]
    if lost:
        fail.append(f"{s}: {len(lost)} answered actions missing from the events stream, "
                    f"e.g. {lost[:5]}")
    unissued = [c for c in site.issued if by_type["ticket"][c] != 1]
    if unissued:
        fail.append(f"{s}: {len(unissued)} answered tickets without exactly one ticket event, "
                    f"e.g. {unissued[:5]}")
    unanswered = [c for c in by_type["ticket"] if c not in site.issued]
    if unanswered:
        fail.append(f"{s}: {len(unanswered)} tickets issued that no kiosk got an answer for, "
                    f"e.g. {unanswered[:5]}")
    if site.problems:
        fail.append(f"{s}: {len(site.problems)} actions refused, e.g. {site.problems[:3]}")
    # accounted for
    waiting = {c for c in site.issued if c not in site.calls}
    open_calls = [c for c in site.calls if c not in site.finished]
    if open_calls:
        fail.append(f"{s}: {len(open_calls)} called tickets never finished, e.g. {open_calls[:5]}")
    finished_events = {c: k for k in ("done", "skip") for c in by_type[k]}
    wrong = [c for c, k in site.finished.items() if finished_events.get(c) != k]
    if wrong:
        fail.append(f"{s}: {len(wrong)} tickets finished otherwise in the stream than answered, "
                    f"e.g. {wrong[:5]}")
    state = httpx.get(site.servers[0].url + "/api/state", timeout=10).json()
    busy = [c.get("number") for c in state["counters"] if c.get("ticket")]
    if busy:
        fail.append(f"{s}: /api/state shows counters still serving: {busy[:10]}")
    waiting_now = sum(state["waiting"].values()) if isinstance(state["waiting"], dict) else None
    if waiting_now != len(waiting):
        fail.append(f"{s}: /api/state has {waiting_now} waiting, the answers {len(waiting)}")
    # screens
    calls_after = [(eid, "call") for eid, e in stream if e.get("type") == "call"]
    missed = extra = out_of_order = 0
    for screen in site.screens:
        assert screen.base is not None
        want = [c for c in calls_after if event_key(c[0]) > event_key(screen.base)]
        got = [c for c in screen.seen if c[1] == "call"]
        if got == want:
            continue
        gone = [eid for eid, _ in want if (eid, "call") not in set(got)]
        ghosts = [eid for eid, _ in got if (eid, "call") not in set(want)]
        missed += bool(gone)
        extra += bool(ghosts)
        out_of_order += not gone and not ghosts
        if (gone or ghosts) and missed + extra <= 3:
            links = ", ".join(
                f"{'up' if up else 'down'} :{port} at "
                f"{datetime.fromtimestamp(at, UTC).isoformat(timespec='milliseconds')}"
                for at, up, port in screen.links)
            print(f"  {s}: a screen missed {len(gone)} of {len(want)} calls {gone[:3]} and "
                  f"was shown {len(ghosts)} calls the stream does not hold {ghosts[:3]}; its "
                  f"links: {links or 'never lost'}", flush=True)
    resynced = sum(1 for screen in site.screens if screen.resyncs)
    if missed or out_of_order or resynced or not screens_ok:
        fail.append(f"{s}: screens missing calls {missed}, calls out of order {out_of_order}, "
                    f"fresh snapshots {resynced}, not caught up {not screens_ok}")
    if extra:
        ghost = (f"{s}: {extra} screens were shown calls the stream no longer holds "
                 "(written on a master that died before its replica had them)")
        if redis_killed:  # the WAIT bound allows it: docs/operations.md#the-wait-bound
            print(f"NOTE: {ghost}; allowed by the WAIT bound when a master dies", flush=True)
        else:  # with Redis never killed, a call shown but not in the stream is a bug
            fail.append(ghost)
    # archive
    if not site.calls:
        fail.append(f"{s}: no call was answered: no load to judge")
    if not archive_ok:
        fail.append(f"{s}: the archive did not reach the stream's last event {last}")
    archived = archive_rows(site, "SELECT count(*), count(DISTINCT event_id) FROM events "
                            "WHERE site = ?")[0]
    if archived != (len(stream), len(stream)):
        fail.append(f"{s}: archive events {archived[0]} (distinct {archived[1]}), "
                    f"stream {len(stream)}")
    visits = {code: (outcome, first_call) for code, outcome, first_call in archive_rows(
        site, "SELECT code, outcome, first_call_ms FROM visits WHERE site = ?")}
    expect = {c: ("completed" if site.finished.get(c) == "done" else
                  "no_show" if site.finished.get(c) == "skip" else None) for c in site.issued}
    got_visits = {c: v[0] for c, v in visits.items()}
    if got_visits != expect:
        codes = sorted(c for c in set(got_visits) | set(expect)
                       if got_visits.get(c, "-") != expect.get(c, "-"))
        detail = [f"{c}: answered {expect.get(c, '(no ticket)')}, archived "
                  f"{got_visits.get(c, '(no visit)')}, stream "
                  f"{[(eid, e['type']) for eid, e in stream if e.get('ticket') == c]}"
                  for c in codes[:4]]
        fail.append(f"{s}: archive visits differ from the answers for {len(codes)} tickets, "
                    f"e.g. {detail}")
    print(f"{s}: {len(site.issued)} tickets, {len(site.calls)} called, "
          f"{sum(1 for k in site.finished.values() if k == 'done')} done, "
          f"{sum(1 for k in site.finished.values() if k == 'skip')} skipped, "
          f"{len(waiting)} waiting; {len(stream)} events; {len(site.screens)} screens "
          f"({sum(sc.drops for sc in site.screens)} lost links); archive "
          f"{archived[0]} events, {len(visits)} visits", flush=True)
    return fail


def server_errors(sites: list[Site]) -> list[str]:
    """The servers' logged errors (a 500's cause), first ones first."""
    lines: list[str] = []
    for site in sites:
        for log in sorted(site.servers[0].data_dir.glob("server-*.log")):
            lines += [f"{log.name}: {line[:300]}" for line in log.read_text().splitlines()
                      if any(mark in line for mark in ERROR_MARKS)]
    return lines


# -- run -------------------------------------------------------------------------------------

def deploy(root: Path, url: str, index: int, processes: int, archive: Archive | None) -> Site:
    """A site's processes; `archive` shared by the sites, or else an SQLite file of its own."""
    site_id = f"chaos{index}"
    data = root / site_id
    data.mkdir()
    config = write_site(data / "site.toml", site_id, counters=COUNTERS)
    archive = archive or Archive(sqlite=data / "archive.sqlite3")
    env = {**BENCH_ENV, "ANTRIAN_DATABASE_URL": archive.url}
    servers = [ServerProcess(config, url, data, extra_env=env).start() for _ in range(processes)]
    return Site(site_id, servers, archive)


async def run(args: argparse.Namespace, root: Path) -> int:
    topology = Topology(args.redis, root / "redis")
    sites: list[Site] = []
    tasks: list[asyncio.Task[None]] = []
    postgres: PostgresServer | None = None
    try:
        url = await asyncio.to_thread(topology.start)
        shared: Archive | None = None
        if args.postgres:
            postgres = await asyncio.to_thread(PostgresServer(free_port()).start)
            database = (await asyncio.to_thread(postgres.create_database)).rsplit("/", 1)[1]
            shared = Archive(postgres=(postgres.port, database))
        for i in range(args.sites):
            sites.append(await asyncio.to_thread(deploy, root, url, i, args.processes, shared))
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
              f"redis {args.redis} ({url}); archive "
              f"{'PostgreSQL, one database for the sites' if shared else 'SQLite per site'}; "
              f"{args.sites} sites x {COUNTERS} counters, "
              f"{args.processes} processes each, {args.screens} screens; faults for "
              f"{args.seconds:g} s, one every ~{args.every:g} s; seed {args.seed}", flush=True)
        for k in range(args.screens):
            site = sites[k % len(sites)]
            site.screens.append(Screen(site, (k // len(sites)) % len(site.servers)))
        screen_tasks = [asyncio.create_task(sc.follower.run()) for s in sites for sc in s.screens]
        await asyncio.sleep(3.0)  # the screens have their snapshots before the first call
        stop = asyncio.Event()
        tally = Tally()
        tasks = [asyncio.create_task(counter(s, n, tally, stop))
                 for s in sites for n in range(1, COUNTERS + 1)]
        tasks += [asyncio.create_task(kiosk(s, tally, stop)) for s in sites]
        begin = time.monotonic()
        await chaos(sites, topology, args.seconds, args.every, tally)
        await asyncio.sleep(max(0.0, begin + args.seconds - time.monotonic()))
        stop.set()
        print("faults over; the counters finish their visitors", flush=True)
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - begin
        tasks = screen_tasks
        failures: list[str] = []
        for site in sites:
            if not all(sc.base for sc in site.screens):
                failures.append(f"{site.site_id}: a screen never had its first snapshot")
                continue
            redis_killed = any(tally.faults[k] for k in topology.master_faults)
            failures += await check(site, url, redis_killed)
        outage = max(tally.outages, default=0.0)
        print(f"{tally.actions} actions answered in {elapsed:.0f} s ({tally.actions / elapsed:.1f}"
              f"/s: tickets, calls, finishes), {tally.retries} sends without an answer retried")
        kinds = ", ".join(f"{v} {k}" for k, v in sorted(tally.faults.items()))
        print(f"faults: {sum(tally.faults.values())} ({kinds}); "
              f"screen links lost and resumed: {sum(sc.drops for s in sites for sc in s.screens)}")
        if tally.failovers:
            print(f"failovers (a master killed to its successor named): {len(tally.failovers)}, "
                  f"{min(tally.failovers):.1f}-{max(tally.failovers):.1f} s, median "
                  f"{statistics.median(tally.failovers):.1f} s")
        print(f"longest outage a counter or kiosk saw (first unanswered send to the answer): "
              f"{outage:.1f} s; presses sent again: {len(tally.outages)}; slowest press, first "
              f"send to answer: {tally.slowest:.1f} s; presses answered after > {SLOW_S:g} s: "
              f"{tally.slow}")
        for failure in failures:
            print("FAIL:", failure)
        if failures:
            for line in server_errors(sites)[:10]:
                print("  server log:", line)
        print("FAIL" if failures else "PASS: every ticket called at most once and accounted for, "
              "every screen saw every call, the archive matches")
        return 1 if failures else 0
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for site in sites:
            for server in site.servers:
                await asyncio.to_thread(server.stop)
        topology.stop()
        if postgres is not None:
            shutil.copy(postgres.directory / "log", root / "postgres.log")  # kept on a FAIL
            await asyncio.to_thread(postgres.stop)


def interrupted(*_: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis", choices=("cluster", "sentinel"), default="cluster")
    parser.add_argument("--postgres", action="store_true",
                        help="archive to a real PostgreSQL server (one database for the sites)")
    parser.add_argument("--sites", type=int, default=2)
    parser.add_argument("--processes", type=int, default=2, choices=(2, 3))
    parser.add_argument("--screens", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--seconds", type=float, help="faults for this long instead")
    parser.add_argument("--every", type=float, default=15, help="mean seconds between faults")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = args.minutes * 60
    random.seed(args.seed)
    raise_fd_limit()
    logging.getLogger("protocol.follower").setLevel(logging.ERROR)  # lost links are expected
    signal.signal(signal.SIGTERM, interrupted)  # `timeout` or kill: stop what it started
    root = Path(tempfile.mkdtemp(prefix="antrian-chaos-"))
    code = 1
    try:
        code = asyncio.run(run(args, root))
    finally:
        if code == 0:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"logs kept in {root} (server-<port>.log per site, redis/<port>/log, "
                  "redis/sentinel-<port>.log, postgres.log)")
    return code


if __name__ == "__main__":
    sys.exit(main())
