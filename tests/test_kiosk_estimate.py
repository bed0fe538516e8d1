"""The waiting-time estimate a visitor reads on the kiosk ticket and the status page: today's mean
service time of the service (5 minutes until one is known, never under 2) for each person
ahead, shared among the counters that serve it."""

from __future__ import annotations

import pytest
from conftest import Api, FakeClock, make_site

from display_server.config import SiteConfig


@pytest.fixture(params=[1, 4], ids=["one-counter", "four-counters"])
def site(request: pytest.FixtureRequest) -> SiteConfig:
    """The test site with one counter or four, each serving A."""
    return make_site(counters=request.param)


def estimates(web: Api, tickets: list[dict[str, object]]) -> dict[int, int]:
    """{people ahead: estimated minutes} as the status of each waiting ticket shows them now."""
    shown = [web.client.get(f"{t['status_url']}/status").json() for t in tickets]
    return {s["ahead"]: s["estimate_min"] for s in shown if s["status"] == "waiting"}


def expected(web: Api, one_counter: dict[int, int],
             four_counters: dict[int, int]) -> dict[int, int]:
    return one_counter if len(web.site.counters) == 1 else four_counters


def serve(web: Api, clock: FakeClock, counter: int, minutes: float) -> None:
    """`counter` calls the next visitor and finishes after `minutes`."""
    assert web.act(counter, "call-next").status_code == 200
    clock.advance(minutes=minutes)
    assert web.act(counter, "done", {"outcome": "completed"}).status_code == 200


def test_before_anyone_is_served_each_person_ahead_counts_five_minutes(web: Api) -> None:
    tickets = [web.issue("A").json() for _ in range(5)]
    assert estimates(web, tickets) == expected(web, {0: 0, 1: 5, 2: 10, 3: 15, 4: 20},
                                               {0: 0, 1: 2, 2: 3, 3: 4, 4: 5})  # rounded up


def test_the_mean_of_todays_service_times_is_used(web: Api, clock: FakeClock) -> None:
    tickets = [web.issue("A").json() for _ in range(7)]
    serve(web, clock, 1, minutes=12)
    serve(web, clock, 1, minutes=4)  # a mean of 8 minutes
    assert estimates(web, tickets) == expected(web, {0: 0, 1: 8, 2: 16, 3: 24, 4: 32},
                                               {0: 0, 1: 2, 2: 4, 3: 6, 4: 8})


def test_a_quick_service_still_counts_two_minutes_a_person(web: Api, clock: FakeClock) -> None:
    tickets = [web.issue("A").json() for _ in range(6)]
    serve(web, clock, 1, minutes=0.5)
    assert estimates(web, tickets) == expected(web, {0: 0, 1: 2, 2: 4, 3: 6, 4: 8},
                                               {0: 0, 1: 1, 2: 1, 3: 2, 4: 2})  # at least 1


def test_another_services_times_do_not_count(web: Api, clock: FakeClock) -> None:
    web.issue("B")
    serve(web, clock, 1, minutes=30)  # counter 1 serves A first; with no A waiting, B001
    tickets = [web.issue("A").json() for _ in range(2)]
    assert estimates(web, tickets) == expected(web, {0: 0, 1: 5}, {0: 0, 1: 2})
