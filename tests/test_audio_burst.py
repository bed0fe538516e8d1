"""The announcer's burst rules as pure functions: which calls a turn says (merged), which it
drops because their counter moved on or they are too old, and the merged sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from audio.events import Announcement, plan_turn, salat_pause, still_current, track
from audio.settings import AnnouncementSettings

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def call(ticket: str, counter: int, n: int, kind: str = "call", age: float = 1.0) -> Announcement:
    return Announcement(f"{1_795_000_000_000 + n}-0", kind, ticket, counter, ticket[0],
                        NOW - timedelta(seconds=age))


def snapshot(*serving: tuple[int, str | None]) -> dict[str, object]:
    return {"type": "snapshot", "counters": [
        {"number": n, "status": "serving" if code else "idle",
         "ticket": {"code": code} if code else None} for n, code in serving]}


def test_track_follows_calls_and_every_way_a_counter_moves_on() -> None:
    current: dict[int, str | None] = {}
    track(current, snapshot((1, "A001"), (2, None), (3, "B001")))
    assert current == {1: "A001", 2: None, 3: "B001"}
    track(current, {"type": "call", "counter": 2, "ticket": "A002"})
    track(current, {"type": "done", "counter": 1, "ticket": "A001"})
    track(current, {"type": "skip", "counter": 3, "ticket": "OTHER"})  # not its ticket
    assert current == {1: None, 2: "A002", 3: "B001"}
    track(current, {"type": "transfer", "counter": 3, "ticket": "B001"})
    track(current, {"type": "pause", "counter": 2})
    assert current == {1: None, 2: None, 3: None}
    track(current, {"type": "call", "counter": True, "ticket": "X1"})  # malformed: ignored
    track(current, "not a message")
    assert current == {1: None, 2: None, 3: None}


def test_a_burst_is_said_in_event_order_up_to_merge_max_the_rest_waits() -> None:
    waiting = [call(f"A00{n}", n, n) for n in range(1, 6)]
    current: dict[int, str | None] = {n: f"A00{n}" for n in range(1, 6)}
    turn = plan_turn(waiting, current, NOW, 120, merge_max=3)
    assert [c.ticket for c in turn.speak] == ["A001", "A002", "A003"]
    assert [c.ticket for c in turn.rest] == ["A004", "A005"]
    assert turn.dropped == () and turn.also == ()


def test_calls_whose_counter_moved_on_or_too_old_are_dropped() -> None:
    waiting = [call("A001", 1, 1), call("A002", 2, 2), call("A003", 3, 3, age=500),
               call("A004", 4, 4)]
    # counter 1 has called A005 since, counter 2 is idle, counter 4 still serves A004
    current: dict[int, str | None] = {1: "A005", 2: None, 3: "A003", 4: "A004"}
    turn = plan_turn(waiting, current, NOW, 120, merge_max=3)
    assert [c.ticket for c in turn.speak] == ["A004"]
    assert [(c.ticket, why) for c, why in turn.dropped] == [
        ("A001", "moved_on"), ("A002", "moved_on"), ("A003", "stale")]


def test_a_recall_behind_its_call_is_said_once_and_acknowledged_with_it() -> None:
    waiting = [call("A001", 1, 1), call("B001", 2, 2), call("A001", 1, 3, kind="recall")]
    turn = plan_turn(waiting, {1: "A001", 2: "B001"}, NOW, 120, merge_max=3)
    assert [c.event_id for c in turn.speak] == [waiting[0].event_id, waiting[1].event_id]
    assert turn.also == (waiting[2],)


def test_an_unknown_counter_counts_as_still_serving() -> None:
    assert still_current(call("A001", 9, 1), {})
    assert not still_current(call("A001", 9, 1), {9: None})


def test_the_merged_sentence_uses_the_burst_template_once_per_call() -> None:
    settings = AnnouncementSettings()
    assert settings.merged_text([("A12", 3, None), ("B4", 7, None)]) == (
        "Nomor a dua belas ke loket tiga, nomor be empat ke loket tujuh")
    assert settings.merged_text([("A12", 3, None)]) == settings.text("A12", 3)
    custom = AnnouncementSettings(merge_template="{ticket} loket {counter}")
    assert custom.merged_text([("A1", 1, None), ("A2", 2, None)]) == (
        "a satu loket satu, a dua loket dua")


def test_salat_pause_is_read_from_the_servers_signage() -> None:
    zuhur = int(NOW.timestamp() * 1000) - 60_000
    papan = {"prayer": {"pause": True, "pause_ms": 600_000, "times": [
        {"id": "dhuhr", "name": "Zuhur", "at": "09.59", "ms": zuhur}]}}
    assert salat_pause(papan, NOW) == "Zuhur"
    assert salat_pause(papan, NOW + timedelta(minutes=10)) is None
    assert salat_pause({**papan, "prayer": {**papan["prayer"], "pause": False}}, NOW) is None
    assert salat_pause({"prayer": None}, NOW) is None and salat_pause("junk", NOW) is None
    turn = plan_turn([call("A001", 1, 1)], {1: "A001"}, NOW, 120, 3, salat=True)
    assert turn.speak == () and [why for _, why in turn.dropped] == ["salat"]
