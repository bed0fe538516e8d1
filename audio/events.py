"""What the announcer makes of the server's WebSocket messages (pure; no I/O)."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from protocol.event_ids import is_event_id
from texts import t

ANNOUNCED = frozenset({"call", "recall"})
_SCREEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_NOT_SCREEN_CHARS = re.compile(r"[^A-Za-z0-9._:-]")


@dataclass(frozen=True)
class Announcement:
    """One call or recall to be spoken."""

    event_id: str
    kind: str
    ticket: str
    counter: int
    service: str | None
    at: datetime | None


def announcement_of(message: Any) -> Announcement | None:
    """The announcement a message asks for: a call or recall with a ticket and counter.

    Other messages (snapshots, heartbeats, other events) give None. A call whose
    fields are malformed also gives None; its ``at`` may be missing or unparsable
    (then None: its age is unknown).
    """
    if not isinstance(message, dict) or message.get("type") not in ANNOUNCED:
        return None
    event_id = message.get("event_id")
    ticket, counter, service = (message.get(k) for k in ("ticket", "counter", "service"))
    if not (isinstance(event_id, str) and is_event_id(event_id)) or not isinstance(ticket, str):
        return None
    if isinstance(counter, bool) or not isinstance(counter, int):
        return None
    return Announcement(
        event_id=event_id,
        kind=message["type"],
        ticket=ticket,
        counter=counter,
        service=service if isinstance(service, str) else None,
        at=_timestamp(message.get("at")),
    )


def is_stale(announcement: Announcement, now: datetime, max_age_seconds: float) -> bool:
    """True if the announcement is older than ``max_age_seconds`` at ``now`` (aware).

    An announcement of unknown age is fresh: better late than lost.
    """
    if announcement.at is None:
        return False
    return (now - announcement.at).total_seconds() > max_age_seconds


def screen_name(hostname: str | None = None) -> str:
    """The name the announcer reports plays under: "announcer-<hostname>", ≤ 64 safe chars."""
    host = _NOT_SCREEN_CHARS.sub("-", hostname if hostname is not None else socket.gethostname())
    return f"announcer-{host}"[:64]


def check_screen(name: str) -> str:
    """Return ``name`` if the server accepts it as a screen name, else raise ValueError."""
    if not _SCREEN.fullmatch(name):
        raise ValueError(t("audio.bad_screen", name=name))
    return name


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
