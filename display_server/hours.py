"""Opening days and hours of a service: parsing and the pure 'is it open now' rule."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from texts import clock, day_name, t

DAY_NAMES = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")  # config keys
ALL_DAYS = frozenset(range(7))
# HH:MM-HH:MM, or as Indonesians write it on the pages: 08.00–15.00 (dot, en or em dash too)
RANGE = re.compile(r"([01][0-9]|2[0-3])[:.]([0-5][0-9])[-–—]([01][0-9]|2[0-4])[:.]([0-5][0-9])")
END_OF_DAY = time(23, 59, 59, 999999)


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
    raise ValueError(t("config.hours_unknown_day", value=value, days=", ".join(DAY_NAMES)))


def canonical(text: str) -> str:
    """A range as the TOML keeps it, '08:00-15:00', from any form RANGE reads ('08.00–15.00');
    text that is no range comes back as it is (parse_hours then names it)."""
    match = RANGE.fullmatch(text.replace(" ", ""))
    return "{}:{}-{}:{}".format(*match.groups()) if match else text


def written(text: str) -> str:
    """A TOML range as the pages write times (texts.clock): '08:00-15:00' -> '08.00–15.00'."""
    match = RANGE.fullmatch(text.replace(" ", ""))
    return "{}.{}–{}.{}".format(*match.groups()) if match else text


def _range(text: Any) -> tuple[time, time]:
    """'08:00-15:00' or '08.00–15.00' (local time; '24:00' ends at midnight) to a pair of
    times."""
    match = RANGE.fullmatch(text.replace(" ", "")) if isinstance(text, str) else None
    if match is None:
        raise ValueError(t("config.hours_not_range", text=text))
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h2 == 24 and m2 != 0:
        raise ValueError(t("config.hours_ends_after_midnight", text=text))
    start, end = time(h1, m1), END_OF_DAY if h2 == 24 else time(h2, m2)
    if start >= end:
        raise ValueError(t("config.hours_ends_before_start", text=text))
    return start, end


def _ranges(value: Any) -> tuple[tuple[time, time], ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError(t("config.hours_not_ranges", value=value))
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
        raise ValueError(t("config.hours_days_list", value=days))
    whole_day = ((time(0, 0), END_OF_DAY),)
    if isinstance(hours, dict):
        per_day = {_day(k): _ranges(v) for k, v in hours.items()}
        if days is not None and set(per_day) != set(open_days):
            raise ValueError(t("config.hours_days_mismatch"))
        table = tuple(per_day.get(d, ()) for d in range(7))
    else:
        default = whole_day if hours is None else _ranges(hours)
        table = tuple((default if d in open_days else ()) for d in range(7))
    return OpeningHours(table)


def is_open(hours: OpeningHours | None, now: datetime, holidays: frozenset[date]) -> bool:
    """Whether a service with `hours` takes tickets at local time `now`."""
    if now.date() in holidays:
        return False
    if hours is None:
        return True
    t = now.time().replace(tzinfo=None)
    return any(start <= t < end for start, end in hours.on(now.weekday()))


def _day_label(days: list[int]) -> str:
    """'Senin–Kamis' for a run of days, 'Selasa, Kamis' otherwise."""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = [day_name(r[0]) + (f"–{day_name(r[-1])}" if len(r) > 1 else "")
             for r in runs]
    return ", ".join(names)


def describe(hours: OpeningHours | None) -> str:
    """Human text in Indonesian, e.g. 'Senin–Kamis 08.00–15.00; Jumat 08.00–11.30'."""
    if hours is None:
        return t("hours.every_day")
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for day in range(7):
        if hours.on(day):
            groups.setdefault(hours.on(day), []).append(day)
    parts = []
    for ranges, days in groups.items():
        times = ", ".join(
            f"{clock(s)}–{'24.00' if e == END_OF_DAY else clock(e)}" for s, e in ranges
        )
        parts.append(f"{_day_label(days)} {times}")
    return "; ".join(parts) or t("hours.closed")
