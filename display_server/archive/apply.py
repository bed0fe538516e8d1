"""What one event changes in the archive's visit and leg rows: pure functions, no database.

A visit is one ticket's whole life (`visits`); a leg is its time in one service's queue
(`legs`: leg 0 where it was issued, one more per transfer). `apply` takes the rows as they are
and returns the rows as they must be after the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Row = dict[str, Any]
TICKET_EVENTS = frozenset({"ticket", "call", "recall", "skip", "restore", "done", "transfer"})


@dataclass
class Changes:
    """The visit row after the event (None: no change) and the leg rows it changed or added."""

    visit: Row | None = None
    legs: list[Row] = field(default_factory=list)


def event_ms(event: Mapping[str, Any]) -> int:
    """When the event happened (its `at`, the server's clock), in epoch milliseconds."""
    return int(datetime.fromisoformat(str(event["at"])).timestamp() * 1000)


def event_day(event: Mapping[str, Any]) -> str:
    """The day of the event's ticket: `ticket_day`, else the local day of `at`."""
    return str(event.get("ticket_day") or str(event["at"])[:10])


def split(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The event as ticket changes in order: a call that finished the counter's previous ticket
    (`completed`) is first a `done` of that ticket, then the call."""
    if event.get("type") == "call" and event.get("completed"):
        done = {"type": "done", "ticket": event["completed"], "counter": event["counter"],
                "outcome": "completed", "at": event["at"]}
        if event.get("officer"):
            done["officer"] = event["officer"]
        call = {k: v for k, v in event.items() if k != "completed"}
        return [done, call]
    return [dict(event)]


def apply(event: Mapping[str, Any], visit: Row | None, legs: list[Row],
          tenant_of: Mapping[str, str]) -> Changes:
    """The rows after `event` (one ticket change, see `split`), given the visit row of its
    ticket (None if not archived yet) and its legs in order. An event about a ticket the archive
    does not know (issued before the archive began) changes nothing."""
    kind, ms = event.get("type"), event_ms(event)
    if kind == "ticket":
        if visit is not None:
            return Changes()
        service = str(event["service"])
        tenant = tenant_of.get(service, "")
        day = event_day(event)
        code = str(event["ticket"])
        return Changes(
            {"day": day, "code": code, "service": service, "tenant": tenant,
             "priority": str(event.get("priority") or ""), "issued_ms": ms,
             "first_call_ms": None, "first_counter": None, "recalls": 0, "transfers": 0,
             "final_service": service, "final_counter": None, "outcome": None,
             "finished_ms": None, "officer": None},
            [{"day": day, "code": code, "leg": 0, "service": service, "tenant": tenant,
              "enqueued_ms": ms, "first_call_ms": None, "counter": None,
              "called_ms_at_counter": None, "outcome": None, "finished_ms": None}])
    if visit is None or not legs or kind not in TICKET_EVENTS:
        return Changes()
    v, leg = dict(visit), dict(legs[-1])
    counter = event.get("counter")
    if kind == "call":
        if v["first_call_ms"] is None:
            v["first_call_ms"], v["first_counter"] = ms, counter
        if leg["first_call_ms"] is None:
            leg["first_call_ms"] = ms
        if leg["counter"] != counter:  # the counter that serves it: first call there
            leg["counter"], leg["called_ms_at_counter"] = counter, ms
        v["final_counter"] = counter
        v["officer"] = event.get("officer") or None  # who serves it now (None: a token)
    elif kind == "recall":
        v["recalls"] += 1
    elif kind in ("skip", "done"):
        outcome = "no_show" if kind == "skip" else str(event["outcome"])
        v["outcome"] = leg["outcome"] = outcome
        v["finished_ms"] = leg["finished_ms"] = ms
        v["final_counter"] = counter
        if event.get("officer"):
            v["officer"] = event["officer"]
    elif kind == "restore":
        v["outcome"] = v["finished_ms"] = leg["outcome"] = leg["finished_ms"] = None
    elif kind == "transfer":
        service = str(event["service"])
        leg["outcome"], leg["finished_ms"] = "transferred", ms
        v["transfers"] += 1
        v["final_service"] = service
        nxt = {"day": leg["day"], "code": leg["code"], "leg": leg["leg"] + 1,
               "service": service, "tenant": tenant_of.get(service, ""), "enqueued_ms": ms,
               "first_call_ms": None, "counter": None, "called_ms_at_counter": None,
               "outcome": None, "finished_ms": None}
        return Changes(v, [leg, nxt])
    return Changes(v, [leg])


PROFILE_FIELDS = ("gender", "age", "education", "occupation")


def survey_row(event_id: str, event: Mapping[str, Any]) -> Row | None:
    """The `survey_responses` row of a `survey` event (None for any other event, or one
    without its nine answers)."""
    answers = event.get("answers")
    if event.get("type") != "survey" or not isinstance(answers, list) or len(answers) != 9:
        return None
    profile = event.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    counter = event.get("counter")
    return {"day": event_day(event), "code": str(event["ticket"]), "event_id": event_id,
            "ms": event_ms(event), "service": str(event.get("service") or ""),
            "tenant": str(event.get("tenant") or ""),
            "counter": counter if isinstance(counter, int) else None,
            "officer": event.get("officer") or None, "via": str(event.get("via") or ""),
            **{f"u{n}": int(a) for n, a in enumerate(answers, start=1)},
            **{name: profile.get(name) or None for name in PROFILE_FIELDS}}
