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


MOVED_ON = frozenset({"done", "skip", "transfer"})


def track(current: dict[int, str | None], message: Any) -> None:
    """Keep `current` (counter → the ticket it serves, None when idle or paused) up to date
    from a snapshot or an event; other messages change nothing."""
    if not isinstance(message, dict):
        return
    kind, counter = message.get("type"), message.get("counter")
    if kind == "snapshot":
        current.clear()
        for row in message.get("counters") or ():
            if isinstance(row, dict) and isinstance(row.get("number"), int):
                ticket = row.get("ticket")
                serving = row.get("status") == "serving" and isinstance(ticket, dict)
                current[row["number"]] = str(ticket["code"]) if serving and ticket else None
    elif isinstance(counter, bool) or not isinstance(counter, int):
        return
    elif kind == "call" and isinstance(message.get("ticket"), str):
        current[counter] = message["ticket"]
    elif (kind in MOVED_ON and current.get(counter) == message.get("ticket")) or kind in (
            "pause", "resume"):
        current[counter] = None


def still_current(call: Announcement, current: dict[int, str | None]) -> bool:
    """True while the call's counter still serves its ticket (a counter the announcer has not
    seen yet counts as serving it: better said than lost)."""
    return current.get(call.counter, call.ticket) == call.ticket


@dataclass(frozen=True)
class Turn:
    """What one turn of the speaker does with the calls waiting for it."""

    speak: tuple[Announcement, ...] = ()   # said as one announcement, in event order
    also: tuple[Announcement, ...] = ()    # the same ticket and counter again (a recall behind
                                           # its call): counted as said with it
    dropped: tuple[tuple[Announcement, str], ...] = ()  # never said: "stale" or "moved_on"
    rest: tuple[Announcement, ...] = ()    # wait for the next turn, in order


def plan_turn(waiting: list[Announcement], current: dict[int, str | None], now: datetime,
              max_age_seconds: float, merge_max: int, salat: bool = False) -> Turn:
    """Which waiting calls the next announcement says (at most `merge_max`, merged into one
    sentence), which are dropped because they are too old, their counter has since called
    someone else, gone idle or paused, or `salat` pauses the announcements, and which wait."""
    keep: list[Announcement] = []
    also: list[Announcement] = []
    dropped: list[tuple[Announcement, str]] = []
    for call in waiting:
        if is_stale(call, now, max_age_seconds):
            dropped.append((call, "stale"))
        elif not still_current(call, current):
            dropped.append((call, "moved_on"))
        elif salat:
            dropped.append((call, "salat"))
        elif any(k.counter == call.counter and k.ticket == call.ticket for k in keep):
            also.append(call)
        else:
            keep.append(call)
    speak = tuple(keep[:merge_max])
    return Turn(speak=speak,
                also=tuple(a for a in also if any(a.counter == s.counter for s in speak)),
                dropped=tuple(dropped),
                rest=tuple(keep[merge_max:]) + tuple(
                    a for a in also if not any(a.counter == s.counter for s in speak)))


def salat_pause(papan: Any, now: datetime) -> str | None:
    """The prayer (its Indonesian name) whose announcement pause `now` falls in, from the
    server's `/display/papan` JSON, or None (no pause configured, or not now)."""
    prayer = papan.get("prayer") if isinstance(papan, dict) else None
    if not isinstance(prayer, dict) or prayer.get("pause") is not True:
        return None
    span, ms = prayer.get("pause_ms"), now.timestamp() * 1000
    for row in prayer.get("times") or ():
        start = row.get("ms") if isinstance(row, dict) else None
        if isinstance(start, int) and isinstance(span, int) and start <= ms < start + span:
            return str(row.get("name", ""))
    return None


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
