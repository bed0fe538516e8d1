"""The HTTP API of docs/contract.md on a real Redis: tickets, calls and every counter action."""

from __future__ import annotations

from conftest import Api, FakeClock


def test_health_answers_ok(api: Api) -> None:
    """GET /api/health is 200 {"status":"ok", ...} while Redis answers (and the events follower
    follows: tests/test_fanout_supervision.py)."""
    r = api.client.get("/api/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_issue_ticket_numbers_from_one_and_counts_people_ahead(api: Api) -> None:
    """Tickets are {prefix}{seq:03d} from 1, with how many wait before each."""
    first = api.issue("A")
    assert first.status_code == 201
    body = first.json()
    assert (body["code"], body["service"], body["seq"], body["ahead"]) == ("A001", "A", 1, 0)
    assert body["issued_at"].startswith("2026-11-25T10:00:00")
    second = api.issue("A").json()
    assert (second["code"], second["ahead"]) == ("A002", 1)
    assert api.issue("B").json()["code"] == "B001"


def test_unknown_and_closed_services_are_refused(api: Api) -> None:
    """Unknown service 404 unknown_service; closed (C opens Mondays only) 409 service_closed."""
    r = api.issue("Z")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_service"
    r = api.issue("C")
    assert r.status_code == 409 and r.json()["error"]["code"] == "service_closed"


def test_closed_service_opens_in_its_hours(api: Api, clock: FakeClock) -> None:
    """C takes tickets on Monday 08:00-12:00 local time only."""
    clock.advance(days=5)  # Monday 10:00 WIB
    assert api.issue("C").status_code == 201
    clock.advance(hours=2)  # Monday 12:00
    assert api.issue("C").json()["error"]["code"] == "service_closed"


def test_quota_is_enforced_per_day(api: Api, clock: FakeClock) -> None:
    """D has a quota of 3: the fourth ticket is 409 quota_reached; tomorrow it starts again."""
    for _ in range(3):
        assert api.issue("D").status_code == 201
    r = api.issue("D")
    assert r.status_code == 409 and r.json()["error"]["code"] == "quota_reached"
    clock.advance(days=1)
    assert api.issue("D").json()["code"] == "D001"


def test_services_lists_open_state_and_waiting(api: Api) -> None:
    """GET /api/services has code, name, tenant, open and waiting for each service."""
    api.issue("A")
    api.issue("A")
    services = {s["code"]: s for s in api.client.get("/api/services").json()["services"]}
    assert services["A"]["waiting"] == 2 and services["A"]["open"] is True
    assert services["C"]["open"] is False
    assert services["B"]["name"] == "KTP-el" and services["B"]["tenant"] == "capil"


def test_call_next_takes_oldest_in_service_order(api: Api) -> None:
    """Counter 1 serves A before B; counter 2 serves B before A."""
    api.issue("B")
    api.issue("A")
    api.issue("A")
    assert api.act(1, "call-next").json()["ticket"]["code"] == "A001"
    assert api.act(2, "call-next").json()["ticket"]["code"] == "B001"
    assert api.act(1, "call-next").json()["ticket"]["code"] == "A002"
    assert api.act(1, "call-next").json()["ticket"] is None


def test_oldest_policy_takes_the_oldest_across_services(clock: FakeClock, redis_url: str,
                                                        tmp_path) -> None:
    """A counter with policy 'oldest' ignores service order and takes the earliest arrival."""
    from conftest import site_document
    from starlette.testclient import TestClient

    from display_server.app import create_app
    from display_server.config import parse_config

    doc = site_document("oldest-policy-" + tmp_path.name[-6:].lower().replace("_", "-"))
    doc["counters"] = [{"number": 1, "services": ["A", "B"], "policy": "oldest"}]
    site = parse_config(doc)
    with TestClient(create_app(site, redis_url, tmp_path, clock=clock)) as client:
        oldest = Api(client, site, tmp_path)
        oldest.issue("B")
        oldest.issue("A")
        assert oldest.act(1, "call-next").json()["ticket"]["code"] == "B001"


def test_priority_tickets_interleave_one_per_n_normal(api: Api) -> None:
    """With priority_every=3 and both queues full: P, N, N, N, P, N ... nobody starves."""
    for _ in range(8):
        api.issue("A")
    for _ in range(3):
        api.issue("A", priority="lansia")
    order = [api.act(1, "call-next").json()["ticket"] for _ in range(11)]
    kinds = ["P" if t["priority"] else "N" for t in order]
    assert kinds == ["P", "N", "N", "N", "P", "N", "N", "N", "P", "N", "N"]
    assert [t["code"] for t in order if not t["priority"]] == sorted(
        t["code"] for t in order if not t["priority"])


def test_unknown_priority_category_is_refused(api: Api) -> None:
    """A priority that the site does not define is a 400."""
    r = api.issue("A", priority="vip")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_field"


def test_done_records_outcome_and_frees_the_counter(api: Api) -> None:
    """Done takes completed/not_completed; done with nothing called is 409."""
    api.issue("A")
    api.act(1, "call-next")
    r = api.act(1, "done", {"outcome": "not_completed"})
    assert r.status_code == 200
    assert r.json()["ticket"]["status"] == "served"
    again = api.act(1, "done")
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_current_ticket"
    counter = api.client.get("/api/state").json()["counters"][0]
    assert counter["status"] == "idle" and counter["ticket"] is None


def test_call_next_while_serving_completes_the_current_ticket(api: Api) -> None:
    """Pressing Panggil again closes the current ticket as completed and calls the next."""
    first = api.issue("A").json()
    api.issue("A")
    api.act(1, "call-next")
    assert api.act(1, "call-next").json()["ticket"]["code"] == "A002"
    status = api.status(first).json()
    assert status["status"] == "served" and status["outcome"] == "completed"


def test_recall_announces_again_and_counts(api: Api) -> None:
    """Recall needs a current ticket and increases its call count."""
    assert api.act(1, "recall").status_code == 409
    api.issue("A")
    api.act(1, "call-next")
    assert api.act(1, "recall").json()["ticket"]["calls"] == 2


def test_skip_and_restore_within_grace_window(api: Api, clock: FakeClock) -> None:
    """A skipped ticket can be put back (at the front) within the grace window, not after."""
    for _ in range(3):
        api.issue("A")
    api.act(1, "call-next")
    assert api.act(1, "skip").json()["ticket"]["status"] == "no_show"
    clock.advance(minutes=5)
    r = api.act(1, "restore", {"ticket": "A001"})
    assert r.status_code == 200 and r.json()["ticket"]["status"] == "waiting"
    assert api.act(1, "call-next").json()["ticket"]["code"] == "A001"
    api.act(1, "skip")
    skipped = api.client.get("/api/counters/1/skipped", headers=api.auth(1)).json()["tickets"]
    assert [t["code"] for t in skipped] == ["A001"]
    clock.advance(minutes=16)
    assert api.client.get("/api/counters/1/skipped", headers=api.auth(1)).json()["tickets"] == []
    late = api.act(1, "restore", {"ticket": "A001"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "grace_expired"


def test_transfer_keeps_arrival_time(api: Api) -> None:
    """A ticket moved from A to B goes before B tickets issued after it; same service is 409."""
    api.issue("A")
    api.issue("B")
    api.act(1, "call-next")  # A001
    same = api.act(1, "transfer", {"service": "A"})
    assert same.status_code == 409 and same.json()["error"]["code"] == "same_service"
    moved = api.act(1, "transfer", {"service": "B"})
    assert moved.status_code == 200 and moved.json()["ticket"]["service"] == "B"
    assert api.act(2, "call-next").json()["ticket"]["code"] == "A001"
    assert api.act(2, "call-next").json()["ticket"]["code"] == "B001"


def test_pause_blocks_calls_until_resume(api: Api) -> None:
    """A paused counter cannot call (409) and shows its reason until it resumes."""
    api.issue("A")
    assert api.act(1, "pause", {"reason": "istirahat siang"}).status_code == 200
    counter = api.client.get("/api/state").json()["counters"][0]
    assert counter["status"] == "paused" and counter["reason"] == "istirahat siang"
    r = api.act(1, "call-next")
    assert r.status_code == 409 and r.json()["error"]["code"] == "counter_paused"
    assert api.act(1, "pause").status_code == 409
    assert api.act(1, "resume").status_code == 200
    assert api.act(1, "resume").status_code == 409
    assert api.act(1, "call-next").json()["ticket"]["code"] == "A001"


def test_call_a_specific_waiting_ticket(api: Api) -> None:
    """A counter can call a chosen waiting ticket of its services."""
    for _ in range(3):
        api.issue("A")
    r = api.act(1, "call", {"ticket": "A003"})
    assert r.json()["ticket"]["code"] == "A003"
    again = api.act(2, "call", {"ticket": "A003"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "ticket_not_waiting"
    waiting = api.client.get("/api/counters/1/waiting", headers=api.auth(1)).json()["tickets"]
    assert [t["code"] for t in waiting] == ["A001", "A002"]


def test_state_snapshot_has_counters_recent_calls_and_waiting(api: Api) -> None:
    """GET /api/state: counters with current ticket, recent calls newest first, event_id."""
    for _ in range(3):
        api.issue("A")
    api.act(1, "call-next")
    api.act(2, "call-next")
    state = api.client.get("/api/state").json()
    by_number = {c["number"]: c for c in state["counters"]}
    assert by_number[1]["ticket"]["code"] == "A001" and by_number[1]["status"] == "serving"
    assert by_number[2]["ticket"]["code"] == "A002"
    assert [(r["ticket"], r["counter"]) for r in state["recent"]] == [("A002", 2), ("A001", 1)]
    assert state["waiting"]["A"] == 1
    assert state["event_id"] == state["recent"][0]["event_id"]


def test_counter_tokens_401_and_403(api: Api) -> None:
    """No token or a wrong one is 401; another counter's token is 403."""
    no_token = api.client.post("/api/counters/1/call-next")
    assert no_token.status_code == 401 and no_token.json()["error"]["code"] == "unauthorized"
    wrong = api.client.post("/api/counters/1/call-next",
                            headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    other = api.client.post("/api/counters/1/call-next", headers=api.auth(2))
    assert other.status_code == 403 and other.json()["error"]["code"] == "forbidden"


def test_ticket_status_page_data(api: Api) -> None:
    """GET /api/tickets/{day}/{code}/{key}: people ahead while waiting, the counter once
    called."""
    api.issue("A")
    second = api.issue("A").json()
    assert second["status_url"].startswith("/t/2026-11-25/A002/")
    assert api.status(second).json()["ahead"] == 1
    api.act(1, "call-next")
    api.act(1, "call-next")
    called = api.status(second).json()
    assert called["status"] == "called" and called["counter"] == 1
