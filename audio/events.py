"""What the announcer makes of the server's WebSocket messages (pure; no I/O)."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from protocol.event_ids import event_key, is_event_id

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


def event_id_of(message: Any) -> str | None:
    """The valid ``event_id`` of a message (snapshot or event), else None."""
    event_id = message.get("event_id") if isinstance(message, dict) else None
    return event_id if is_event_id(event_id) else None


def announcement_of(message: Any) -> Announcement | None:
    """The announcement a message asks for: a call or recall with a ticket and counter.

    Other messages (snapshots, heartbeats, other events) give None. A call whose
    fields are malformed also gives None; its ``at`` may be missing or unparsable
    (then None: its age is unknown).
    """
    if not isinstance(message, dict) or message.get("type") not in ANNOUNCED:
        return None
    event_id = event_id_of(message)
    ticket, counter, service = (message.get(k) for k in ("ticket", "counter", "service"))
    if event_id is None or not isinstance(ticket, str):
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


@dataclass
class Cursor:
    """Where the announcer is in the server's event stream: the last event id it took."""

    since: str | None = None

    def take(self, message: Any) -> Announcement | None:
        """Move past ``message``; return its announcement if it is a call or recall not seen yet.

        Messages without a valid event id (heartbeats, errors) change nothing. A
        snapshot only moves the cursor: the calls it lists were announced before.
        """
        event_id = event_id_of(message)
        if event_id is None:
            return None
        if self.since is not None and event_key(event_id) <= event_key(self.since):
            return None
        self.since = event_id
        return announcement_of(message)


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
        raise ValueError(f"bad screen name {name!r}: expected 1-64 of A-Z a-z 0-9 . _ : -")
    return name


def display_url(server: str, since: str | None) -> str:
    """The WebSocket URL of the display stream for a server's base URL (http, https, ws, wss)."""
    base = server.rstrip("/")
    for http, ws in (("http://", "ws://"), ("https://", "wss://")):
        if base.startswith(http):
            base = ws + base[len(http) :]
    if not base.startswith(("ws://", "wss://")):
        raise ValueError(f"bad server URL {server!r}: expected http(s)://host:port")
    return f"{base}/ws/display" + (f"?since={since}" if since else "")


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
