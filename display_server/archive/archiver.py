"""The archiver: follows the site's events stream through a Redis consumer group and writes
every event, and the visits and legs it changes, into the archive in one SQL transaction per
batch, then acknowledges the batch.

Every server process runs one, and one of them at a time archives: the holder of a short lease
in Redis (renewed each round); the others stand by and take over when it stops renewing,
claiming the entries its dead consumer had read but not acknowledged (XAUTOCLAIM). Events reach
the archive in stream order: a process that has just taken the lease, or whose last round
failed, first claims every entry read and not acknowledged, however recently read, and archives
those before reading anything new (a call applied before its ticket's issue would be lost).
Inserts are idempotent on the event id, so a batch written but not acknowledged is skipped when
it comes again. The day close (closing.py) runs when the local day has changed and the stream
is read up; then the `after_close` hook (the server's: storing the months the close ended, for
the report) runs with the day closed before and the new day.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError
from sqlalchemy import Engine

from display_server.archive import closing, writing
from display_server.clock import Clock, day_of, local_now
from display_server.config import SiteConfig
from display_server.keys import SiteKeys

log = logging.getLogger("antrian.archiver")
GROUP = "archiver"
# Take the lease, or renew it when this consumer holds it; 1 when it holds it now.
LEASE_SCRIPT = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) or
   redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


@dataclass
class ArchiverState:
    """How the archiver is doing: what /api/health and /admin show."""

    leading: bool = False
    last_event_id: str | None = None  # the last event this process archived
    archived: int = 0                 # events this process archived
    errors: int = 0
    alarm: str | None = None          # events trimmed from the stream before they were archived


# after a day close: (archive, site id, the day closed before or None, the new day)
AfterClose = Callable[[Engine, str, str | None, str], object]


class Archiver:
    """One process's archiver of one site's events stream."""

    def __init__(self, redis: aioredis.Redis, site: SiteConfig, db: Engine, clock: Clock, *,
                 block_ms: int = 1000, batch: int = 500, lease_ms: int = 5000,
                 claim_idle_ms: int | None = None, retry_s: float = 1.0,
                 linger_s: float = 0.5,
                 after_close: AfterClose | None = None) -> None:
        self.redis = redis
        self.site = site
        self.db = db
        self.clock = clock
        self.block_ms = block_ms
        self.batch = batch
        self.lease_ms = lease_ms
        # entries read this long ago and not acknowledged belong to a consumer that died
        self.claim_idle_ms = lease_ms if claim_idle_ms is None else claim_idle_ms
        self.retry_s = retry_s
        self.after_close = after_close
        # after a short batch, wait this long for more: fewer, larger transactions take less
        # CPU (and GIL) from the screens' fan-out in the same process; events still reach the
        # archive within block + linger + one write
        self.linger_s = linger_s
        keys = SiteKeys(site.id)
        self.stream = keys("events")
        self.lease_key = keys("archiver")
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.tenant_of = {s.code: s.tenant for s in site.services}
        self.state = ArchiverState()
        self.closed_day: str | None = None
        # claim every pending entry, idle or not, before reading new ones: set when the lease
        # is taken and after a failed round, cleared once the pending list was read through
        self._sweep = True
        self._lease = redis.register_script(LEASE_SCRIPT)

    async def run(self) -> None:
        """Archive forever; any error is logged and the round tried again after a pause."""
        loaded = False
        while True:
            try:
                if not loaded:
                    await asyncio.to_thread(self._load_state)
                    loaded = True
                if 0 < await self.step() < self.batch:
                    await asyncio.sleep(self.linger_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.state.errors += 1
                if isinstance(exc, RedisError | OSError):
                    log.warning("archiver: Redis unavailable (%s); trying again in %.1f s",
                                exc, self.retry_s)
                else:
                    log.exception("archiver round failed; trying again in %.1f s", self.retry_s)
                await asyncio.sleep(self.retry_s)

    def _load_state(self) -> None:
        self.closed_day, self.state.alarm = writing.load_state(self.db, self.site.id)

    async def step(self) -> int:
        """One round: check for trimmed events, take or renew the lease, and if held, archive
        what the dead consumers left and the next batch; close the day when it changed. The
        number of events archived."""
        await self._ensure_group()
        await self.check_trimmed()
        self.state.leading = bool(await self._lease(keys=[self.lease_key],
                                                    args=[self.consumer, self.lease_ms]))
        if not self.state.leading:
            self._sweep = True  # when it takes the lease, the holder before may have died
            await asyncio.sleep(self.block_ms / 1000)
            return 0
        entries = await self._claim()
        if not entries:
            reply = await self.redis.xreadgroup(GROUP, self.consumer, {self.stream: ">"},
                                                count=self.batch, block=self.block_ms)
            entries = cast(list[Any], reply)[0][1] if reply else []
        events = [(str(i), _decode(f)) for i, f in entries]
        if events:
            try:
                await asyncio.to_thread(writing.write, self.db, self.site.id, self.tenant_of,
                                        [(i, e) for i, e in events if e is not None],
                                        int(time.time() * 1000))
                await self.redis.xack(self.stream, GROUP, *[i for i, _ in events])
            except BaseException:
                self._sweep = True  # the batch stays pending: the next round takes it first
                raise
            self.state.last_event_id = events[-1][0]
            self.state.archived += len(events)
        if len(entries) < self.batch:
            await self._close_days()
        return len(events)

    async def _ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _claim(self) -> list[Any]:
        """Entries read but never acknowledged: while sweeping (the lease just taken, or the
        last round failed) every one of them, by any consumer, in stream order, until the
        pending list was read through; otherwise those idle past the lease (a consumer that
        died)."""
        sweep = self._sweep
        reply = await self.redis.xautoclaim(self.stream, GROUP, self.consumer,
                                            min_idle_time=0 if sweep else self.claim_idle_ms,
                                            start_id="0-0", count=self.batch)
        cursor = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        if sweep and cursor == "0-0":
            self._sweep = False
        return list(reply[1])

    async def _close_days(self) -> None:
        today = day_of(local_now(self.clock, self.site.tz))
        if self.closed_day == today:
            return
        closed = await asyncio.to_thread(closing.close_before, self.db, self.site, today)
        if closed:
            log.info("day close: %d tickets left open before %s closed", closed, today)
        previous, self.closed_day = self.closed_day, today
        if self.after_close is not None:
            await asyncio.to_thread(self.after_close, self.db, self.site.id, previous, today)

    async def check_trimmed(self) -> None:
        """Raise the alarm (once, kept in the archive) when the stream lost entries the group
        never read: Redis 7 counts `entries-added`, the stream keeps `length`, the group has read
        `entries-read` (unknown for a group made at 0 on a trimmed stream: then all that was
        trimmed was lost)."""
        stream = await self.redis.xinfo_stream(self.stream)
        group = next((g for g in await self.redis.xinfo_groups(self.stream)
                      if str(g["name"]) == GROUP), None)
        if group is None:
            return
        gone = int(stream["entries-added"]) - int(stream["length"])
        read = group.get("entries-read")
        if read is None:  # a group made on a trimmed stream: it lost what was trimmed before
            read = gone if str(group["last-delivered-id"]) != "0-0" else 0
        lost = gone - int(read)
        if lost > 0 and self.state.alarm is None:
            self.state.alarm = (f"{lost} events were trimmed from the stream before they were "
                                f"archived (after {group['last-delivered-id']}); raise "
                                "ANTRIAN_STREAM_MAXLEN and check that the archiver runs")
            log.error("ARCHIVE ALARM: %s", self.state.alarm)
            await asyncio.to_thread(writing.save_alarm, self.db, self.site.id, self.state.alarm,
                                    int(time.time() * 1000))

    async def report(self) -> dict[str, Any]:
        """The archiver's state for /api/health: events not archived yet (`lag`: unread plus
        read and unacknowledged; before the archiver's group exists, which it creates at id 0
        in its first round, every event of the stream; 0 with no stream yet), the last
        archived id, the alarm."""
        lag: int | None = None
        last: str | None = self.state.last_event_id
        try:
            groups = await self.redis.xinfo_groups(self.stream)
        except ResponseError:
            groups = []  # no stream yet: XLEN says 0
        for group in groups:
            if str(group["name"]) == GROUP:
                unread = group.get("lag")
                lag = None if unread is None else int(unread) + int(group["pending"])
                last = last or str(group["last-delivered-id"])
                break
        else:  # no round has run yet (or every one failed before it made the group)
            lag = int(await self.redis.xlen(self.stream))
        return {"leading": self.state.leading, "lag": lag, "last_event_id": last,
                "archived": self.state.archived, "errors": self.state.errors,
                "alarm": self.state.alarm}


def _decode(fields: Any) -> dict[str, Any] | None:
    """An entry's event, or None for a malformed entry (logged, acknowledged, not archived)."""
    try:
        event = json.loads(fields["d"])
        if isinstance(event, dict) and "type" in event and "at" in event:
            return event
    except (KeyError, TypeError, ValueError):
        pass
    log.warning("archiver skipped a malformed events-stream entry: %.200r", fields)
    return None
