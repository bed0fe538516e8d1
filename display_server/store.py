"""Thin Redis layer: runs one atomic Lua script per queue action and reads snapshots and events."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from importlib import resources
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ResponseError

from display_server.clock import Clock, day_of, local_now, system_clock
from display_server.config import SiteConfig
from display_server.errors import ApiError
from display_server.keys import SiteKeys, lua_prelude
from display_server.singleflight import SingleFlight
from protocol.counter_actions import STATE_ACTIONS
from protocol.event_ids import event_key

log = logging.getLogger("antrian.store")
STREAM_MAXLEN = 100_000


def connect(url: str, *, pool_size: int, pool_timeout: float, retries: int = 2,
            timeout: float = 2.0) -> aioredis.Redis:
    """A Redis client on its own bounded pool of `pool_size` connections: a command that finds
    them all busy waits up to `pool_timeout` seconds for one (then ConnectionError, a 503)
    instead of failing at once. Errors are retried by redis-py's Retry (exponential backoff
    with jitter); `retries=-1` retries forever, for the events follower, which must outlive a
    Redis restart.
    """
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
    """One entry of the events stream: its id and its JSON text (without the id)."""

    id: str
    data: str

    def message(self) -> str:
        """The WebSocket message: the event JSON with `event_id` first, without `officer` (who
        pressed the button is for the archive and the reports, not for the lobby's screens)."""
        data = self.data
        if '"officer":' in data:
            fields = json.loads(data)
            fields.pop("officer", None)
            data = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        return f'{{"event_id":"{self.id}",{data[1:]}'

    def fields(self) -> dict[str, Any]:
        return dict(json.loads(self.data), event_id=self.id)


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

    def today(self) -> str:
        return day_of(local_now(self.clock, self.site.tz))

    async def _eval(self, name: str, *args: Any, scope: str = "", request_id: str | None = None,
                    fingerprint: str = "") -> str:
        """Run script `name` with common.lua's ARGV header, its own `args`, then `fingerprint`."""
        now = local_now(self.clock, self.site.tz)
        argv = [
            self.keys.prefix,
            self.stream_maxlen,
            int(now.timestamp() * 1000),
            now.isoformat(timespec="milliseconds"),
            day_of(now),
            request_id or "",
            scope,
            *args,
            fingerprint,
        ]
        return str(await self._scripts[name](keys=[self.events_key], args=argv))

    async def _run(self, name: str, scope: str, request_id: str | None,
                   request: tuple[str, ...], *args: Any) -> Any:
        """Run action script `name` for `scope` with its arguments `args`. `request` is what
        the client asked for (the action and the values it chose): its fingerprint goes last,
        so the same request_id with another request is refused (request_id_reused)."""
        answer = json.loads(await self._eval(name, *args, scope=scope, request_id=request_id,
                                             fingerprint=_fingerprint(name, *request)))
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
        result: dict[str, Any] = await self._run("issue", scope, request_id, (service, priority),
                                                 service, quota, priority)
        return result

    async def call(self, counter: int, *, ticket: str = "", request_id: str | None = None,
                   officer: str = "") -> dict[str, Any]:
        """Call the next waiting ticket (or the given one) at `counter`; `officer` (an officer
        id, or "") goes on the events and the ticket."""
        c = self.site.counter(counter)
        assert c is not None
        result: dict[str, Any] = await self._run(
            "call", str(counter), request_id, (ticket,), self.site.priority_every, c.policy,
            ",".join(c.services), ticket, officer,
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
        result: dict[str, Any] = await self._run(
            "counter_action", str(counter), request_id, (action, arg), action, arg,
            ",".join(c.services), self.grace_ms, officer,
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
        return await self._eval("snapshot", ",".join(str(c.number) for c in self.site.counters),
                                ",".join(s.code for s in self.site.services))

    async def ticket_status(self, day: str, code: str) -> dict[str, Any] | None:
        raw = await self._eval("ticket_status", code, day)
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
            await self._eval("skipped", ",".join(services), self.grace_ms, limit))
        return rows

    async def rate(self, day: str, code: str, answers: list[int],
                   profile: dict[str, str] | None, *, via: str, counter: int | None = None,
                   window_ms: int | None = None) -> dict[str, Any]:
        """Record the survey answers of ticket `code` of `day` (checked by the caller): once per
        served ticket (not_served, already_rated), as a `survey` event. With `counter`, only a
        ticket that counter finished (and, with `window_ms`, within that many ms)."""
        tenants = {s.code: s.tenant for s in self.site.services}
        result: dict[str, Any] = await self._run(
            "survey", "", None, (), "rate", day, code, json.dumps(answers),
            json.dumps(profile, sort_keys=True) if profile else "", via,
            "" if counter is None else str(counter), "" if window_ms is None else window_ms,
            json.dumps(tenants))
        return result

    async def survey_pending(self, counter: int, window_ms: int) -> dict[str, Any] | None:
        """The ticket `counter` finished last, if it has no survey answer yet and finished
        within `window_ms`; else None."""
        raw = await self._eval("survey", "pending", str(counter), window_ms)
        return json.loads(raw) if raw else None

    async def last_event_id(self) -> str:
        last = await self.redis.xrevrange(self.events_key, count=1)
        return str(last[0][0]) if last else "0-0"

    async def events_after(self, event_id: str, limit: int) -> list[Event] | None:
        """Events after `event_id`, oldest first; None when some of them were trimmed from the
        stream or there are more than `limit` (the caller then sends a fresh snapshot)."""
        try:
            info = await self.redis.xinfo_stream(self.events_key)
        except ResponseError:
            return []  # no stream yet: nothing happened
        first = info.get("first-entry")
        trimmed = int(info.get("entries-added", 0)) > int(info.get("length", 0))
        if first and trimmed and event_key(event_id) < event_key(str(first[0])):
            return None
        rows = await self.redis.xrange(self.events_key, min=f"({event_id}", count=limit + 1)
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
        in order."""
        reply = await self.redis.xread({self.events_key: after}, count=count, block=block_ms)
        if not reply:
            return after, []
        rows = cast(list[Any], reply)[0][1]
        return str(rows[-1][0]), _events(rows)

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
        _raise_error(json.loads(await self._eval("played", screen, event_id, declared, cap,
                                                 "1" if dropped else "0")))

    async def played(self) -> dict[str, Any]:
        """Today's acknowledgements: screen -> {"event_id", "at"} of its last play and/or
        {"dropped_id", "dropped_at"} of its last call handled unspoken, by screen id."""
        raw = cast(dict[str, str],
                   await self.redis.hgetall(self.keys("played", self.today())))
        return {screen: json.loads(v) for screen, v in sorted(raw.items())}

    async def register_screen(self, screen: str, name: str, cap: int) -> bool:
        """Let `screen` acknowledge plays (the office's register); True when it is new.
        too_many_screens when `cap` screens are registered already."""
        raw = await self._eval("screens", "add", screen, name, cap)
        _raise_error(json.loads(raw))
        return bool(raw == "1")

    async def unregister_screen(self, screen: str) -> bool:
        """Take `screen` off the office's register (and today's acknowledgements); False when
        it was not registered."""
        return await self._eval("screens", "remove", screen, "", 0) == "1"

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
                               history, public, keep)
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


def _events(rows: Any) -> list[Event]:
    """Stream entries (decoded: id, {"d": json object}) as Events. A malformed entry (written
    by something else than the scripts) is skipped and logged: it must never stop a reader."""
    events = []
    for i, fields in rows or ():
        data = fields.get("d") if isinstance(fields, dict) else None
        if _is_json_object(data):
            events.append(Event(str(i), str(data)))
        else:
            log.warning("skipped malformed events-stream entry %s: %.200r", i, fields)
    return events


def _is_json_object(data: Any) -> bool:
    if not isinstance(data, str) or not data.startswith("{"):
        return False
    try:
        return isinstance(json.loads(data), dict)
    except ValueError:
        return False

