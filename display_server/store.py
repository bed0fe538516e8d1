"""Thin Redis layer: runs one atomic Lua script per queue action and reads snapshots and events."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import contextvars
import hashlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, cast
from urllib.parse import unquote

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, PipelineCommand, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import (
    MasterNotFoundError,
    Sentinel,
    SentinelConnectionPool,
    SentinelManagedConnection,
)
from redis.backoff import ExponentialWithJitterBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import (
    AskError,
    ClusterDownError,
    ConnectionError,
    MaxConnectionsError,
    NoScriptError,
    ResponseError,
    TimeoutError,
    TryAgainError,
)

from display_server.clock import Clock, day_of, local_now, system_clock
from display_server.config import SiteConfig
from display_server.errors import ApiError
from display_server.keys import ATTEMPT_SECONDS, SiteKeys, lua_prelude, ttl
from display_server.singleflight import SingleFlight
from protocol.counter_actions import STATE_ACTIONS
from protocol.event_ids import event_key

log = logging.getLogger("antrian.store")
STREAM_MAXLEN = 100_000
# On a cluster or Sentinel, an action is answered only after `WAIT 1` (one replica has it) or
# after this many ms without a replica's word (logged): see docs/operations.md, "the WAIT bound".
WAIT_REPLICAS = 1
WAIT_MS = 500
# how long an action is retried on a cluster whose slot moved or whose master is gone: well
# inside the life of its attempt key, so a retry after a lost reply still finds the answer
RETRY_SECONDS = ATTEMPT_SECONDS / 5
KEPT_CONNECTIONS = 2  # idle connections a store keeps for its own script calls (single Redis)
KEPT_SHARE = 4  # ... and never more than a quarter of its client's pool (a small pool: none)
# Errors after which the cluster's slots are asked again and the action tried again: its
# script did not run (a moved slot, a cluster between masters) or the node is gone.
_REROUTE = (AskError, TryAgainError, ClusterDownError, ConnectionError, TimeoutError)


CLUSTER_SCHEME = "redis+cluster"
SENTINEL_SCHEME = "redis+sentinel"


@dataclass(frozen=True)
class RedisUrl:
    """`ANTRIAN_REDIS_URL` taken apart: `scheme`, the `nodes` (host, port) of a cluster or
    of the sentinels, the sentinels' `service`, the `db`, and the data nodes' credentials."""

    scheme: str
    nodes: tuple[tuple[str, int], ...]
    service: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = None


def parse_redis_url(url: str) -> RedisUrl:
    """`redis+cluster://[user:password@]host:port[,host:port...]` (any nodes of the cluster)
    or `redis+sentinel://[user:password@]host:port[,host:port...]/service[/db]` (the
    sentinels, and the name they watch); ValueError when it is neither well-formed."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in (CLUSTER_SCHEME, SENTINEL_SCHEME):
        raise ValueError(f"not a {CLUSTER_SCHEME}:// or {SENTINEL_SCHEME}:// URL: {url!r}")
    credentials, at, rest = rest.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = credentials.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    hosts, _, path = rest.partition("/")
    path = path.partition("?")[0].strip("/")
    nodes = []
    for node in hosts.split(","):
        host, colon, port = node.rpartition(":")
        if not colon or not host or not port.isdigit():
            raise ValueError(f"a node is host:port, not {node!r}, in {url!r}")
        nodes.append((host.strip("[]"), int(port)))
    parts = [p for p in path.split("/") if p]
    if scheme == SENTINEL_SCHEME:
        if not parts or len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
            raise ValueError(f"{SENTINEL_SCHEME}:// takes /service[/db], not {path!r}")
        return RedisUrl(scheme, tuple(nodes), parts[0], int(parts[1]) if len(parts) == 2 else 0,
                        username, password)
    if parts:
        raise ValueError(f"{CLUSTER_SCHEME}:// has no path (a cluster has one db): {path!r}")
    return RedisUrl(scheme, tuple(nodes), username=username, password=password)


_HELD: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "antrian_cluster_slots", default=frozenset())


class BoundedCluster(RedisCluster):
    """redis-py's cluster client, whose nodes' pools fail at once when every connection is
    busy (MaxConnectionsError, "Too many connections"), made to wait like the plain
    BlockingConnectionPool: at most `pool_size` commands or pipelines of this client are out
    at once, and one past them waits up to `pool_timeout` seconds for a turn (then
    MaxConnectionsError, a ConnectionError: 503). A command that a pipeline of the same task
    sends again (after MOVED or ASK) runs in the pipeline's turn. Each node may open twice
    `pool_size` connections: the client closes a broken one in the background before it
    counts as free again."""

    def __init__(self, *, pool_size: int, pool_timeout: float, **kwargs: Any) -> None:
        super().__init__(max_connections=2 * pool_size, **kwargs)
        self._turns = asyncio.Semaphore(pool_size)
        self._pool_timeout = pool_timeout

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold one of the client's `pool_size` turns (at once when this task holds one)."""
        held = _HELD.get()
        if id(self) in held:
            yield
            return
        try:
            async with asyncio.timeout(self._pool_timeout):
                await self._turns.acquire()
        except builtins.TimeoutError:  # (redis's TimeoutError is imported here)
            raise MaxConnectionsError("No connection available.") from None
        token = _HELD.set(held | {id(self)})
        try:
            yield
        finally:
            _HELD.reset(token)
            self._turns.release()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.turn():
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any | None = None,
                 shard_hint: Any | None = None) -> ClusterPipeline:
        if shard_hint:
            return super().pipeline(transaction, shard_hint)  # refused as redis-py does
        return _BoundedPipeline(self, transaction)  # type: ignore[abstract]


class _BoundedPipeline(ClusterPipeline):
    """A cluster pipeline that runs in one of its client's turns."""

    async def execute(self, raise_on_error: bool = True,
                      allow_redirections: bool = True) -> list[Any]:
        client = cast(BoundedCluster, self.cluster_client)
        async with client.turn():
            return await super().execute(raise_on_error, allow_redirections)


class MajoritySentinel(Sentinel):
    """Sentinel that asks every sentinel for the primary and takes the address named by more
    than half of those that answer (redis-py's takes the first sane answer). A sentinel just
    restarted names the primary of its config file until the others' hello messages reach it
    (tens of ms); the old primary, restarted meanwhile with its stale data, is a master until
    the sentinels turn it into a replica (seconds): a connection made on the stale word would
    write there, answered, then wiped (bench/chaos.py's logs show such a window of 80-210 ms).
    One sentinel answering is enough; two that disagree
    are asked again (MasterNotFoundError: the action answers 503 and its client retries)."""

    async def discover_master(self, service_name: str) -> tuple[str, int]:
        async def ask(sentinel: Any) -> dict[str, Any] | None:
            try:
                masters: dict[str, Any] = await sentinel.sentinel_masters()
            except (ConnectionError, TimeoutError):
                return None
            return masters.get(service_name) or {}

        answers = [a for a in await asyncio.gather(*(ask(s) for s in self.sentinels))
                   if a is not None]
        named = [(str(a["ip"]), int(a["port"])) for a in answers
                 if a and self.check_master_state(a, service_name)]
        for address in set(named):
            if 2 * named.count(address) > len(answers):
                return address
        raise MasterNotFoundError(
            f"No master named by a majority of the sentinels for {service_name!r} "
            f"({len(answers)} of {len(self.sentinels)} answered: {sorted(set(named))})")


class SentinelConnection(SentinelManagedConnection):
    """A connection to the primary that asks the sentinels again whenever it reconnects.
    redis-py 8's send_packed_command reconnects a dropped connection to its last address
    without asking (connect_check_health), so a command retried over a failover went back to
    the old primary: refused while it was down, then, once it was restarted as a master with
    its old data and before the sentinels turned it into a replica, written there, answered,
    and wiped (seen in bench/chaos.py); or READONLY until the retries ran out."""

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if not self.is_connected:
            # SentinelManagedConnection's connect: to the primary the sentinels name now
            await self.connect()  # type: ignore[no-untyped-call]
        await super().send_packed_command(command, check_health)


class BlockingSentinelPool(SentinelConnectionPool, aioredis.BlockingConnectionPool):
    """Sentinel's pool of connections to the primary it names, waiting up to `timeout`
    seconds for a free one as BlockingConnectionPool does (redis-py's SentinelConnectionPool
    is a plain pool: MaxConnectionsError, "Too many connections", at once)."""


def _connect_distributed(url: str, *, pool_size: int, pool_timeout: float, retries: int,
                         timeout: float) -> aioredis.Redis:
    """A client of a Redis Cluster (redis-py's RedisCluster: MOVED/ASK and failovers followed)
    or of the primary that Sentinel names (re-asked after a failover). Both wait for a free
    connection as the plain pool does (BoundedCluster, BlockingSentinelPool)."""
    parsed = parse_redis_url(url)
    # The cluster client retries a command itself after refreshing its slots; forever (-1)
    # would spin through a long outage inside one command, so the follower gets many tries.
    retry = Retry(ExponentialWithJitterBackoff(cap=1.0, base=0.02),
                  retries if retries >= 0 else 20)
    common: dict[str, Any] = dict(
        decode_responses=True, username=parsed.username, password=parsed.password,
        socket_timeout=timeout if retries >= 0 else None, socket_connect_timeout=timeout,
        retry=retry)
    if parsed.scheme == CLUSTER_SCHEME:
        cluster = BoundedCluster(startup_nodes=[ClusterNode(h, p) for h, p in parsed.nodes],
                                 pool_size=max(pool_size, 2), pool_timeout=pool_timeout,
                                 **common)
        return cast(aioredis.Redis, cluster)  # the same commands, spread over the nodes
    sentinel = MajoritySentinel(list(parsed.nodes), socket_timeout=timeout,  # type: ignore[no-untyped-call]
                        socket_connect_timeout=timeout)
    return cast(aioredis.Redis, sentinel.master_for(
        parsed.service, db=parsed.db, connection_pool_class=BlockingSentinelPool,
        connection_class=SentinelConnection, max_connections=pool_size, timeout=pool_timeout,
        **common))


def is_distributed(redis: aioredis.Redis) -> bool:
    """Whether `redis` is a cluster's or Sentinel's client (with replicas to wait for)."""
    return isinstance(redis, RedisCluster) or isinstance(
        getattr(redis, "connection_pool", None), SentinelConnectionPool)


def connect(url: str, *, pool_size: int, pool_timeout: float, retries: int = 2,
            timeout: float = 2.0) -> aioredis.Redis:
    """A Redis client on its own bounded pool of `pool_size` connections: a command that finds
    them all busy waits up to `pool_timeout` seconds for one (then ConnectionError, a 503)
    instead of failing at once. Errors are retried by redis-py's Retry (exponential backoff
    with jitter); `retries=-1` retries forever, for the events follower, which must outlive a
    Redis restart. `redis+cluster://` and `redis+sentinel://` URLs (parse_redis_url) get a
    cluster or Sentinel client instead.
    """
    if url.startswith((CLUSTER_SCHEME + "://", SENTINEL_SCHEME + "://")):
        return _connect_distributed(url, pool_size=pool_size, pool_timeout=pool_timeout,
                                    retries=retries, timeout=timeout)
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=pool_size,
        timeout=pool_timeout,
        decode_responses=True,
        socket_timeout=timeout if retries >= 0 else None,
        socket_connect_timeout=timeout,
        retry=Retry(ExponentialWithJitterBackoff(cap=1.0, base=0.02), retries),
        health_check_interval=10,
    )
    return aioredis.Redis.from_pool(pool)


def _script(name: str) -> str:
    return resources.files("display_server.scripts").joinpath(name).read_text("utf-8")


# Every script, each run after the generated key layout and common.lua.
SCRIPTS = ("issue", "call", "counter_action", "snapshot", "ticket_status", "skipped", "played",
           "screens", "survey", "settings")


@dataclass(frozen=True)
class Event:
    """One entry of the events stream: its id and its JSON text (without the id); `parsed`, the
    object that text holds, as the reader that checked it parsed it (not for changing)."""

    id: str
    data: str
    parsed: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def object(self) -> dict[str, Any]:
        """The event's JSON object (parsed once)."""
        return self.parsed if self.parsed is not None else json.loads(self.data)

    def message(self) -> str:
        """The WebSocket message: the event JSON with `event_id` first, without `officer` (who
        pressed the button is for the archive and the reports, not for the lobby's screens)."""
        data = self.data
        if '"officer":' in data:
            fields = dict(self.object())
            fields.pop("officer", None)
            data = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        return f'{{"event_id":"{self.id}",{data[1:]}'

    def fields(self) -> dict[str, Any]:
        return dict(self.object(), event_id=self.id)


class Store:
    """The queue's state in Redis. Every change is one script call, and the queue's rules are in
    the scripts (display_server/scripts/common.lua and one script per action), not here."""

    def __init__(self, redis: aioredis.Redis, site: SiteConfig, clock: Clock = system_clock,
                 stream_maxlen: int = STREAM_MAXLEN) -> None:
        self.redis = redis
        self.site = site
        self.clock = clock
        self.keys = SiteKeys(site.id)
        self.events_key = self.keys("events")
        self.stream_maxlen = stream_maxlen
        prelude = lua_prelude() + _script("common.lua")
        self._scripts: dict[str, AsyncScript] = {
            name: redis.register_script(prelude + _script(f"{name}.lua")) for name in SCRIPTS
        }
        self._snapshot_read = SingleFlight(self._read_snapshot)
        self.waits = is_distributed(redis)  # actions wait for a replica (WAIT 1)
        self._reading: aioredis.connection.AbstractConnection | None = None  # read_new's own
        # a single Redis (not Sentinel, not a cluster): scripts run on connections kept here
        self._kept: list[aioredis.connection.AbstractConnection] | None = (
            [] if type(redis) is aioredis.Redis and not self.waits else None)
        self._pool_size: int = getattr(getattr(redis, "connection_pool", None),
                                       "max_connections", 0)
        self._keep = 0 if self._kept is None else min(KEPT_CONNECTIONS,
                                                      self._pool_size // KEPT_SHARE)

    def today(self) -> str:
        return day_of(local_now(self.clock, self.site.tz))

    async def _eval(self, name: str, *args: Any, keys: Callable[[str], list[str]] = lambda _: [],
                    scope: str = "", idempotent: bool = False, request_id: str | None = None,
                    fingerprint: str = "", waited: bool = False) -> str:
        """Run script `name` with common.lua's ARGV header, its own `args`, then `fingerprint`.
        KEYS declare every key the script can name before it runs: KEYS[1] the events stream;
        for an action (`idempotent`) KEYS[2] its idempotency key: the client's `request_id`, or
        else an id drawn here for this one attempt, so a retry of it (a lost reply, a moved
        cluster slot) is answered from the first run instead of acting twice; then `keys(day)`
        for the site's day now. All share the site's hash tag, so a cluster client sends the
        script to that slot's master. With `waited` on a cluster or Sentinel, the answer waits
        for a replica (WAIT 1)."""
        now = local_now(self.clock, self.site.tz)
        day = day_of(now)
        declared = [self.events_key]
        expiry: int | str = ""  # of the idempotency key
        if idempotent and request_id:
            declared.append(self.keys("request", scope, request_id))
            expiry = ttl("request")
        elif idempotent:
            declared.append(self.keys("attempt", uuid.uuid4().hex))
            expiry = ttl("attempt")
        declared += keys(day)
        argv = [
            self.keys.prefix,
            self.stream_maxlen,
            int(now.timestamp() * 1000),
            now.isoformat(timespec="milliseconds"),
            day,
            expiry,
            scope,
            *args,
            fingerprint,
        ]
        if waited and self.waits:
            return str(await self._eval_waited(self._scripts[name], declared, argv))
        return str(await self._evalsha(self._scripts[name], declared, argv))

    async def _evalsha(self, script: AsyncScript, keys: list[str], argv: list[Any]) -> Any:
        """Run `script`. On a single Redis, on a connection this store keeps (up to
        KEPT_CONNECTIONS idle, and at most a quarter of the client's bounded pool, so commands
        of a small pool never wait for one; taken from the pool when none is), sent and
        read directly: an action's path to Redis without the pool's checkout, redis-py's
        command layers or its Python packing, retried by the client's own Retry as any command
        (a retry of an action is answered from its idempotency key), and a script Redis does not
        have loaded first. Otherwise the script object's own call."""
        kept = self._kept
        if kept is None:
            return await script(keys=keys, args=argv)
        conn = kept.pop() if kept else await cast(Any, self.redis.connection_pool).get_connection()
        packed = hiredis.pack_command(("EVALSHA", script.sha, len(keys), *keys, *argv))
        try:
            try:
                return await _ask(conn, lambda: conn.send_packed_command(packed))
            except NoScriptError:  # loaded on this connection: a pool of one has no other
                await _ask(conn, lambda: conn.send_command("SCRIPT", "LOAD", script.script))
                return await _ask(conn, lambda: conn.send_packed_command(packed))
        finally:
            if len(kept) < self._keep:
                kept.append(conn)
            else:
                await self.redis.connection_pool.release(conn)

    def _queues(self, day: str, services: Any) -> list[str]:
        """The day's normal and priority queues of each of `services`, in order (as
        common.lua's declare_queues reads them)."""
        return [self.keys(kind, day, s) for s in services for kind in ("queue", "priority_queue")]

    async def _eval_waited(self, script: AsyncScript, keys: list[str], argv: list[Any]) -> Any:
        """Run `script` then `WAIT 1` on the same connection (WAIT waits for that connection's
        writes), so the answer goes out once a replica holds the action. A retry runs with
        the same KEYS and ARGV, so the same idempotency key: the action applies once."""
        if not isinstance(self.redis, RedisCluster):  # Sentinel's primary: a plain pipeline
            for _ in range(2):
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.evalsha(script.sha, len(keys), *keys, *argv)
                    pipe.execute_command("WAIT", WAIT_REPLICAS, WAIT_MS)
                    answer, replicas = await pipe.execute(raise_on_error=False)
                if not isinstance(answer, NoScriptError):
                    break
                await self.redis.script_load(script.script)  # a promoted replica's empty cache
            return self._answered(answer, replicas)
        cluster = self.redis
        # retried under one attempt key, so never for longer than a fraction of its life
        deadline = time.monotonic() + RETRY_SECONDS
        for attempt in range(30):
            if time.monotonic() > deadline:
                break
            await cluster.initialize()
            commands = [PipelineCommand(0, "EVALSHA", script.sha, len(keys), *keys, *argv),
                        PipelineCommand(1, "WAIT", WAIT_REPLICAS, WAIT_MS)]
            try:
                async with cast(BoundedCluster, cluster).turn():
                    await cluster.get_node_from_key(keys[0]).execute_pipeline(commands)
                answer, replicas = commands[0].result, commands[1].result
            except MaxConnectionsError:
                raise  # every connection busy for pool_timeout: a 503, not a moved slot
            except _REROUTE as e:
                answer = replicas = e
            if isinstance(answer, NoScriptError):  # a promoted replica has no script cache
                await cluster.script_load(script.script)
            elif isinstance(answer, _REROUTE):  # the slot moved, or its master is gone
                log.info("action rerouted (%s), try %d", type(answer).__name__, attempt + 1)
                await cluster.nodes_manager.initialize()
                await asyncio.sleep(min(0.05 * 2 ** attempt, 0.5))
            else:
                return self._answered(answer, replicas)
        raise ConnectionError("the cluster did not take the action")

    def _answered(self, answer: Any, replicas: Any) -> Any:
        """The script's answer once WAIT has answered; a replica missing is logged."""
        if isinstance(answer, Exception):
            raise answer
        if isinstance(replicas, Exception):
            raise replicas
        if int(replicas) < WAIT_REPLICAS:
            log.warning("no replica confirmed an action within %d ms (WAIT %d answered %s): "
                        "a failover now could lose it", WAIT_MS, WAIT_REPLICAS, replicas)
        return answer

    async def _run(self, name: str, scope: str, request_id: str | None,
                   request: tuple[str, ...], keys: Callable[[str], list[str]],
                   *args: Any) -> Any:
        """Run action script `name` for `scope` with its arguments `args` and the keys it
        declares after its idempotency key (`keys(day)`). `request` is what the client asked
        for (the action and the values it chose): its fingerprint goes last, so the same
        request_id with another request is refused (request_id_reused)."""
        answer = json.loads(await self._eval(name, *args, keys=keys, scope=scope,
                                             idempotent=True, request_id=request_id,
                                             fingerprint=_fingerprint(name, *request),
                                             waited=True))
        _raise_error(answer)
        return answer

    @property
    def grace_ms(self) -> int:
        """The site's grace window for putting a no-show back, in ms (the rule is in Lua)."""
        return self.site.grace_minutes * 60_000

    async def issue(self, service: str, *, priority: str = "",
                    request_id: str | None = None) -> dict[str, Any]:
        """Issue the next ticket of `service` for today; the caller checked opening hours."""
        quota = self.site.service(service).quota or 0  # type: ignore[union-attr]
        scope = "kiosk"
        result: dict[str, Any] = await self._run(
            "issue", scope, request_id, (service, priority),
            lambda day: [self.keys("seq", day), self.keys("arrival"), self.keys("stats", day),
                         *self._queues(day, [service])],
            service, quota, priority)
        return result

    async def call(self, counter: int, *, ticket: str = "", request_id: str | None = None,
                   officer: str = "") -> dict[str, Any]:
        """Call the next waiting ticket (or the given one) at `counter`; `officer` (an officer
        id, or "") goes on the events and the ticket."""
        c = self.site.counter(counter)
        assert c is not None
        result: dict[str, Any] = await self._run(
            "call", str(counter), request_id, (ticket,),
            lambda day: [self.keys("counter", counter), self.keys("stats", day),
                         self.keys("recent"), *self._queues(day, c.services),
                         *([self.keys("ticket", f"{day}:{ticket}")] if ticket else [])],
            self.site.priority_every, c.policy, ",".join(c.services), ticket, officer,
        )
        return result

    async def act(self, counter: int, action: str, arg: str = "", *,
                  request_id: str | None = None, officer: str = "") -> dict[str, Any]:
        """Apply a counter action (one of STATE_ACTIONS) with its argument; `officer` as in
        `call`."""
        if action not in STATE_ACTIONS:
            raise ValueError(f"unknown counter action {action!r}")
        c = self.site.counter(counter)
        assert c is not None
        queued = [*c.services, *([arg] if action == "transfer" and arg not in c.services
                                 else [])]
        result: dict[str, Any] = await self._run(
            "counter_action", str(counter), request_id, (action, arg),
            lambda day: [self.keys("counter", counter), self.keys("stats", day),
                         self.keys("skipped", day), *self._queues(day, queued),
                         *([self.keys("ticket", f"{day}:{arg}")] if action == "restore" else [])],
            action, arg, ",".join(c.services), self.grace_ms, officer,
        )
        return result

    async def snapshot(self) -> dict[str, Any]:
        """Counters, waiting counts, recent calls and the id of the last event they include.

        Callers that overlap share one Redis read (a reconnect storm of screens costs a few
        reads, not one each); the read a caller gets began after its call, so it includes every
        event the caller knew of (see SingleFlight)."""
        state: dict[str, Any] = json.loads(await self._snapshot_read())
        if not state["counters"]:
            state["counters"] = []
        if not state["waiting"]:
            state["waiting"] = {}
        return state

    async def _read_snapshot(self) -> str:
        counters = [c.number for c in self.site.counters]
        services = [s.code for s in self.site.services]
        return await self._eval(
            "snapshot", ",".join(str(n) for n in counters), ",".join(services),
            keys=lambda day: [self.keys("recent"), *(self.keys("counter", n) for n in counters),
                              *self._queues(day, services)])

    async def ticket_status(self, day: str, code: str) -> dict[str, Any] | None:
        raw = await self._eval("ticket_status", code, day,
                               keys=lambda _: [self.keys("ticket", f"{day}:{code}")])
        return json.loads(raw) if raw else None

    async def waiting_tickets(
        self, services: tuple[str, ...], limit: int = 100
    ) -> list[dict[str, Any]]:
        """Today's waiting tickets of `services`, priority ones first, then by arrival."""
        day = self.today()
        queues = [(self.keys(kind, day, s), kind == "priority_queue")
                  for kind in ("priority_queue", "queue") for s in services]
        async with self.redis.pipeline(transaction=False) as pipe:
            for q, _ in queues:
                pipe.zrange(q, 0, limit - 1, withscores=True)
            heads = await pipe.execute()
        ids = [(i, score, priority)
               for (_, priority), rows in zip(queues, heads, strict=True) for i, score in rows]
        ids.sort(key=lambda row: (not row[2], row[1]))
        fields = ("code", "service", "priority", "issued_at", "origin")
        async with self.redis.pipeline(transaction=False) as pipe:
            for i, _, _ in ids[:limit]:
                pipe.hmget(self.keys("ticket", i), fields)
            rows = await pipe.execute()
        return [dict(zip(fields, row, strict=True)) for row in rows if row[0]]

    async def skipped_tickets(self, services: tuple[str, ...],
                              limit: int = 100) -> list[dict[str, Any]]:
        """Today's no-shows of `services` that can still be put back (within the grace window),
        most recently skipped first."""
        rows: list[dict[str, Any]] = json.loads(
            await self._eval("skipped", ",".join(services), self.grace_ms, limit,
                             keys=lambda day: [self.keys("skipped", day)]))
        return rows

    async def rate(self, day: str, code: str, answers: list[int],
                   profile: dict[str, str] | None, *, via: str, counter: int | None = None,
                   window_ms: int | None = None) -> dict[str, Any]:
        """Record the survey answers of ticket `code` of `day` (checked by the caller): once per
        served ticket (not_served, already_rated), as a `survey` event. With `counter`, only a
        ticket that counter finished (and, with `window_ms`, within that many ms)."""
        tenants = {s.code: s.tenant for s in self.site.services}
        result: dict[str, Any] = await self._run(
            "survey", "", None, (), lambda _: [self.keys("ticket", f"{day}:{code}")],
            "rate", day, code, json.dumps(answers),
            json.dumps(profile, sort_keys=True) if profile else "", via,
            "" if counter is None else str(counter), "" if window_ms is None else window_ms,
            json.dumps(tenants))
        return result

    async def survey_pending(self, counter: int, window_ms: int) -> dict[str, Any] | None:
        """The ticket `counter` finished last, if it has no survey answer yet and finished
        within `window_ms`; else None."""
        raw = await self._eval("survey", "pending", str(counter), window_ms,
                               keys=lambda _: [self.keys("counter", counter)])
        return json.loads(raw) if raw else None

    async def last_event_id(self) -> str:
        last = await self.redis.xrevrange(self.events_key, count=1)
        return str(last[0][0]) if last else "0-0"

    async def events_after(self, event_id: str, limit: int) -> list[Event] | None:
        """Events after `event_id`, oldest first; None when some of them were trimmed from the
        stream, when this stream never gave out `event_id` (newer than its last id, or not
        one of its entries while it has some, 0-0 aside: another site's id on a shared Redis,
        an event lost with a failed-over primary, a stream from before a Redis restart), or
        there are more than `limit` (the caller then sends a fresh snapshot)."""
        try:
            info = await self.redis.xinfo_stream(self.events_key)
        except ResponseError:  # no stream yet: nothing happened, and no id was given out
            return [] if event_key(event_id) == (0, 0) else None
        first = info.get("first-entry")
        trimmed = int(info.get("entries-added", 0)) > int(info.get("length", 0))
        if first and trimmed and event_key(event_id) < event_key(str(first[0])):
            return None
        last = info.get("last-generated-id")
        if last is not None and event_key(event_id) > event_key(str(last)):
            return None
        rows = await self.redis.xrange(self.events_key, min=event_id, count=limit + 2)
        if rows and event_key(str(rows[0][0])) == event_key(event_id):
            rows = rows[1:]  # the client's own last event: it has it
        elif first and event_key(event_id) != (0, 0):
            # not one of its entries: inside its range, or older than its first event on a
            # stream never trimmed (0-0 is the id of a site without events, and every event
            # came after it)
            return None
        if rows is None or len(rows) > limit:
            return None
        return _events(rows)

    async def event(self, event_id: str) -> dict[str, Any] | None:
        """One event's fields, or None when the stream no longer has it."""
        rows = await self.redis.xrange(self.events_key, min=event_id, max=event_id)
        events = _events(rows)
        return events[0].fields() if events else None

    async def events_before(self, event_id: str | None, count: int) -> list[Event]:
        """Up to `count` events before `event_id` (None: the newest ones), newest first."""
        newest = "+" if event_id is None else f"({event_id}"
        return _events(await self.redis.xrevrange(self.events_key, max=newest, count=count))

    async def read_new(self, after: str, block_ms: int,
                       count: int = 500) -> tuple[str, list[Event]]:
        """Block until entries after `after` exist (or `block_ms` passes). Return the id of the
        last entry read (where the next read starts, past any malformed entry) and the events
        in order. On a plain or Sentinel client the read keeps one connection of the client's
        pool for itself (a pool of 2 or more): the follower's hot path, one XREAD at a time,
        without the pool's checkout or the reply's callbacks (a cluster client reads as any
        command)."""
        if isinstance(self.redis, RedisCluster) or self._pool_size < 2:
            reply = await self.redis.xread({self.events_key: after}, count=count, block=block_ms)
            rows = cast(list[Any], reply)[0][1] if reply else None
        else:
            rows = await self._xread(after, block_ms, count)
        if not rows:
            return after, []
        return str(rows[-1][0]), _events(rows)

    async def _xread(self, after: str, block_ms: int, count: int) -> list[Any] | None:
        """XREAD on the read's own connection (`_ask`); its entries as (id, fields) pairs."""
        conn = self._reading
        if conn is None:
            conn = self._reading = await cast(Any, self.redis.connection_pool).get_connection()
        reply = await _ask(conn, lambda: conn.send_command(
            "XREAD", "COUNT", count, "BLOCK", block_ms, "STREAMS", self.events_key, after))
        if not reply:
            return None
        entries = next(iter(reply.values())) if isinstance(reply, dict) else reply[0][1]
        return [(i, _field_map(fields)) for i, fields in entries]

    async def count_after(self, event_id: str, limit: int) -> int:
        """How many events the stream holds after `event_id`, counting at most `limit`."""
        rows = await self.redis.xrange(self.events_key, min=f"({event_id}", count=limit)
        return len(rows or ())

    async def record_played(self, screen: str, event_id: str, cap: int,
                            dropped: bool = False) -> None:
        """Remember that `screen` played the announcement of the call or recall `event_id` (for
        the office), or with `dropped` that it handled it unspoken (`dropped_id`, `dropped_at`):
        unknown_screen unless the config declares it or the office registered it,
        unknown_event unless the stream holds that call, too_many_screens past `cap` a day."""
        declared = "1" if self.site.screen(screen) is not None else "0"
        _raise_error(json.loads(await self._eval(
            "played", screen, event_id, declared, cap, "1" if dropped else "0",
            keys=self._screens_keys)))

    async def played(self) -> dict[str, Any]:
        """Today's acknowledgements: screen -> {"event_id", "at"} of its last play and/or
        {"dropped_id", "dropped_at"} of its last call handled unspoken, by screen id."""
        raw = cast(dict[str, str],
                   await self.redis.hgetall(self.keys("played", self.today())))
        return {screen: json.loads(v) for screen, v in sorted(raw.items())}

    async def register_screen(self, screen: str, name: str, cap: int) -> bool:
        """Let `screen` acknowledge plays (the office's register); True when it is new.
        too_many_screens when `cap` screens are registered already."""
        raw = await self._eval("screens", "add", screen, name, cap, keys=self._screens_keys,
                               idempotent=True)
        _raise_error(json.loads(raw))
        return bool(raw == "1")

    async def unregister_screen(self, screen: str) -> bool:
        """Take `screen` off the office's register (and today's acknowledgements); False when
        it was not registered."""
        return await self._eval("screens", "remove", screen, "", 0,
                                keys=self._screens_keys, idempotent=True) == "1"

    def _screens_keys(self, day: str) -> list[str]:
        """The keys of played.lua and screens.lua after the stream: the register, today's
        acknowledgements."""
        return [self.keys("screens"), self.keys("played", day)]

    async def registered_screens(self) -> dict[str, Any]:
        """The office's register: screen -> {"name", "at"}, by screen id."""
        raw = cast(dict[str, str], await self.redis.hgetall(self.keys("screens")))
        return {screen: json.loads(v) for screen, v in sorted(raw.items())}

    async def save_settings(self, expected: int | None, overrides: str, by: str,
                            history: str, public: str, keep: int) -> dict[str, Any]:
        """Store the live settings' new `overrides` (JSON), a history entry and a `settings`
        event with the `public` part (a JSON object) in one step; settings_conflict when the
        version is no longer `expected` (None: any). Returns {"version", "event_id"}."""
        raw = await self._eval("settings", "" if expected is None else expected, overrides, by,
                               history, public, keep,
                               keys=lambda _: [self.keys("settings"),
                                               self.keys("settings_history")],
                               idempotent=True)
        answer: dict[str, Any] = json.loads(raw)
        _raise_error(answer)
        return answer

    async def stats(self, day: str) -> dict[str, int]:
        raw = cast(dict[str, str], await self.redis.hgetall(self.keys("stats", day)))
        return {k: int(v) for k, v in raw.items()}


def _fingerprint(*request: Any) -> str:
    """A short hash of a request (script name, action, the client's values)."""
    return hashlib.sha256(json.dumps(request).encode()).hexdigest()[:32]


def _raise_error(answer: Any) -> None:
    """Raise the ApiError a script answered with ({"error": {"code", "detail"}}), if any."""
    if isinstance(answer, dict) and "error" in answer:
        raise ApiError(answer["error"]["code"], answer["error"]["detail"])


async def _ask(conn: Any, send: Callable[[], Awaitable[None]]) -> Any:
    """One command's reply on `conn`, the store's own connection: `send` it, then read the
    reply, retried by the client's Retry as any command is; a failed attempt drops the
    connection, so the next one connects again (on Sentinel to the primary it names then)."""

    async def attempt() -> Any:
        await send()
        return await conn.read_response()

    async def failed(_: Exception) -> None:
        await conn.disconnect()

    return await conn.retry.call_with_retry(attempt, failed)


def _field_map(fields: Any) -> Any:
    """A stream entry's flat [field, value, ...] reply as a dict (anything else as it is)."""
    if isinstance(fields, list) and len(fields) % 2 == 0:
        return dict(zip(fields[::2], fields[1::2], strict=True))
    return fields


def _events(rows: Any) -> list[Event]:
    """Stream entries (decoded: id, {"d": json object}) as Events. A malformed entry (written
    by something else than the scripts) is skipped and logged: it must never stop a reader."""
    events = []
    for i, fields in rows or ():
        data = fields.get("d") if isinstance(fields, dict) else None
        parsed = _json_object(data)
        if parsed is not None:
            events.append(Event(str(i), str(data), parsed))
        else:
            log.warning("skipped malformed events-stream entry %s: %.200r", i, fields)
    return events


def _json_object(data: Any) -> dict[str, Any] | None:
    """The JSON object `data` holds, or None when it holds none."""
    if not isinstance(data, str) or not data.startswith("{"):
        return None
    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
