"""The officer console and the counter API run the same counters service: the same answers, the
same checks, one request_id shared between them."""

from __future__ import annotations

from conftest import Api
from test_sessions import sign_in

from protocol.counter_actions import ACTIONS


def test_console_and_api_share_answers_and_request_ids(web: Api) -> None:
    """A console press and the API with the same request_id give one answer and call one
    ticket; both list the same waiting tickets."""
    for _ in range(3):
        web.issue("A")
    cookie, csrf = sign_in(web, 1)
    console = {"Cookie": cookie, "X-CSRF-Token": csrf}
    listed = web.client.get("/counter/1/tickets/waiting", headers={"Cookie": cookie})
    assert listed.json() == web.client.get("/api/counters/1/waiting",
                                           headers=web.auth(1)).json()
    assert [t["code"] for t in listed.json()["tickets"]] == ["A001", "A002", "A003"]
    pressed = web.client.post("/counter/1/actions/call-next", json={"request_id": "r-1"},
                              headers=console)
    again = web.act(1, "call-next", {"request_id": "r-1"})
    assert pressed.status_code == again.status_code == 200
    assert pressed.json() == again.json() and pressed.json()["ticket"]["code"] == "A001"
    assert web.client.get("/api/state").json()["waiting"]["A"] == 2
    done = web.client.post("/counter/1/actions/done", json={}, headers=console)
    assert done.status_code == 200
    assert web.act(1, "done", {}).status_code == 409  # nothing called any more: same rule


def test_console_and_api_refuse_alike(web: Api) -> None:
    """A bad body, an unknown service and an unknown action get the same status and code from
    both doors, and every wire action exists on both."""
    web.issue("A")
    cookie, csrf = sign_in(web, 1)
    console = {"Cookie": cookie, "X-CSRF-Token": csrf}
    web.act(1, "call-next", {})
    for action, body, status, code in [("done", {"outcome": "maybe"}, 400, "invalid_field"),
                                       ("transfer", {"service": "Z"}, 404, "unknown_service"),
                                       ("pause", {"extra": 1}, 400, "unknown_field")]:
        by_console = web.client.post(f"/counter/1/actions/{action}", json=body, headers=console)
        by_api = web.act(1, action, body)
        for r in (by_console, by_api):
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), action
    unknown = web.client.post("/counter/1/actions/launch", json={}, headers=console)
    assert unknown.status_code == 404
    for action in ACTIONS:  # an empty body: a 4xx of the action's own rules, never 404/405
        by_api = web.act(1, action, {})
        assert by_api.status_code not in (404, 405), action
