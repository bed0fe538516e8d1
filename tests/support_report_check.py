"""The visit report's figures computed straight from the raw events of a site's stream, with
its own plain logic (no archive, no report code): what the report tests compare against.

SPEC's rules as read here: a ticket's stay in one service is a leg (a transfer starts the next);
`issued` counts once per ticket, where it was taken (no counter issues anything); `called`
counts each leg that was called, where (service, counter) it was first called; an outcome
counts in the leg and at the counter where it happened; `served` = completed + not_completed; a
skipped ticket that is not put back is a `no_show`. Wait = the ticket's first call − its issue,
counted where that first call happened; service = done − the first call at the counter that
finished it, within that leg. Seconds are whole (rounded down); p50/p90 are nearest-rank."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from display_server.config import SiteConfig

COUNTS = ("issued", "called", "completed", "not_completed", "no_show", "transferred")


@dataclass
class Leg:
    service: str
    calls: list[tuple[int, int]] = field(default_factory=list)  # (counter, ms)
    outcome: str | None = None
    counter: int | None = None  # where the outcome happened
    ms: int = 0                 # when


@dataclass
class Ticket:
    day: str
    issued_ms: int
    legs: list[Leg]


def _ms(event: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(event["at"]).timestamp() * 1000)


def tickets(events: list[dict[str, Any]]) -> dict[tuple[str, str], Ticket]:
    """Every ticket's legs from the stream's events, in stream order."""
    found: dict[tuple[str, str], Ticket] = {}
    current: dict[int, tuple[str, str]] = {}  # counter -> the ticket it holds

    def end(key: tuple[str, str], outcome: str | None, counter: int, ms: int) -> None:
        leg = found[key].legs[-1]
        leg.outcome, leg.counter, leg.ms = outcome, counter, ms

    for event in events:
        kind, ms = event["type"], _ms(event)
        counter: int = event.get("counter", 0)
        if kind == "ticket":
            key = (event["at"][:10], event["ticket"])
            found[key] = Ticket(key[0], ms, [Leg(event["service"])])
            continue
        if kind in ("pause", "resume"):
            continue
        key = (event.get("ticket_day") or event["at"][:10], event["ticket"])
        if kind == "call":
            if event.get("completed"):
                end(current.pop(counter), "completed", counter, ms)
            found[key].legs[-1].calls.append((counter, ms))
            current[counter] = key
        elif kind == "done":
            end(key, event["outcome"], counter, ms)
            current.pop(counter)
        elif kind == "skip":
            end(key, "no_show", counter, ms)
            current.pop(counter)
        elif kind == "restore":
            end(key, None, counter, ms)
        elif kind == "transfer":
            end(key, "transferred", counter, ms)
            current.pop(counter)
            found[key].legs.append(Leg(event["service"]))
    return found


def _nearest_rank(values: list[int], percent: int) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]


class Group:
    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNTS, 0)
        self.waits: list[int] = []
        self.services: list[int] = []

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.counts)
        out["served"] = self.counts["completed"] + self.counts["not_completed"]
        out["wait_p50_s"] = _nearest_rank(self.waits, 50)
        out["wait_p90_s"] = _nearest_rank(self.waits, 90)
        out["wait_max_s"] = max(self.waits, default=None)
        out["service_p50_s"] = _nearest_rank(self.services, 50)
        out["service_p90_s"] = _nearest_rank(self.services, 90)
        return out


def expected(events: list[dict[str, Any]], site: SiteConfig, first: str, last: str,
             by: str) -> dict[str, Any]:
    """{"rows": {key: figures}, "total": figures} of tickets of days first..last (ISO), keyed
    as the report keys its rows (service code, tenant id, counter number, day, month)."""
    tenant = {s.code: s.tenant for s in site.services}
    groups: dict[str, Group] = defaultdict(Group)
    whole = Group()

    def key(ticket: Ticket, service: str, counter: int | None) -> str | None:
        return {"service": service, "tenant": tenant[service], "day": ticket.day,
                "month": ticket.day[:7],
                "counter": None if counter is None else str(counter),
                "officer": None}[by]  # the simulation's officers use tokens: no officer rows

    def count(ticket: Ticket, service: str, counter: int | None, what: str,
              seconds: int | None = None) -> None:
        k = key(ticket, service, counter)
        targets = [whole] if k is None else [whole, groups[k]]
        for group in targets:
            if what in ("wait", "service"):
                assert seconds is not None
                (group.waits if what == "wait" else group.services).append(seconds)
            else:
                group.counts[what] += 1

    for ticket in tickets(events).values():
        if not first <= ticket.day <= last:
            continue
        origin = ticket.legs[0].service
        count(ticket, origin, None, "issued")
        for i, leg in enumerate(ticket.legs):
            if leg.calls:
                by_counter, first_ms = leg.calls[0]
                count(ticket, leg.service, by_counter, "called")
                if i == 0:
                    count(ticket, origin, by_counter, "wait",
                          (first_ms - ticket.issued_ms) // 1000)
            if leg.outcome is not None:
                count(ticket, leg.service, leg.counter, leg.outcome)
            if leg.outcome in ("completed", "not_completed"):
                called = min(ms for c, ms in leg.calls if c == leg.counter)
                count(ticket, leg.service, leg.counter, "service", (leg.ms - called) // 1000)
    return {"rows": {k: g.figures() for k, g in groups.items()}, "total": whole.figures()}
