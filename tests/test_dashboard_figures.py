"""The dashboard's figures and charts with a moved clock: a wait is first call − issue once per
ticket (a transferred ticket's second call adds none), minutes are written the Indonesian way,
and the charts name the days and hours of the range."""

from __future__ import annotations

import re

from conftest import Api, FakeClock
from test_sessions import sign_in


def figures(html: str) -> dict[str, str]:
    found = re.findall(r'data-figure="(\w+)"><span class="a-value">([^<]*)</span>', html)
    return dict(found)


def test_waits_count_each_ticket_once_from_its_first_call(api: Api, clock: FakeClock) -> None:
    """A001 waits 8 minutes, is transferred and called again later; A002 waits 15: the average
    is 11,5 minutes and the longest 15 (not the 14,3 of averaging every call)."""
    api.ticket("A")
    clock.advance(minutes=5)
    api.ticket("A")
    clock.advance(minutes=3)
    assert api.call(1)["ticket"]["code"] == "A001"
    clock.advance(minutes=1)
    assert api.act(1, "transfer", {"service": "B"}).status_code == 200
    clock.advance(minutes=11)
    assert api.call(2)["ticket"]["code"] == "A001"
    assert api.call(3)["ticket"]["code"] == "A002"
    cookie, _ = sign_in(api, "admin")
    live = api.client.get("/admin/langsung", headers={"Cookie": cookie})
    assert live.status_code == 200
    assert figures(live.text) == {"visitors": "2", "served": "0", "waiting": "0",
                                  "avg_wait": "11,5", "max_wait": "15"}


def test_charts_cover_the_range_asked(api: Api, clock: FakeClock) -> None:
    """Three days asked: three bars, today's with its visitors; the heat map marks Wednesday
    10.00, the wait histogram the 5–10 minutes bin."""
    for _ in range(3):
        api.ticket("A")
    clock.advance(minutes=7)
    api.call(1)
    cookie, _ = sign_in(api, "admin")
    page = api.client.get("/admin?dari=2026-11-23&sampai=2026-11-25",
                          headers={"Cookie": cookie}).text
    assert page.count('class="bar"') == 3 + 13  # per day, then the wait bins
    assert "2026-11-25: 3</title>" in page and "2026-11-24: 0</title>" in page
    assert "Rabu 10.00: 3</title>" in page
    assert "Tunggu 5–10 menit: 1</title>" in page
