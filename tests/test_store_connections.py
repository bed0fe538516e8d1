"""The store's own connections on a single Redis (its scripts' kept connections and the
follower's reading one), against a real redis-server: a flushed script cache, a connection
killed by Redis and concurrent actions all come out as through the ordinary client."""

from __future__ import annotations

import asyncio

import pytest
from conftest import FakeClock

from display_server.config import SiteConfig
from display_server.store import KEPT_CONNECTIONS, Store, connect


@pytest.fixture
async def store(site: SiteConfig, clock: FakeClock, redis_url: str):  # type: ignore[no-untyped-def]
    client = connect(redis_url, pool_size=8, pool_timeout=5)
    await client.flushall()
    try:
        yield Store(client, site, clock)
    finally:
        await client.aclose()


async def killed(store: Store, name: str) -> int:
    """Kill every connection of the store's client that Redis lists as last running `name`."""
    clients = await store.redis.client_list()
    ids = [c["id"] for c in clients if c.get("cmd") == name]
    for client_id in ids:
        await store.redis.client_kill_filter(_id=client_id)
    return len(ids)


async def test_actions_survive_a_flushed_script_cache_and_a_killed_connection(
        store: Store) -> None:
    """After SCRIPT FLUSH (a restarted Redis) the next action loads its script and runs once;
    after Redis drops the connection an action ran on, the next action reconnects and runs."""
    await store.issue("A")
    await store.issue("A")
    await store.redis.script_flush()
    first = await store.call(1)
    assert first["ticket"]["code"] == "A001"
    assert await killed(store, "evalsha") >= 1
    second = await store.call(1)
    assert second["ticket"]["code"] == "A002"
    cursor, events = await store.read_new("0-0", 10)
    calls = [e.object()["ticket"] for e in events if e.object()["type"] == "call"]
    assert calls == ["A001", "A002"]           # each action once, in order
    assert cursor == events[-1].id


async def test_concurrent_actions_share_a_bounded_set_of_connections(store: Store) -> None:
    """Twenty counters pressing at once each get their own ticket; afterwards the store keeps at
    most KEPT_CONNECTIONS idle and gives the rest back to the pool."""
    for _ in range(20):
        await store.issue("A")
    site_counters = [c.number for c in store.site.counters if "A" in c.services]
    numbers = (site_counters * 20)[:20]
    results = await asyncio.gather(*(store.call(n, request_id=f"r{i}")
                                     for i, n in enumerate(numbers)), return_exceptions=True)
    codes = [r["ticket"]["code"] for r in results if isinstance(r, dict)]
    assert len(codes) == len(set(codes)) and len(codes) >= len(set(numbers))
    assert store._kept is not None and len(store._kept) <= KEPT_CONNECTIONS
    pool = store.redis.connection_pool
    assert len(pool._in_use_connections) <= KEPT_CONNECTIONS


async def test_the_follower_read_resumes_after_its_connection_is_killed(store: Store) -> None:
    """A blocked XREAD whose connection Redis kills is read again on a new connection and gets
    the event written meanwhile; the read's connection is one the pool counts as in use."""
    await store.issue("A")
    cursor, _ = await store.read_new("0-0", 10)
    reader = asyncio.create_task(store.read_new(cursor, 5000))
    await asyncio.sleep(0.2)
    assert await killed(store, "xread") == 1
    await store.issue("A")
    cursor2, events = await asyncio.wait_for(reader, 10)
    assert [e.object()["ticket"] for e in events] == ["A002"]
    assert cursor2 == events[-1].id


async def test_a_one_connection_client_keeps_none_back(site: SiteConfig, clock: FakeClock,
                                                       redis_url: str) -> None:
    """The command-line tools' clients have a pool of 1 or 2: actions there give their
    connection back, so the next plain command (a snapshot, a count) does not wait for one."""
    client = connect(redis_url, pool_size=1, pool_timeout=0.5)
    try:
        await client.flushall()
        store = Store(client, site, clock)
        await store.issue("A")
        await store.call(1)
        assert store._kept == []
        snapshot = await store.snapshot()   # a script again, then plain reads
        assert [c["ticket"]["code"] for c in snapshot["counters"] if c["number"] == 1] == ["A001"]
        assert await store.count_after("0-0", 10) == 2
    finally:
        await client.aclose()
