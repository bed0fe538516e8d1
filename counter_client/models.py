"""Typed results of the counter API, parsed from the server's JSON (a KeyError or TypeError
while parsing means the answer is not antrian's; the client turns it into NotAntrian)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from protocol.counter_actions import ACTIONS, ARGUMENT_FIELDS, OUTCOMES, REQUIRES_ARGUMENT


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Press:
    """One counter action as the officer asked for it, with the request id that makes sending
    it again harmless. Keep the Press to retry it; never build a new one for the same press."""

    action: str
    argument: str | None = None
    request_id: str = field(default_factory=new_request_id)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown counter action {self.action!r}; expected one of {ACTIONS}")
        needs = self.action in REQUIRES_ARGUMENT
        if needs and not self.argument:
            raise ValueError(f"{self.action} needs {ARGUMENT_FIELDS[self.action]}")
        if self.argument is not None and self.action not in ARGUMENT_FIELDS:
            raise ValueError(f"{self.action} takes no argument")
        if self.action == "done" and self.argument not in (None, *OUTCOMES):
            raise ValueError(f"outcome must be one of {OUTCOMES}")

    def body(self) -> dict[str, str]:
        out = {"request_id": self.request_id}
        if self.argument is not None:
            out[ARGUMENT_FIELDS[self.action]] = self.argument
        return out


@dataclass(frozen=True)
class Ticket:
    """A ticket as actions answer it."""

    code: str
    service: str
    seq: int
    day: str
    status: str
    priority: str
    issued_at: str
    counter: int | None
    origin: str
    calls: int

    @classmethod
    def parse(cls, d: dict[str, Any]) -> Ticket:
        return cls(code=str(d["code"]), service=str(d["service"]), seq=int(d["seq"]),
                   day=str(d["day"]), status=str(d["status"]), priority=d.get("priority") or "",
                   issued_at=str(d["issued_at"]), counter=d.get("counter"),
                   origin=d.get("origin") or str(d["service"]), calls=int(d.get("calls") or 0))


@dataclass(frozen=True)
class ActionResult:
    """The answer to a counter action: the ticket it concerned (None when call-next found
    nobody waiting, and for pause/resume), the event it caused, the counter's status after it."""

    ticket: Ticket | None
    event_id: str | None
    status: str | None
    request_id: str

    @classmethod
    def parse(cls, d: dict[str, Any], request_id: str) -> ActionResult:
        raw = d["ticket"]
        return cls(ticket=None if raw is None else Ticket.parse(raw), event_id=d.get("event_id"),
                   status=d.get("status"), request_id=request_id)


@dataclass(frozen=True)
class WaitingTicket:
    """One entry of GET /api/counters/{n}/waiting."""

    code: str
    service: str
    priority: str
    issued_at: str
    origin: str

    @classmethod
    def parse(cls, d: dict[str, Any]) -> WaitingTicket:
        return cls(code=str(d["code"]), service=str(d["service"]), priority=d.get("priority") or "",
                   issued_at=str(d["issued_at"]), origin=d.get("origin") or str(d["service"]))


@dataclass(frozen=True)
class Service:
    """A service of the snapshot, with its agency (tenant): id and name, when the server says."""

    code: str
    name: str
    open: bool
    waiting: int
    tenant: str = ""
    tenant_name: str = ""

    @classmethod
    def parse(cls, d: dict[str, Any]) -> Service:
        tenant = str(d.get("tenant") or "")
        return cls(code=str(d["code"]), name=str(d["name"]), open=bool(d.get("open", True)),
                   waiting=int(d.get("waiting") or 0), tenant=tenant,
                   tenant_name=str(d.get("tenant_name") or tenant))


@dataclass(frozen=True)
class CounterInfo:
    """A counter in the snapshot: its services, status and current ticket (raw dict, with
    `code`, `service`, `calls`, `called_ms`)."""

    number: int
    name: str
    services: tuple[str, ...]
    status: str
    reason: str | None
    ticket: dict[str, Any] | None

    @classmethod
    def parse(cls, d: dict[str, Any]) -> CounterInfo:
        return cls(number=int(d["number"]), name=str(d.get("name") or ""),
                   services=tuple(d["services"]), status=str(d["status"]), reason=d.get("reason"),
                   ticket=d.get("ticket"))


@dataclass(frozen=True)
class Snapshot:
    """GET /api/state, and the first message of the display WebSocket."""

    site_name: str
    now: str
    counters: tuple[CounterInfo, ...]
    services: tuple[Service, ...]
    waiting: dict[str, int]
    event_id: str
    timezone: str = ""  # the site's IANA zone ("Asia/Jakarta"); empty from an older server

    @classmethod
    def parse(cls, d: dict[str, Any]) -> Snapshot:
        return cls(site_name=str(d["site"]["name"]), now=str(d["now"]),
                   counters=tuple(CounterInfo.parse(c) for c in d["counters"]),
                   services=tuple(Service.parse(s) for s in d["services"]),
                   waiting={str(k): int(v) for k, v in d["waiting"].items()},
                   event_id=str(d["event_id"]),
                   timezone=str(d["site"].get("timezone") or ""))

    def counter(self, number: int) -> CounterInfo | None:
        return next((c for c in self.counters if c.number == number), None)


@dataclass(frozen=True)
class OfficerSession:
    """An officer's PIN sign-in at a counter: who, and for how long (seconds) it lasts."""

    officer: str
    name: str
    counter: int
    expires_in: int

    @classmethod
    def parse(cls, d: dict[str, Any]) -> OfficerSession:
        officer = d["officer"]
        return cls(str(officer["id"]), str(officer["name"]), int(d["counter"]),
                   int(d["expires_in"]))
