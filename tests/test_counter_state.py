"""counter_client.state: the screen's state from snapshots, events and answers, in any order."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from counter_client.models import ActionResult, Press, Snapshot, Ticket
from counter_client.state import CounterView

NOW = 1_795_000_000.0  # the local clock in these tests: a day or so off the server's
SERVER_NOW = "2026-11-20T10:00:00+07:00"


def snapshot(**counter: Any) -> Snapshot:
    entry = {"number": 1, "name": "", "services": ["A", "B"], "status": "idle", "reason": None,
             "ticket": None, **counter}
    return Snapshot.parse({
        "site": {"name": "MPP Uji"}, "now": SERVER_NOW, "counters": [entry],
        "services": [{"code": "A", "name": "STNK", "open": True, "waiting": 2},
                     {"code": "B", "name": "KTP", "open": False, "waiting": 0}],
        "waiting": {"A": 2, "B": 0}, "event_id": "100-0",
    })


def ticket(code: str = "A001", **extra: Any) -> Ticket:
    return Ticket.parse({"code": code, "service": "A", "seq": 1, "day": "2026-11-20",
                         "status": "called", "issued_at": "x", "counter": 1, "calls": 1, **extra})


def test_snapshot_sets_services_waiting_and_served_time_across_clock_skew() -> None:
    """The served time counts from the server's call time, corrected for the clock skew."""
    server_now_ms = int(datetime.fromisoformat(SERVER_NOW).timestamp() * 1000)
    view = CounterView(1)
    view.apply_snapshot(snapshot(status="serving", ticket={
        "code": "A001", "service": "A", "calls": 2, "called_ms": server_now_ms - 90_000}), NOW)
    assert view.services == ("A", "B") and view.waiting == {"A": 2, "B": 0}
    assert view.open_services == frozenset({"A"})
    assert view.current is not None and view.current.calls == 2
    assert view.served_seconds(NOW + 5) == 95


def test_events_of_other_counters_only_change_waiting_counts() -> None:
    view = CounterView(1)
    view.apply_snapshot(snapshot(), NOW)
    view.apply_event({"type": "call", "event_id": "101-0", "counter": 2, "ticket": "A001",
                      "service": "A", "at": "2026-11-20T10:00:01+07:00", "waiting": {"A": 1}},
                     NOW)
    assert view.current is None and view.waiting["A"] == 1


def test_an_answer_older_than_the_events_already_shown_is_not_applied() -> None:
    """The call event (and a later skip from the web console) arrived before our answer."""
    view = CounterView(1)
    view.apply_snapshot(snapshot(), NOW)
    at = "2026-11-20T10:00:01+07:00"
    view.apply_event({"type": "call", "event_id": "101-0", "counter": 1, "ticket": "A001",
                      "service": "A", "at": at}, NOW)
    view.apply_event({"type": "skip", "event_id": "102-0", "counter": 1, "ticket": "A001",
                      "service": "A", "at": at}, NOW)
    line = view.apply_result(Press("call-next"), ActionResult(ticket(), "101-0", None, "r"), NOW)
    assert line == "Memanggil A001"
    assert view.current is None and view.status == "idle"


def test_an_answer_before_its_event_is_applied_and_the_event_then_ignored() -> None:
    view = CounterView(1)
    view.apply_snapshot(snapshot(), NOW)
    view.apply_result(Press("call-next"), ActionResult(ticket(), "101-0", None, "r"), NOW)
    assert view.current is not None and view.current.code == "A001"
    view.apply_event({"type": "call", "event_id": "101-0", "counter": 1, "ticket": "A001",
                      "service": "A", "at": "2026-11-20T10:00:01+07:00"}, NOW)
    assert view.current.since == NOW  # unchanged


def test_pause_and_resume_answers() -> None:
    view = CounterView(1)
    view.apply_snapshot(snapshot(), NOW)
    line = view.apply_result(Press("pause", "Rapat"), ActionResult(None, "101-0", "paused", "r"),
                             NOW)
    assert (view.status, view.reason, line) == ("paused", "Rapat", "Loket jeda: Rapat")
    view.apply_result(Press("resume"), ActionResult(None, "102-0", "idle", "r"), NOW)
    assert (view.status, view.reason) == ("idle", None)


def test_call_next_with_nobody_waiting_clears_the_current_ticket() -> None:
    """The previous ticket was closed by the call even though nobody new was called."""
    view = CounterView(1)
    view.apply_snapshot(snapshot(status="serving", ticket={"code": "A001", "service": "A"}), NOW)
    line = view.apply_result(Press("call-next"), ActionResult(None, None, None, "r"), NOW)
    assert line == "Tidak ada yang menunggu." and view.current is None


def test_skipped_tickets_are_offered_newest_first_until_restored() -> None:
    """Skips from answers and from events are remembered once each; a restore forgets it."""
    view = CounterView(1)
    view.apply_snapshot(snapshot(status="serving", ticket={"code": "A001", "service": "A"}), NOW)
    view.apply_result(Press("skip"), ActionResult(ticket("A001", status="no_show"), "101-0",
                                                  "idle", "r"), NOW)
    view.apply_event({"type": "skip", "event_id": "101-0", "counter": 1, "ticket": "A001",
                      "service": "A", "at": "2026-11-20T10:00:01+07:00"}, NOW)
    view.apply_event({"type": "call", "event_id": "102-0", "counter": 1, "ticket": "A002",
                      "service": "A", "at": "2026-11-20T10:00:02+07:00"}, NOW)
    view.apply_event({"type": "skip", "event_id": "103-0", "counter": 1, "ticket": "A002",
                      "service": "A", "at": "2026-11-20T10:00:03+07:00"}, NOW)
    assert view.skipped == ["A002", "A001"]
    view.apply_result(Press("restore", "A001"), ActionResult(ticket("A001"), "104-0", "idle",
                                                             "r"), NOW)
    assert view.skipped == ["A002"]


def test_site_time_is_the_servers_clock_in_the_sites_zone() -> None:
    """A local clock a day off and a site in Asia/Jakarta: the view's time is the server's
    10:00 WIB (not this machine's zone); an unknown zone falls back to this machine's."""
    view = CounterView(1)
    raw = {"site": {"name": "MPP Uji", "timezone": "Asia/Jakarta"}, "now": SERVER_NOW,
           "counters": [], "services": [], "waiting": {}, "event_id": "100-0"}
    view.apply_snapshot(Snapshot.parse(raw), NOW)
    shown = view.site_time(NOW + 90)
    assert (shown.hour, shown.minute, shown.utcoffset()) == (10, 1, timedelta(hours=7))
    view.apply_snapshot(Snapshot.parse({**raw, "site": {"name": "x", "timezone": "Mars/Base"}}),
                        NOW)
    assert view.zone is None
    assert view.site_time(NOW).timestamp() == datetime.fromisoformat(SERVER_NOW).timestamp()


def test_services_carry_their_agency_for_the_transfer_choice() -> None:
    raw = {"site": {"name": "MPP Uji"}, "now": SERVER_NOW, "counters": [], "waiting": {},
           "event_id": "100-0", "services": [
               {"code": "A", "name": "STNK", "tenant": "samsat", "tenant_name": "Samsat"},
               {"code": "B", "name": "KTP", "tenant": "capil"}]}
    view = CounterView(1)
    view.apply_snapshot(Snapshot.parse(raw), NOW)
    assert view.tenant_names == {"A": "Samsat", "B": "capil"}  # the id when no name is sent
    assert view.zone is None  # an older server names no zone: this machine's
