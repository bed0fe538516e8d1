"""The announcer's reading of server messages: which calls to speak, and its screen name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from audio.events import Announcement, announcement_of, check_screen, is_stale, screen_name

WIB = timezone(timedelta(hours=7))


def call(event_id: str, kind: str = "call", **fields: object) -> dict[str, object]:
    return {"type": kind, "event_id": event_id, "ticket": "A001", "service": "A", "counter": 5,
            "at": "2026-11-25T10:00:00+07:00", **fields}


def test_calls_and_recalls_become_announcements() -> None:
    """A call or recall gives its ticket, counter, service and aware time."""
    assert announcement_of(call("1-0")) == Announcement(
        "1-0", "call", "A001", 5, "A", datetime(2026, 11, 25, 10, tzinfo=WIB)
    )
    assert announcement_of(call("2-0", "recall")).kind == "recall"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "message",
    [
        {"type": "heartbeat", "at": "2026-11-25T10:00:00+07:00"},
        {"type": "snapshot", "event_id": "5-0", "recent": [call("4-0")]},
        call("1-0", "done"),
        call("1-0", "ticket"),
        call("x"),
        call("1-0", ticket=None),
        call("1-0", counter="5"),
        call("1-0", counter=True),
        [call("1-0")],
        "call",
    ],
)
def test_other_messages_are_not_announced(message: object) -> None:
    """Heartbeats, snapshots, other events and malformed calls announce nothing."""
    assert announcement_of(message) is None


def test_bad_or_naive_times_mean_unknown_age() -> None:
    """A call without a usable offset-aware time is kept, with unknown age."""
    for at in (None, "yesterday", "2026-11-25T10:00:00", 5):
        found = announcement_of(call("1-0", at=at))
        assert found is not None and found.at is None
        assert not is_stale(found, datetime.now(UTC), 1)


def test_staleness() -> None:
    """A call is stale only when strictly older than the limit, across time zones."""
    found = announcement_of(call("1-0"))
    assert found is not None
    made = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert not is_stale(found, made + timedelta(seconds=120), 120)
    assert is_stale(found, made + timedelta(seconds=120.5), 120)
    assert not is_stale(found, made - timedelta(seconds=5), 120)


def test_screen_names() -> None:
    """The default screen name is safe for the server; bad explicit names are refused."""
    assert screen_name("kiosk 1.mpp") == "announcer-kiosk-1.mpp"
    assert len(screen_name("x" * 100)) == 64
    assert check_screen(screen_name()) == screen_name()
    with pytest.raises(ValueError, match="nama layar 'lobby tv' tidak sah"):
        check_screen("lobby tv")
