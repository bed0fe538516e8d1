"""The dashboard's range charts from the archive, on SQLite and PostgreSQL: tickets per day,
first-call waits in 5-minute bins and tickets per weekday × local hour, only the site's and the
range's visits."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from display_server.archive import db
from display_server.archive.tables import visits
from display_server.archive_charts import heat, per_day, wait_bins

JAKARTA = ZoneInfo("Asia/Jakarta")


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def visit(site: str, code: str, issued: str, first_call: str | None) -> dict[str, object]:
    return {"site": site, "day": issued[:10], "code": code, "service": "A", "tenant": "samsat",
            "priority": "", "issued_ms": ms(issued), "first_call_ms": first_call and ms(first_call),
            "recalls": 0, "transfers": 0, "final_service": "A"}


def test_range_charts_group_the_range_visits(database_url: str) -> None:
    """Mon 23 Nov 08:10 (called after 4 min 59 s), Mon 08:50 (after 12 min), Wed 25 Nov 13:05
    (never called) in Jakarta; another site's and another week's visits stay out."""
    db.upgrade(database_url)
    engine = db.engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(insert(visits), [
                visit("s", "A001", "2026-11-23T08:10:00+07:00", "2026-11-23T08:14:59+07:00"),
                visit("s", "A002", "2026-11-23T08:50:00+07:00", "2026-11-23T09:02:00+07:00"),
                visit("s", "A001", "2026-11-25T13:05:00+07:00", None),
                visit("s", "A001", "2026-11-16T08:00:00+07:00", "2026-11-16T08:01:00+07:00"),
                visit("x", "A001", "2026-11-23T08:00:00+07:00", "2026-11-23T08:01:00+07:00"),
            ])
        first, last = date(2026, 11, 20), date(2026, 11, 26)
        with engine.connect() as connection:
            assert per_day(connection, "s", first, last) == {"2026-11-23": 2, "2026-11-25": 1}
            assert wait_bins(connection, "s", first, last) == {0: 1, 2: 1}
            cells = heat(connection, "s", JAKARTA, first, last)
    finally:
        engine.dispose()
    assert {(d, h): n for d, row in enumerate(cells) for h, n in enumerate(row) if n} == {
        (0, 8): 2, (2, 13): 1}
