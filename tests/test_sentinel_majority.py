"""Which primary antrian writes to when the sentinels do not agree (seen in bench/chaos.py: a
sentinel restarted with a stale config named the old primary, itself restarted with stale data,
for ~80 ms; a server process connected to it then and three answered actions were wiped when
the sentinels turned it into a replica). The primary is the one most of the sentinels name."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from conftest import free_port, wait_until
from redis_topologies import Node, SentinelSet

from display_server.store import connect


@pytest.fixture
def stale(tmp_path: Path) -> Iterator[tuple[SentinelSet, Node, int]]:
    """A primary, a replica and three sentinels, plus a fourth sentinel that names another
    master (an old primary restarted as a master) under the same service name."""
    sentinels = SentinelSet(tmp_path / "set").start()
    old = Node(tmp_path, "--appendonly", "no").start()
    port = free_port()
    conf = tmp_path / "stale-sentinel.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor {sentinels.service} 127.0.0.1 {old.port} 2\n"
                    f"sentinel down-after-milliseconds {sentinels.service} 1000\n")
    lone = subprocess.Popen(["redis-server", str(conf), "--sentinel"],
                            stdout=(tmp_path / "stale-sentinel.log").open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def names_old() -> bool:
            client = redis.Redis(port=port, socket_timeout=2, decode_responses=True)
            address = client.sentinel_get_master_addr_by_name(sentinels.service)
            return isinstance(address, tuple) and int(address[1]) == old.port
        wait_until(names_old, what="the stale sentinel naming the old primary")
        yield sentinels, old, port
    finally:
        lone.kill()
        lone.wait(10)
        old.stop()
        sentinels.stop()


async def test_the_primary_is_the_one_most_sentinels_name(
        stale: tuple[SentinelSet, Node, int]) -> None:
    sentinels, old, stale_port = stale
    # the stale sentinel first in the URL: redis-py's Sentinel would take its word
    nodes = ",".join(f"127.0.0.1:{p}" for p in [stale_port, *sentinels.sentinel_ports])
    client = connect(f"redis+sentinel://{nodes}/{sentinels.service}", pool_size=2,
                     pool_timeout=5)
    try:
        await client.set("written", "here")
    finally:
        await client.aclose()
    assert sentinels.primary.client().get("written") == "here"
    assert old.client().get("written") is None


async def test_sentinels_that_disagree_name_no_primary(
        stale: tuple[SentinelSet, Node, int]) -> None:
    """One good sentinel and the stale one: no majority, the write fails (a 503 the client
    retries) rather than landing on the old primary."""
    sentinels, old, stale_port = stale
    nodes = f"127.0.0.1:{stale_port},127.0.0.1:{sentinels.sentinel_ports[0]}"
    client = connect(f"redis+sentinel://{nodes}/{sentinels.service}", pool_size=2,
                     pool_timeout=5, retries=0)
    try:
        with pytest.raises(Exception, match="majority"):
            await client.set("written", "there")
    finally:
        await client.aclose()
    assert old.client().get("written") is None
    assert sentinels.primary.client().get("written") is None


async def test_a_command_retried_over_a_failover_goes_to_the_new_primary(
        tmp_path: Path) -> None:
    """A connection to the old primary, dropped by a failover (READONLY: redis-py disconnects
    it and retries), reconnects to the primary the sentinels name now, not to its last address
    (redis-py 8 reconnected there: READONLY until the retries ran out, or, with the old primary
    restarted as a master, the write landed on it and was wiped)."""
    sentinels = SentinelSet(tmp_path).start()
    try:
        client = connect(sentinels.url, pool_size=1, pool_timeout=5)
        try:
            await client.set("before", "1")  # the one connection: to the primary
            old = sentinels.primary_port()
            sentinel = redis.Redis(port=sentinels.sentinel_ports[0], socket_timeout=2)
            sentinel.execute_command("SENTINEL", "FAILOVER", sentinels.service)  # type: ignore[no-untyped-call]
            wait_until(lambda: sentinels.primary_port() != old
                       and sentinels.primary.client().info("replication")["role"] == "slave",
                       timeout=30, what="the replica promoted, the old primary its replica")
            await client.set("after", "2")
        finally:
            await client.aclose()
        assert sentinels.replica.client().get("after") == "2"  # the new primary
    finally:
        sentinels.stop()
