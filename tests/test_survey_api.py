"""The satisfaction survey (SKM) over HTTP: one answer per served ticket through its status link
or the counter's tablet, forged links refused as the status page refuses them, bad answers 400,
the `survey` event archived and never sent to a screen."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa
import websockets
from conftest import Api, FakeClock, ServerProcess, wait_until

from display_server.archive import db
from display_server.archive.tables import events, survey_responses
from display_server.keys import SiteKeys

GOOD = [4, 3, 3, 2, 4, 4, 3, 1, 2]


def served(api: Any, counter: int = 1, outcome: str = "completed") -> dict[str, Any]:
    """A ticket of service A, called at `counter` and finished there."""
    ticket = api.ticket("A")
    assert api.call(counter)["ticket"]["code"] == ticket["code"]
    assert api.act(counter, "done", {"outcome": outcome}).status_code == 200
    return dict(ticket)


def post(api: Any, ticket: dict[str, Any], body: Any, *, under_api: bool = False,
         **kwargs: Any) -> httpx.Response:
    tail = ticket["status_url"] + "/survey"
    path = "/api/tickets/" + tail.removeprefix("/t/") if under_api else tail
    client: httpx.Client = api.client
    if isinstance(body, bytes | str):
        return client.post(path, content=body, headers={"content-type": "application/json"},
                           **kwargs)
    return client.post(path, json=body, **kwargs)


def test_one_answer_per_served_ticket_and_the_status_says_so(api: Api) -> None:
    ticket = api.ticket("A")
    assert api.status(ticket).json()["survey"] is None          # waiting: nothing to offer
    r = post(api, ticket, {"answers": GOOD})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_served")
    api.call(1)
    assert api.status(ticket).json()["survey"] is None          # being served
    assert post(api, ticket, {"answers": GOOD}).json()["error"]["code"] == "not_served"
    assert api.act(1, "done", {"outcome": "not_completed"}).status_code == 200
    assert api.status(ticket).json()["survey"] == "open"
    r = post(api, ticket, {"answers": GOOD, "profile": {"gender": "p", "age": "30-39"}})
    assert r.status_code == 201, r.text
    assert r.json()["ok"] is True and r.json()["ticket"] == ticket["code"]
    assert api.status(ticket).json()["survey"] == "done"
    assert api.client.get(ticket["status_url"] + "/status").json()["survey"] == "done"  # the page's
    for under_api in (False, True):
        again = post(api, ticket, {"answers": [1] * 9}, under_api=under_api)
        assert (again.status_code, again.json()["error"]["code"]) == (409, "already_rated")


def test_the_answer_under_api_tickets_and_the_survey_event(api: Api, redis_url: str) -> None:
    ticket = served(api, counter=3)
    r = post(api, ticket, {"answers": GOOD, "profile": {"education": "s1", "occupation": ""}},
             under_api=True)
    assert r.status_code == 201, r.text
    raw: Any = redis.Redis.from_url(redis_url).xrange(SiteKeys(api.site.id)("events"),
                                                      min=r.json()["event_id"], max="+")
    event = json.loads(raw[0][1][b"d"])
    assert event == {"type": "survey", "ticket": ticket["code"], "ticket_day": ticket["day"],
                     "service": "A", "tenant": "samsat", "counter": 3, "outcome": "completed",
                     "via": "status", "answers": GOOD, "profile": {"education": "s1"},
                     "at": event["at"]}


def test_a_skipped_ticket_is_not_served(api: Api) -> None:
    ticket = api.ticket("A")
    api.call(1)
    assert api.act(1, "skip").status_code == 200
    assert api.status(ticket).json()["survey"] is None
    assert post(api, ticket, {"answers": GOOD}).json()["error"]["code"] == "not_served"


def test_forged_and_guessed_links_get_the_status_pages_404(api: Api) -> None:
    ticket = served(api)
    day, code, key = ticket["status_url"].removeprefix("/t/").split("/")
    wrong_key = ("0" if key[0] != "0" else "1") + key[1:]
    other_code = code[:-1] + ("9" if code[-1] != "9" else "8")
    paths = [f"/t/{day}/{code}/{wrong_key}/survey", f"/t/{day}/{other_code}/{key}/survey",
             f"/t/2026-11-24/{code}/{key}/survey", f"/api/tickets/{day}/{code}/{wrong_key}/survey",
             f"/t/{day}/{code}/{key[:-1]}/survey", f"/t/{day}/a001/{key}/survey"]
    status_page = api.client.get(f"/api/tickets/{day}/{code}/{wrong_key}")
    assert status_page.status_code == 404
    for path in paths:
        r = api.client.post(path, json={"answers": GOOD})
        assert r.status_code == 404, path
        assert r.json() == status_page.json(), path
    # a right link to a ticket that was never issued: the same 404
    from display_server.tokens import TokenBook, load_secret
    book = TokenBook(load_secret(api.data_dir, api.site.secret), api.site.id, [1])
    never = f"/t/{day}/A999/{book.ticket_key(day, 'A999')}/survey"
    r = api.client.post(never, json={"answers": GOOD})
    assert (r.status_code, r.json()) == (404, status_page.json())
    assert api.status(ticket).json()["survey"] == "open"   # none of it counted


@pytest.mark.parametrize("body", [
    {"answers": GOOD[:8]},
    {"answers": [*GOOD, 4]},
    {"answers": []},
    {},
    {"answers": None},
    {"answers": [0, 3, 3, 2, 4, 4, 3, 1, 2]},
    {"answers": [5, 3, 3, 2, 4, 4, 3, 1, 2]},
    {"answers": [-1, 3, 3, 2, 4, 4, 3, 1, 2]},
    {"answers": [True, 3, 3, 2, 4, 4, 3, 1, 2]},
    {"answers": [3.0, 3, 3, 2, 4, 4, 3, 1, 2]},
    {"answers": ["3", 3, 3, 2, 4, 4, 3, 1, 2]},
    {"answers": [[3], 3, 3, 2, 4, 4, 3, 1, 2]},
    {"answers": "434"},
    {"answers": {"u1": 4}},
    {"answers": GOOD, "extra": 1},
    {"answers": GOOD, "profile": {"gender": "x"}},
    {"answers": GOOD, "profile": {"hobby": "golf"}},
    {"answers": GOOD, "profile": {"age": 30}},
    {"answers": GOOD, "profile": "p"},
    {"answers": GOOD, "profile": {"gender": "<b>p</b>"}},
    [4, 3, 3, 2, 4, 4, 3, 1, 2],
    b'{"answers": [4,3,3,2,4,4,3,1,2}',
    b'{"answers": [1e0,3,3,2,4,4,3,1,2]}',
    b'{"answers": [NaN,3,3,2,4,4,3,1,2]}',
    b'{"answers": [4,3,3,2,4,4,3,1,2], "answers": "x"}',
])
def test_malformed_answers_are_400_and_change_nothing(api: Api, body: Any) -> None:
    ticket = served(api)
    r = post(api, ticket, body)
    assert r.status_code == 400, (body, r.text)
    assert set(r.json()["error"]) == {"code", "message"}
    assert api.status(ticket).json()["survey"] == "open"


def test_an_oversized_body_is_413_and_a_bearer_other_than_the_kiosk_is_401(api: Api) -> None:
    ticket = served(api)
    big = json.dumps({"answers": GOOD, "profile": {"gender": "p" * 10_000}})
    r = post(api, ticket, big)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")
    r = post(api, ticket, {"answers": GOOD}, headers=api.auth(1))
    assert r.status_code == 401
    assert api.status(ticket).json()["survey"] == "open"


def test_answers_per_client_are_rate_limited(api: Api) -> None:
    rate = 10  # ANTRIAN_SURVEY_RATE's default: 10 a minute per client
    ticket = served(api)
    codes = [post(api, ticket, {"answers": GOOD}).status_code for _ in range(rate + 1)]
    assert codes[0] == 201 and set(codes[1:rate]) == {409}
    assert codes[rate] == 429


def test_the_counter_tablet_offers_the_ticket_just_finished(api: Api, clock: FakeClock) -> None:
    def offered(counter: int = 1) -> Any:
        r = api.client.get(f"/api/counters/{counter}/survey", headers=api.auth(counter))
        assert r.status_code == 200, r.text
        return r.json()["ticket"]

    def rate(counter: int, code: str, answers: Any = GOOD) -> httpx.Response:
        return api.client.post(f"/api/counters/{counter}/survey", headers=api.auth(counter),
                               json={"ticket": code, "answers": answers})

    assert offered() is None
    first = served(api, counter=1)
    assert offered()["code"] == first["code"] and offered()["service_name"] == "Perpanjangan STNK"
    assert offered(2) is None
    second = api.ticket("A")
    api.call(1)                                  # the next call: the tablet still offers `first`
    assert offered()["code"] == first["code"]
    assert rate(1, second["code"]).json()["error"]["code"] == "not_served"
    assert rate(2, first["code"]).json()["error"]["code"] == "not_served"   # another counter's
    r = rate(1, first["code"])
    assert r.status_code == 201, r.text
    assert offered() is None                     # answered: nothing to offer
    assert rate(1, first["code"]).json()["error"]["code"] == "already_rated"
    assert post(api, first, {"answers": GOOD}).json()["error"]["code"] == "already_rated"
    assert api.act(1, "done", {"outcome": "completed"}).status_code == 200
    assert offered()["code"] == second["code"]
    clock.advance(minutes=10, seconds=1)         # ANTRIAN_SURVEY_MINUTES' default: 10
    assert offered() is None
    assert rate(1, second["code"]).json()["error"]["code"] == "survey_expired"
    assert rate(1, second["code"], GOOD[:3]).status_code == 400
    assert post(api, second, {"answers": GOOD}).status_code == 201   # the link has no window


def test_the_counter_tablet_names_the_tickets_day(api: Api) -> None:
    """A ticket finished just before midnight is answered on the tablet just after: the day the
    GET named goes with the answers; another day is a ticket that does not exist."""
    ticket = served(api, counter=4)
    pending = api.client.get("/api/counters/4/survey", headers=api.auth(4)).json()["ticket"]
    assert (pending["code"], pending["day"]) == (ticket["code"], ticket["day"])

    def rate(body: dict[str, Any]) -> httpx.Response:
        client: httpx.Client = api.client
        return client.post("/api/counters/4/survey", headers=api.auth(4),
                           json={"ticket": ticket["code"], "answers": GOOD, **body})

    assert rate({"day": "2026-11-24"}).json()["error"]["code"] == "unknown_ticket"
    assert rate({"day": "24-11-2026"}).status_code == 400
    r = rate({"day": pending["day"]})
    assert r.status_code == 201, r.text
    assert r.json()["day"] == ticket["day"]


def test_the_counter_tablet_needs_the_counters_token(api: Api) -> None:
    served(api, counter=1)
    assert api.client.get("/api/counters/1/survey").status_code == 401
    assert api.client.get("/api/counters/1/survey", headers=api.auth(2)).status_code == 403
    assert api.client.get("/api/counters/99/survey", headers=api.auth(1)).status_code == 404
    r = api.client.post("/api/counters/1/survey", headers=api.auth(2),
                        json={"ticket": "A001", "answers": GOOD})
    assert r.status_code == 403


def test_the_questions_as_pages_render_them(api: Api) -> None:
    body = api.client.get("/api/survey").json()
    assert [e["key"] for e in body["elements"]] == [f"u{n}" for n in range(1, 10)]
    assert [a["label"] for a in body["elements"][3]["answers"]] == [
        "Sangat mahal", "Cukup mahal", "Murah", "Gratis"]
    assert [a["value"] for a in body["elements"][0]["answers"]] == [1, 2, 3, 4]
    assert [p["key"] for p in body["profile"]] == ["gender", "age", "education", "occupation"]


async def test_20_concurrent_answers_one_201_and_one_archive_row(
        server_factory: Any, database_url: str) -> None:
    server: ServerProcess = server_factory(extra_env={"ANTRIAN_DATABASE_URL": database_url,
                                                      "ANTRIAN_SURVEY_RATE": "100/60"})
    ticket = served(server.api, counter=2)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        answers = await asyncio.gather(*(
            client.post(ticket["status_url"] + "/survey", json={"answers": [1 + i % 4] * 9})
            for i in range(20)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * 19
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 409} == {
        "already_rated"}
    winner = next(r for r in answers if r.status_code == 201).json()["event_id"]
    engine = db.engine(database_url)
    try:
        def archived() -> list[Any]:
            with engine.connect() as connection:
                return list(connection.execute(sa.select(survey_responses).where(
                    survey_responses.c.site == server_factory.site_id)).mappings())

        wait_until(lambda: len(archived()) == 1, timeout=10, what="the answer archived")
        row = archived()[0]
        assert (row["code"], row["event_id"], row["counter"], row["via"]) == (
            ticket["code"], winner, 2, "status")
        with engine.connect() as connection:
            kinds = list(connection.scalars(sa.select(events.c.type).where(
                events.c.site == server_factory.site_id, events.c.type == "survey")))
        assert kinds == ["survey"]
    finally:
        engine.dispose()


async def test_a_screen_never_receives_the_survey_event(server_factory: Any) -> None:
    """A lobby TV connected live, and one that reconnects with `since` past the answer, get the
    events around it but not the survey event."""
    server: ServerProcess = server_factory()
    ticket = served(server.api, counter=1)
    async with websockets.connect(server.ws_url + "/ws/display") as ws:
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert snapshot["type"] == "snapshot"
        since = snapshot["event_id"]
        r = server.api.client.post(ticket["status_url"] + "/survey", json={"answers": GOOD})
        assert r.status_code == 201
        server.api.ticket("B")
        seen: list[dict[str, Any]] = []
        while not any(m.get("type") == "ticket" for m in seen):
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        assert [m["type"] for m in seen if m["type"] != "heartbeat"] == ["ticket"]
    async with websockets.connect(f"{server.ws_url}/ws/display?since={since}") as ws:
        replayed = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert replayed["type"] == "ticket"


async def test_the_answer_names_the_officer_who_finished_the_ticket(redis_url: str) -> None:
    """A ticket finished from an officer's PIN session: its survey event names that officer
    (the report's `--by officer`); one finished with the counter's token names none."""
    from conftest import WEDNESDAY_10AM, make_site

    from display_server.store import Store, connect

    site = make_site()
    client = connect(redis_url, pool_size=4, pool_timeout=5)
    store = Store(client, site, FakeClock(WEDNESDAY_10AM))
    try:
        first = await store.issue("A")
        second = await store.issue("A")
        await store.call(1, officer="budi")
        await store.act(1, "done", "completed", officer="budi")
        await store.call(1)
        await store.act(1, "done", "completed")
        with_officer = await store.rate(first["day"], first["code"], GOOD, None, via="status")
        without = await store.rate(second["day"], second["code"], GOOD, None, via="counter")
        named = [(await store.event(saved["event_id"]) or {}).get("officer")
                 for saved in (with_officer, without)]
        assert named == ["budi", None]
    finally:
        await client.aclose()
