"""Closing a day: the written rule for tickets left open at local midnight.

A ticket of a day that has ended and that is still waiting, or was called and never finished,
gets the outcome `closed` at the local midnight that ended its day (on its visit and its open
leg): it counts as issued, not as served. An event that still comes for it later (an officer
pressing Selesai after midnight) applies as usual and replaces `closed`.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, select, update

from display_server.archive.tables import legs, visits
from display_server.archive.writing import save_state
from display_server.config import SiteConfig


def midnight_after(day: str, site: SiteConfig) -> int:
    """The local midnight that ends `day`, in epoch milliseconds."""
    end = datetime.combine(date.fromisoformat(day) + timedelta(days=1), datetime.min.time(),
                           site.tz)
    return int(end.timestamp() * 1000)


def close_before(db: Engine, site: SiteConfig, today: str) -> int:
    """Close every open ticket of the days before `today`; the number of visits closed."""
    closed = 0
    with db.begin() as connection:
        days = connection.scalars(select(visits.c.day).distinct().where(
            visits.c.site == site.id, visits.c.day < today, visits.c.outcome.is_(None)))
        for day in sorted(days):
            end = midnight_after(day, site)
            for table in (visits, legs):
                result = connection.execute(
                    update(table).where(table.c.site == site.id, table.c.day == day,
                                        table.c.outcome.is_(None))
                    .values(outcome="closed", finished_ms=end))
                closed += result.rowcount if table is visits else 0
        save_state(connection, site.id, int(time.time() * 1000), closed_day=today)
    return closed
