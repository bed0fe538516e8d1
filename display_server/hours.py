"""Opening days and hours of a service: parsing and the pure 'is it open now' rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

DAY_NAMES = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
ALL_DAYS = frozenset(range(7))


@dataclass(frozen=True)
class OpeningHours:
    """Per weekday (0 = Monday), the (start, end) ranges a service takes tickets."""

    ranges: tuple[tuple[tuple[time, time], ...], ...]

    def on(self, weekday: int) -> tuple[tuple[time, time], ...]:
        return self.ranges[weekday]


def _day(value: Any) -> int:
    if isinstance(value, str) and value.lower() in DAY_NAMES:
        return DAY_NAMES.index(value.lower())
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
        return value - 1
    raise ValueError(f"unknown day {value!r} (use {', '.join(DAY_NAMES)} or 1-7)")


def _range(text: Any) -> tuple[time, time]:
    if not isinstance(text, str) or text.count("-") != 1:
        raise ValueError(f"expected a range like '08:00-15:00', got {text!r}")
    start_s, end_s = (part.strip() for part in text.split("-"))
    try:
        start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
    except ValueError:
        raise ValueError(f"expected a range like '08:00-15:00', got {text!r}") from None
    if start >= end:
        raise ValueError(f"range {text!r} ends before it starts")
    return start, end


def _ranges(value: Any) -> tuple[tuple[time, time], ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError(f"expected a range or a list of ranges, got {value!r}")
    return tuple(sorted(_range(item) for item in items))


def parse_hours(days: Any, hours: Any) -> OpeningHours:
    """Build OpeningHours from a config's `days` (list) and `hours` (range, list or per-day table).

    Missing `days` means every day; missing `hours` means all day on those days.
    """
    if days is None:
        open_days: Iterable[int] = ALL_DAYS
    elif isinstance(days, list) and days:
        open_days = {_day(d) for d in days}
    else:
        raise ValueError(f"days must be a non-empty list, got {days!r}")
    whole_day = ((time(0, 0), time(23, 59, 59, 999999)),)
    default = whole_day if hours is None or isinstance(hours, dict) else _ranges(hours)
    per_day: dict[int, tuple[tuple[time, time], ...]] = {}
    if isinstance(hours, dict):
        per_day = {_day(k): _ranges(v) for k, v in hours.items()}
        if days is None:
            open_days = set(per_day)
    table = tuple(
        (per_day.get(d, default) if d in open_days else ()) for d in range(7)
    )
    return OpeningHours(table)


def is_open(hours: OpeningHours | None, now: datetime, holidays: frozenset[date]) -> bool:
    """Whether a service with `hours` takes tickets at local time `now`."""
    if now.date() in holidays:
        return False
    if hours is None:
        return True
    t = now.time().replace(tzinfo=None)
    return any(start <= t < end for start, end in hours.on(now.weekday()))


def describe(hours: OpeningHours | None) -> str:
    """Human text in Indonesian, e.g. 'Senin–Jumat 08.00–15.00; Sabtu 08.00–12.00'."""
    if hours is None:
        return "Setiap hari"
    groups: list[tuple[list[int], tuple[tuple[time, time], ...]]] = []
    for day in range(7):
        ranges = hours.on(day)
        if not ranges:
            continue
        if groups and groups[-1][1] == ranges and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], ranges))
    parts = []
    for group_days, ranges in groups:
        first, last = DAY_NAMES[group_days[0]].title(), DAY_NAMES[group_days[-1]].title()
        label = first if len(group_days) == 1 else f"{first}–{last}"
        times = ", ".join(f"{s:%H.%M}–{e:%H.%M}" for s, e in ranges).replace("23.59", "24.00")
        parts.append(f"{label} {times}")
    return "; ".join(parts) or "Tutup"
