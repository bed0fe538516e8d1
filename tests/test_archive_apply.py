"""The archive's visit and leg rows after each kind of event (display_server.archive.apply)."""

from __future__ import annotations

from typing import Any

from display_server.archive.apply import Changes, Row, apply, split

TENANTS = {"A": "samsat", "B": "capil"}
DAY = "2026-11-25"


def at(minute: int) -> str:
    return f"{DAY}T10:{minute:02d}:00.000+07:00"


def ms(minute: int) -> int:
    return 1795575600000 + minute * 60_000  # 2026-11-25 10:00 WIB


def run(*events: dict[str, Any]) -> tuple[Row | None, list[Row]]:
    """The rows after `events`, in order, from nothing."""
    visit: Row | None = None
    legs: list[Row] = []
    for event in events:
        for part in split(event):
            changes = apply(part, visit, legs, TENANTS)
            if changes.visit is not None:
                visit = changes.visit
                by_leg = {leg["leg"]: leg for leg in [*legs, *changes.legs]}
                legs = [by_leg[n] for n in sorted(by_leg)]
    return visit, legs


ISSUE = {"type": "ticket", "ticket": "A001", "service": "A", "priority": "", "at": at(0)}


def call(minute: int, counter: int = 2, service: str = "A", **extra: Any) -> dict[str, Any]:
    return {"type": "call", "ticket": "A001", "ticket_day": DAY, "service": service,
            "counter": counter, "priority": "", "at": at(minute), **extra}


def act(kind: str, minute: int, counter: int = 2, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "ticket": "A001", "ticket_day": DAY, "service": "A",
            "counter": counter, "at": at(minute), **extra}


def test_ticket_opens_a_visit_and_its_first_leg_in_the_service_and_tenant_it_was_issued() -> None:
    visit, legs = run(dict(ISSUE, priority="lansia"))
    assert visit is not None
    assert (visit["day"], visit["code"], visit["service"], visit["tenant"]) \
        == (DAY, "A001", "A", "samsat")
    assert (visit["priority"], visit["issued_ms"], visit["outcome"], visit["first_call_ms"]) \
        == ("lansia", ms(0), None, None)
    assert [(leg["leg"], leg["service"], leg["enqueued_ms"], leg["outcome"]) for leg in legs] \
        == [(0, "A", ms(0), None)]


def test_call_recall_done_record_first_call_counter_recalls_and_outcome() -> None:
    visit, legs = run(ISSUE, call(3), act("recall", 4, calls=2), act("recall", 5, calls=3),
                      act("done", 9, outcome="not_completed"))
    assert visit is not None
    assert (visit["first_call_ms"], visit["first_counter"], visit["recalls"],
            visit["final_counter"], visit["outcome"], visit["finished_ms"]) \
        == (ms(3), 2, 2, 2, "not_completed", ms(9))
    assert (legs[0]["first_call_ms"], legs[0]["counter"], legs[0]["called_ms_at_counter"],
            legs[0]["outcome"], legs[0]["finished_ms"]) == (ms(3), 2, ms(3), "not_completed", ms(9))


def test_skip_is_a_no_show_and_restore_puts_it_back_open_keeping_its_first_call() -> None:
    visit, legs = run(ISSUE, call(3), act("skip", 4))
    assert visit is not None and (visit["outcome"], visit["finished_ms"]) == ("no_show", ms(4))
    assert legs[0]["outcome"] == "no_show"
    visit, legs = run(ISSUE, call(3), act("skip", 4), act("restore", 6, counter=3),
                      call(7, counter=3), act("done", 12, counter=3, outcome="completed"))
    assert visit is not None
    assert (visit["first_call_ms"], visit["first_counter"], visit["final_counter"],
            visit["outcome"]) == (ms(3), 2, 3, "completed")
    # the service time is measured at the counter that served it, from its call there
    assert (legs[0]["first_call_ms"], legs[0]["counter"], legs[0]["called_ms_at_counter"]) \
        == (ms(3), 3, ms(7))


def test_transfer_ends_the_leg_as_transferred_and_opens_one_in_the_new_service() -> None:
    transfer = act("transfer", 5, **{"from": "A"})
    transfer["service"] = "B"
    visit, legs = run(ISSUE, call(3), transfer, call(8, counter=4, service="B"),
                      act("done", 10, counter=4, outcome="completed"))
    assert visit is not None
    assert (visit["service"], visit["final_service"], visit["transfers"], visit["first_call_ms"],
            visit["first_counter"], visit["final_counter"], visit["outcome"]) \
        == ("A", "B", 1, ms(3), 2, 4, "completed")
    assert [(leg["leg"], leg["service"], leg["tenant"], leg["enqueued_ms"], leg["first_call_ms"],
             leg["counter"], leg["outcome"], leg["finished_ms"]) for leg in legs] == [
        (0, "A", "samsat", ms(0), ms(3), 2, "transferred", ms(5)),
        (1, "B", "capil", ms(5), ms(8), 4, "completed", ms(10)),
    ]


def test_a_call_that_completed_the_previous_ticket_is_its_done_then_the_call() -> None:
    event = call(6, completed="A000")
    assert split(event) == [
        {"type": "done", "ticket": "A000", "counter": 2, "outcome": "completed", "at": at(6)},
        {k: v for k, v in event.items() if k != "completed"},
    ]
    previous = run(dict(ISSUE, ticket="A000"), dict(call(1), ticket="A000"))[0]
    assert previous is not None
    done = apply(split(event)[0], previous, [], TENANTS)
    assert done == Changes()  # without its legs nothing is known to change
    visit, _ = run(dict(ISSUE, ticket="A000"), dict(call(1), ticket="A000"),
                   dict(split(event)[0]))
    assert visit is not None and (visit["outcome"], visit["finished_ms"]) == ("completed", ms(6))


def test_events_of_a_ticket_the_archive_never_saw_change_nothing_and_a_second_ticket_event_too(
) -> None:
    assert apply(call(3), None, [], TENANTS) == Changes()
    visit, legs = run(ISSUE)
    assert apply(ISSUE, visit, legs, TENANTS) == Changes()
