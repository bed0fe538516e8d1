"""Every key a Lua script touches is declared in its KEYS, except the few it derives from data it
reads (docs/keys.md, "Keys a script derives from data"): proved on a real redis-server by
recording with MONITOR what each EVALSHA ran. And an action without request_id runs under an
idempotency key the server drew for it, so a retry of the same attempt applies once."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import redis
from conftest import WEDNESDAY_10AM, FakeClock, make_site

from display_server.keys import KeyName, SiteKeys
from display_server.store import SCRIPTS, Store, connect

# What each script may build from data it read (the rows of docs/keys.md's table); every other
# key it touches must be in its KEYS.
DERIVED: dict[str, set[KeyName]] = {
    "issue": {"ticket"},
    "call": {"ticket", "stats"},
    "counter_action": {"ticket", "stats"},
    "snapshot": {"ticket"},
    "skipped": {"ticket"},
    "survey": {"ticket"},
    "ticket_status": {"queue", "priority_queue"},
}


@dataclass
class Run:
    """One EVALSHA as MONITOR saw it: its script, KEYS, day (ARGV[5]) and the commands the
    script ran (each split on spaces: MONITOR joins the arguments)."""

    script: str
    keys: list[str]
    day: str
    commands: list[list[str]] = field(default_factory=list)


@contextmanager
def monitored(url: str) -> Iterator[list[dict[str, Any]]]:
    """Every command the redis-server runs while the block runs (MONITOR, in a thread)."""
    seen: list[dict[str, Any]] = []
    ready, marker = threading.Event(), f"stop-monitor-{uuid.uuid4().hex}"

    def listen() -> None:
        client = redis.Redis.from_url(url, decode_responses=True)
        with client.monitor() as monitor:  # type: ignore[no-untyped-call]
            ready.set()
            for command in monitor.listen():
                if command["command"] == f"ECHO {marker}":
                    break
                seen.append(command)
        client.close()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(30), "MONITOR did not start"
    try:
        yield seen
    finally:
        client = redis.Redis.from_url(url, decode_responses=True)
        client.echo(marker)
        client.close()
        thread.join(30)
        assert not thread.is_alive(), "MONITOR did not stop"


def runs(seen: list[dict[str, Any]], names: dict[str, str]) -> list[Run]:
    """The EVALSHAs of the scripts `names` (sha -> name) with the commands each ran: a script
    is atomic, so its commands (client "lua") follow its EVALSHA before anything else."""
    out: list[Run] = []
    current: Run | None = None
    for entry in seen:
        words = entry["command"].split(" ")
        if entry["client_type"] == "lua":
            if current is not None:
                current.commands.append(words)
            continue
        current = None
        if words[0].upper() == "EVALSHA" and words[1] in names:
            n = int(words[2])
            argv = words[3 + n:]
            current = Run(names[words[1]], words[3:3 + n], day=argv[4] if len(argv) > 4 else "")
            out.append(current)
    return out


def undeclared(run_list: list[Run], keys: SiteKeys, table: dict[str, Any]) -> list[str]:
    """Each key a script touched that is neither in its KEYS nor of a kind it may derive from
    data (today's aggregates are always declared). `table` is Redis's COMMAND table: every
    command a script ran must take exactly one key, its first argument."""
    wrong = []
    for run in run_list:
        for words in run.commands:
            spec = table[words[0].lower()]
            assert (spec["first_key_pos"], spec["last_key_pos"]) == (1, 1), (
                f"{words[0]} takes keys elsewhere than its first argument: teach this test")
            key = words[1]
            if key in run.keys:
                continue
            kinds = keys.kind(key)
            derived = len(kinds) == 1 and kinds[0] in DERIVED.get(run.script, set())
            if derived and kinds[0] == "stats" and key == keys("stats", run.day):
                derived = False
            if not derived:
                wrong.append(f"{run.script}: {' '.join(words)} (KEYS {run.keys})")
    return wrong


async def every_script(store: Store, clock: FakeClock) -> None:
    """Each script through each of its paths: issue (with and without request_id, a repeat),
    call (next, a named ticket, completing the current one, nobody waiting), every counter
    action, a transfer to a service the counter does not serve, the no-shows, a ticket's
    status, the snapshot, the survey, screens and played, the live settings, and a ticket
    still served after midnight."""
    day = store.today()
    await store.issue("A", request_id="kiosk-1")
    await store.issue("A", request_id="kiosk-1")  # the stored answer
    await store.issue("A", priority="lansia")
    for service in ("B", "A", "D"):
        await store.issue(service)
    called = await store.call(1)
    await store.act(1, "recall")
    await store.act(1, "skip")
    skipped = await store.skipped_tickets(("A", "B", "D"))
    assert skipped
    await store.act(1, "restore", skipped[0]["code"])
    await store.call(1)
    moved = (await store.act(1, "transfer", "C"))["ticket"]["code"]  # counter 1 serves no C
    waiting = await store.waiting_tickets(("A", "B", "D"))
    await store.call(1, ticket=waiting[-1]["code"], officer="budi")
    served = (await store.call(1))["ticket"]["code"]  # completes the named one
    await store.act(1, "done", "completed")
    pending = await store.survey_pending(1, 600_000)
    assert pending is not None and pending["code"] == served
    await store.rate(day, served, [4] * 9, None, via="counter", counter=1, window_ms=600_000)
    for code in (served, waiting[0]["code"], moved, "Z999"):
        await store.ticket_status(day, code)
    await store.act(2, "pause", "istirahat")
    await store.act(2, "resume")
    await store.register_screen("tv-1", "Lobi", 10)
    await store.record_played("tv-1", called["event_id"], 10)
    await store.record_played("tv-1", called["event_id"], 10, dropped=True)
    await store.unregister_screen("tv-1")
    await store.save_settings(None, json.dumps({"site": {"running_text": ["Halo"]}}), "admin",
                              json.dumps({"change": "x", "before": {}, "after": {}}),
                              json.dumps({"running_text": ["Halo"]}), 500)
    await store.snapshot()
    await store.issue("B")
    assert (await store.call(2))["ticket"] is not None
    clock.advance(hours=16)  # past the site's midnight: counter 2 still serves yesterday's
    assert store.today() != day
    await store.snapshot()
    await store.act(2, "recall")  # counted on the ticket's own day
    assert (await store.call(2))["ticket"] is None  # completes it: nobody waits today


async def test_every_key_a_script_touches_is_declared_or_derived_from_data(
    redis_url: str,
) -> None:
    """MONITOR records what each EVALSHA ran: every key outside its KEYS is of a kind the
    script derives from data, and each kind of derived key did occur; a script that touches
    an undeclared key is caught by the same check."""
    site = make_site()
    keys = SiteKeys(site.id)
    client = connect(redis_url, pool_size=4, pool_timeout=5)
    clock = FakeClock(WEDNESDAY_10AM)
    store = Store(client, site, clock)
    names = {script.sha: name for name, script in store._scripts.items()}
    stray = client.register_script("return redis.call('GET', ARGV[1])")  # an undeclared key
    names[stray.sha] = "stray"
    table = redis.Redis.from_url(redis_url, decode_responses=True).command()
    try:
        with monitored(redis_url) as seen:
            await every_script(store, clock)
            await stray(keys=[keys("events")], args=[keys("arrival")])
        run_list = runs(seen, names)
        assert {run.script for run in run_list} == {*SCRIPTS, "stray"}
        assert undeclared(run_list, keys, table) == [
            f"stray: GET {keys('arrival')} (KEYS {[keys('events')]})"]
        # each row of the derived-keys table was met: the check above was not vacuous
        met = {(run.script, keys.kind(words[1])[0]) for run in run_list if run.script != "stray"
               for words in run.commands if words[1] not in run.keys}
        assert met == {(script, kind) for script, kinds in DERIVED.items() for kind in kinds}
    finally:
        await client.aclose()


class LossyProxy:
    """A TCP proxy in front of a redis-server that, when armed, forwards the next EVALSHA,
    waits for Redis's reply (the script ran) and then drops the connection instead of passing
    the reply on: the client sees the connection lost, and its retry sends the same command."""

    def __init__(self, redis_port: int) -> None:
        self.redis_port = redis_port
        self.armed = False
        self.lost = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> LossyProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, client_r: asyncio.StreamReader,
                      client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.redis_port)

        async def replies() -> None:
            while data := await server_r.read(65536):
                client_w.write(data)
                await client_w.drain()

        passing = asyncio.create_task(replies())
        try:
            while data := await client_r.read(65536):
                if self.armed and b"EVALSHA" in data:
                    self.armed = False
                    passing.cancel()
                    await asyncio.gather(passing, return_exceptions=True)
                    server_w.write(data)
                    await server_w.drain()
                    reply = await server_r.read(65536)
                    assert reply and not reply.startswith(b"-"), reply  # the script ran
                    self.lost += 1
                    break
                server_w.write(data)
                await server_w.drain()
        except ConnectionError:
            pass
        finally:
            passing.cancel()
            await asyncio.gather(passing, return_exceptions=True)
            for writer in (server_w, client_w):
                writer.close()


async def test_an_action_whose_reply_is_lost_is_applied_once(redis_url: str) -> None:
    """Without request_id, the reply of a call-next is lost after Redis ran it; the client's
    retry of the same attempt carries the same server-drawn idempotency key, so it gets the
    first answer: one ticket called, one call event, and the next ticket still waiting. A
    second press (a new attempt) calls the next ticket, as before."""
    site = make_site()
    keys = SiteKeys(site.id)
    proxy = await LossyProxy(int(redis_url.rsplit(":", 1)[1].split("/")[0])).start()
    client = connect(f"redis://127.0.0.1:{proxy.port}/0", pool_size=2, pool_timeout=5)
    store = Store(client, site, FakeClock(WEDNESDAY_10AM))
    direct = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        for script in store._scripts.values():  # no NOSCRIPT round: the first EVALSHA runs
            await client.script_load(script.script)
        for _ in range(3):
            await store.issue("A")
        proxy.armed = True
        called = await store.call(1)
        assert proxy.lost == 1, "the proxy dropped no reply: the test proved nothing"
        assert called["ticket"]["code"] == "A001"
        day = store.today()
        assert direct.zrange(keys("queue", day, "A"), 0, -1) == [f"{day}:A002", f"{day}:A003"]
        rows = cast(list[Any], direct.xrange(keys("events")))
        events = [json.loads(fields["d"])["type"] for _, fields in rows]
        assert events == ["ticket", "ticket", "ticket", "call"]
        assert direct.hget(keys("stats", day), "called:A") == "1"
        assert (await store.call(1))["ticket"]["code"] == "A002"  # a new press acts again
        proxy.armed = True
        issued = await store.issue("B")  # a kiosk's ticket: one B001, not two
        assert proxy.lost == 2 and issued["code"] == "B001"
        assert direct.hget(keys("seq", day), "B") == "1"
    finally:
        await client.aclose()
        direct.close()
        await proxy.stop()
