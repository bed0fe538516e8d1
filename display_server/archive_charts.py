"""What the office dashboard charts for a range of days, read from the archive's `visits` (the
same SQL on SQLite and PostgreSQL, grouped in the database), one query per chart: tickets per
day, first-call waits in 5-minute bins, and tickets per weekday × hour of issue in the site's
local time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from display_server.archive.tables import visits

WAIT_BIN_MS = 5 * 60_000
HOUR_MS, DAY_MS = 3_600_000, 86_400_000
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (date.weekday(): Monday 0)


def _where(site: str, first: date, last: date) -> tuple[Any, ...]:
    return (visits.c.site == site, visits.c.day >= first.isoformat(),
            visits.c.day <= last.isoformat())


def offset_ms(tz: ZoneInfo, day: date) -> int:
    """The site's offset from UTC on `day` (Indonesia's zones keep one all year)."""
    offset = datetime(day.year, day.month, day.day, 12, tzinfo=tz).utcoffset()
    return int(offset.total_seconds() * 1000) if offset else 0


def per_day(connection: Connection, site: str, first: date, last: date) -> dict[str, int]:
    """YYYY-MM-DD → tickets issued that day."""
    rows = connection.execute(select(visits.c.day, func.count())
                              .where(*_where(site, first, last)).group_by(visits.c.day))
    return {day: n for day, n in rows}


def wait_bins(connection: Connection, site: str, first: date, last: date) -> dict[int, int]:
    """5-minute bin of the wait (first call − issue) → tickets called first with that wait."""
    wait_bin = ((visits.c.first_call_ms - visits.c.issued_ms) // WAIT_BIN_MS).label("bin")
    rows = connection.execute(select(wait_bin, func.count())
                              .where(*_where(site, first, last),
                                     visits.c.first_call_ms.is_not(None)).group_by("bin"))
    return {int(bin_): n for bin_, n in rows}


def heat(connection: Connection, site: str, tz: ZoneInfo, first: date,
         last: date) -> list[list[int]]:
    """[weekday][hour] (Monday 0, local time) → tickets issued."""
    local = visits.c.issued_ms + offset_ms(tz, last)
    hour = (local // HOUR_MS % 24).label("hour")
    weekday = ((local // DAY_MS + EPOCH_WEEKDAY) % 7).label("weekday")
    cells = [[0] * 24 for _ in range(7)]
    for weekday_, hour_, n in connection.execute(
            select(weekday, hour, func.count()).where(*_where(site, first, last))
            .group_by("weekday", "hour")):
        cells[int(weekday_)][int(hour_)] = n
    return cells
