"""What the office dashboard charts for a range of days, read from the archive's `visits` (the
same SQL on SQLite and PostgreSQL, grouped in the database): tickets per day, first-call waits
in 5-minute bins, and tickets per weekday × hour of issue in the site's local time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from display_server.archive.tables import visits

WAIT_BIN_MS = 5 * 60_000
HOUR_MS, DAY_MS = 3_600_000, 86_400_000
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (date.weekday(): Monday 0)


@dataclass
class RangeCharts:
    per_day: dict[str, int] = field(default_factory=dict)    # YYYY-MM-DD → tickets issued
    wait_bins: dict[int, int] = field(default_factory=dict)  # 5-minute bin → first calls
    heat: list[list[int]] = field(default_factory=lambda: [[0] * 24 for _ in range(7)])

    @property
    def visitors(self) -> int:
        return sum(self.per_day.values())


def offset_ms(tz: ZoneInfo, day: date) -> int:
    """The site's offset from UTC on `day` (Indonesia's zones keep one all year)."""
    offset = datetime(day.year, day.month, day.day, 12, tzinfo=tz).utcoffset()
    return int(offset.total_seconds() * 1000) if offset else 0


def range_charts(connection: Connection, site: str, tz: ZoneInfo, first: date,
                 last: date) -> RangeCharts:
    """The three groupings of the visits of local days first..last."""
    where = (visits.c.site == site, visits.c.day >= first.isoformat(),
             visits.c.day <= last.isoformat())
    charts = RangeCharts()
    for day, n in connection.execute(
            select(visits.c.day, func.count()).where(*where).group_by(visits.c.day)):
        charts.per_day[day] = n
    wait_bin = ((visits.c.first_call_ms - visits.c.issued_ms) // WAIT_BIN_MS).label("bin")
    for bin_, n in connection.execute(
            select(wait_bin, func.count())
            .where(*where, visits.c.first_call_ms.is_not(None)).group_by("bin")):
        charts.wait_bins[int(bin_)] = n
    local = visits.c.issued_ms + offset_ms(tz, last)
    hour = (local // HOUR_MS % 24).label("hour")
    weekday = ((local // DAY_MS + EPOCH_WEEKDAY) % 7).label("weekday")
    for weekday_, hour_, n in connection.execute(
            select(weekday, hour, func.count()).where(*where).group_by("weekday", "hour")):
        charts.heat[int(weekday_)][int(hour_)] = n
    return charts
