"""A Redis in the middle of a failover answers writes with READONLY (the node this process
reached was demoted to a replica) or MASTERDOWN: the API answers 503 redis_unavailable, which
counter clients and the kiosk send again with the same request_id, never a 500 internal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from conftest import Api, FakeClock, RedisServer, wait_until
from starlette.testclient import TestClient

from antrian.main import build_app
from display_server.app import in_failover
from display_server.config import SiteConfig


@pytest.fixture
def replica(redis_server: RedisServer, tmp_path: Path) -> Iterator[RedisServer]:
    """A second redis-server following the tests' Redis, as a demoted primary does."""
    node = RedisServer(tmp_path / "replica").start()
    client = redis.Redis.from_url(node.url, decode_responses=True)
    client.replicaof("127.0.0.1", redis_server.port)
    wait_until(lambda: client.info("replication").get("master_link_status") == "up",
               what="replica in sync")
    yield node
    node.stop()


def test_writes_to_a_demoted_primary_are_503_not_500(replica: RedisServer, site: SiteConfig,
                                                     clock: FakeClock, tmp_path: Path) -> None:
    with TestClient(build_app(site, replica.url, tmp_path, clock=clock),
                    raise_server_exceptions=False) as client:
        api = Api(client, site, tmp_path)
        ticket = client.post("/api/tickets", json={"service": "A"}, headers=api.kiosk_auth())
        assert ticket.status_code == 503, ticket.text
        assert ticket.json()["error"]["code"] == "redis_unavailable"
        call = client.post("/api/counters/1/call-next", json={"request_id": "r-1"},
                           headers=api.auth(1))
        assert call.status_code == 503, call.text
        assert call.json()["error"]["code"] == "redis_unavailable"
        assert client.get("/api/state").status_code == 200  # reads still answer


def test_which_replies_are_a_failover() -> None:
    assert in_failover(redis.exceptions.ReadOnlyError("You can't write against a replica."))
    assert in_failover(redis.exceptions.ResponseError(
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."))
    assert in_failover(redis.exceptions.ResponseError(
        "UNBLOCKED force unblock from blocking operation, instance state changed"))
    assert not in_failover(redis.exceptions.ResponseError("WRONGTYPE Operation against a key"))
    assert not in_failover(redis.exceptions.ResponseError("ERR Error running script"))


def test_an_action_refused_on_a_demoted_primary_is_503_when_it_waits_for_replicas(
        replica: RedisServer, site: SiteConfig, clock: FakeClock, tmp_path: Path) -> None:
    """On Sentinel an action is sent with WAIT (one replica must hold it); on a demoted
    primary an action its script refuses before writing (resume of a counter not paused)
    gets WAIT's own error from the replica, whose message redis-py gives without its ERR:
    still a failover, so 503 and not 500."""
    app = build_app(site, replica.url, tmp_path, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        app.state.ctx.store.waits = True  # as on Sentinel: the answer waits for WAIT
        api = Api(client, site, tmp_path)
        resume = client.post("/api/counters/1/resume", json={"request_id": "r-2"},
                             headers=api.auth(1))
        assert resume.status_code == 503, resume.text
        assert resume.json()["error"]["code"] == "redis_unavailable"
