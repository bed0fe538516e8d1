"""Ticket numbers restart at local midnight in the site's timezone, not at UTC midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import MIDNIGHT_MARGIN_S, Api, FakeClock, midnight_wait, seconds_to_site_midnight


def test_numbering_restarts_after_local_midnight_not_utc(api: Api, clock: FakeClock) -> None:
    """23:59 WIB → A001, A002; 00:00 WIB → A001 again; 07:00 WIB (UTC midnight) → A002."""
    clock.now = datetime(2026, 11, 25, 16, 59, tzinfo=UTC)  # 23:59 WIB
    assert [api.issue("A").json()["code"] for _ in range(2)] == ["A001", "A002"]
    clock.advance(minutes=1)  # 00:00 WIB, 17:00 UTC: a new local day
    first = api.issue("A").json()
    assert first["code"] == "A001" and first["issued_at"].startswith("2026-11-26T00:00")
    clock.now = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # UTC midnight = 07:00 WIB, same day
    assert api.issue("A").json()["code"] == "A002"


def test_yesterdays_waiting_tickets_are_not_called_today(api: Api, clock: FakeClock) -> None:
    """Leftover tickets of a closed day stay in that day's records; today starts empty."""
    ticket = api.issue("A").json()
    clock.advance(days=1)
    assert api.act(1, "call-next").json() == {"ticket": None}
    assert api.client.get("/api/state").json()["waiting"]["A"] == 0
    yesterday = api.status(ticket).json()
    assert yesterday["status"] == "waiting"


def test_a_ticket_called_before_midnight_can_be_finished_after(api: Api,
                                                               clock: FakeClock) -> None:
    """An officer finishing yesterday's last visitor after midnight is not refused."""
    clock.now = datetime(2026, 11, 25, 16, 55, tzinfo=UTC)  # 23:55 WIB
    api.issue("A")
    api.act(1, "call-next")
    clock.advance(minutes=10)
    assert api.act(1, "done").json()["ticket"]["status"] == "served"


def test_the_tests_wait_out_the_sites_midnight_not_utcs() -> None:
    """The conftest guard (clear_of_site_midnight) measures to midnight WIB, 17:00 UTC: a
    second before it at 16:59:59 UTC, a whole day at 17:00:00, seven hours at UTC midnight."""
    assert seconds_to_site_midnight(datetime(2026, 11, 25, 16, 59, 59, tzinfo=UTC)) == 1
    assert seconds_to_site_midnight(datetime(2026, 11, 25, 17, 0, tzinfo=UTC)) == 86400
    assert seconds_to_site_midnight(datetime(2026, 11, 26, 0, 0, tzinfo=UTC)) == 17 * 3600


def test_only_a_test_starting_in_the_sites_last_minutes_waits_and_into_the_new_day() -> None:
    """The guard waits only inside the margin before 17:00 UTC, and then until a second past
    midnight WIB; never at UTC midnight or any other hour."""
    midnight = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    assert midnight_wait(midnight - timedelta(seconds=MIDNIGHT_MARGIN_S + 1)) == 0
    assert midnight_wait(midnight - timedelta(seconds=MIDNIGHT_MARGIN_S - 1)) == \
        MIDNIGHT_MARGIN_S
    assert midnight_wait(midnight - timedelta(seconds=0.5)) == 1.5
    for hour in range(24):
        if hour != 16:
            assert midnight_wait(datetime(2026, 11, 25, hour, 59, 59, tzinfo=UTC)) == 0, hour
