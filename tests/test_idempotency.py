"""A request_id stands for one request: repeated, the same answer and nobody else called; reused
for another action or body, 409 request_id_reused with Redis exactly as it was."""

from __future__ import annotations

from typing import Any

import redis
from conftest import Api, site_keys


def refused(api: Api, redis_url: str, send: Any) -> None:
    """`send()` is answered 409 request_id_reused and changes no key of the site."""
    before = site_keys(redis_url, api.site.id)
    r = send()
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "request_id_reused"
    assert r.json()["error"]["message"].startswith("request_id ini sudah dipakai")
    assert site_keys(redis_url, api.site.id) == before


def current(api: Api, counter: int) -> Any:
    counters = api.client.get("/api/state").json()["counters"]
    return next(c for c in counters if c["number"] == counter)["ticket"]


def test_recall_then_skip_with_one_request_id_skips_nobody(api: Api, redis_url: str) -> None:
    """The skip that reuses the recall's request_id is refused: the visitor is still called."""
    api.issue("A")
    api.act(1, "call-next")
    recall = api.act(1, "recall", {"request_id": "r-1"})
    assert recall.status_code == 200
    refused(api, redis_url, lambda: api.act(1, "skip", {"request_id": "r-1"}))
    assert current(api, 1)["code"] == "A001"
    assert api.act(1, "recall", {"request_id": "r-1"}).json() == recall.json()


def test_the_same_request_twice_calls_one_visitor(api: Api) -> None:
    """Call-next repeated with its request_id answers the first call again; A002 still waits."""
    api.issue("A")
    api.issue("A")
    first = api.act(1, "call-next", {"request_id": "press-1"})
    again = api.act(1, "call-next", {"request_id": "press-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and first.json()["ticket"]["code"] == "A001"
    assert current(api, 1)["code"] == "A001"
    waiting = api.client.get("/api/services").json()["services"]
    assert next(s for s in waiting if s["code"] == "A")["waiting"] == 1


def test_another_body_for_the_same_action_is_refused(api: Api, redis_url: str) -> None:
    """A call of A002 then of A003 under one request_id: the second is refused, A003 waits;
    done with another outcome under the done's request_id too."""
    for _ in range(3):
        api.issue("A")
    assert api.act(1, "call", {"ticket": "A002", "request_id": "c-1"}).status_code == 200
    refused(api, redis_url, lambda: api.act(1, "call", {"ticket": "A003", "request_id": "c-1"}))
    refused(api, redis_url, lambda: api.act(1, "call-next", {"request_id": "c-1"}))
    assert current(api, 1)["code"] == "A002"
    done = api.act(1, "done", {"outcome": "not_completed", "request_id": "d-1"})
    assert done.status_code == 200
    refused(api, redis_url,
            lambda: api.act(1, "done", {"outcome": "completed", "request_id": "d-1"}))
    stats = redis.Redis.from_url(redis_url, decode_responses=True).hgetall(
        f"antrian:{{{api.site.id}}}:stats:2026-11-25")
    assert stats.get("not_completed:A") == "1" and "completed:A" not in stats


def test_a_default_is_the_same_request_as_its_explicit_value(api: Api) -> None:
    """done without an outcome is done "completed": retried either way, one answer."""
    api.issue("A")
    api.act(1, "call-next")
    first = api.act(1, "done", {"request_id": "d-2"})
    assert api.act(1, "done", {"outcome": "completed", "request_id": "d-2"}).json() == first.json()


def test_request_ids_are_per_counter(api: Api) -> None:
    """Counter 2 may use the request_id counter 1 used: it is another request, not a replay."""
    api.issue("A")
    api.issue("A")
    one = api.act(1, "call-next", {"request_id": "same"}).json()
    two = api.act(2, "call-next", {"request_id": "same"})
    assert two.status_code == 200
    assert (one["ticket"]["code"], two.json()["ticket"]["code"]) == ("A001", "A002")


def test_kiosk_request_id_is_bound_to_its_service(api: Api, redis_url: str) -> None:
    """A kiosk retry gets its ticket back; the same request_id for B or a priority ticket is
    refused, and no ticket is taken."""
    first = api.issue("A", request_id="k-1")
    assert first.status_code == 201
    assert api.issue("A", request_id="k-1").json() == first.json()
    refused(api, redis_url, lambda: api.issue("B", request_id="k-1"))
    refused(api, redis_url, lambda: api.issue("A", request_id="k-1", priority="lansia"))
    assert api.issue("B").json()["code"] == "B001"


def test_requests_without_request_id_keep_no_answer(api: Api, redis_url: str) -> None:
    """Only requests with a request_id leave an answer in Redis (for 24 h)."""
    api.issue("A")
    api.act(1, "call-next")
    api.act(1, "recall", {"request_id": "kept"})
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    kept = list(client.scan_iter(match=f"antrian:{{{api.site.id}}}:req:*"))
    assert kept == [f"antrian:{{{api.site.id}}}:req:1:kept"]
    assert 0 < client.ttl(kept[0]) <= 86400
