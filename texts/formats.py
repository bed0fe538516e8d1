"""Numbers, dates and times as people read them, from Babel's locale data (id_ID by default)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from babel.dates import format_date, format_time, get_day_names, get_month_names
from babel.numbers import format_decimal

LOCALE = "id_ID"


def number(value: float, locale: str = LOCALE) -> str:
    """2.5 → '2,5'; 12345 → '12.345'."""
    return format_decimal(value, locale=locale)


def fixed(value: float | Decimal, places: int, locale: str = LOCALE) -> str:
    """A fixed number of decimals, rounded half up as reports round: (3.1, 3) → '3,100';
    (78.125, 2) → '78,13'; (1234.5, 2) → '1.234,50'."""
    step = Decimal(1).scaleb(-places)
    exact = Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)
    return format_decimal(exact, format="#,##0." + "0" * places if places else "#,##0",
                          locale=locale)


def long_date(day: date, locale: str = LOCALE) -> str:
    """'Senin, 30 November 2026', 'Minggu, 1 November 2026': the day unpadded as Indonesians
    write it (Babel's id_ID "full" pattern pads it, "Minggu, 01 November 2026"), so the
    weekday and the locale's long date ('1 November 2026')."""
    return f"{format_date(day, 'EEEE', locale=locale)}, {format_date(day, 'long', locale=locale)}"


def clock(moment: time | datetime, locale: str = LOCALE) -> str:
    """'10.30': the locale's short time."""
    return format_time(moment, "short", locale=locale)


def clock_seconds(moment: time | datetime, locale: str = LOCALE) -> str:
    """'10.30.15': the locale's time with seconds."""
    return format_time(moment, "medium", locale=locale)


def day_name(weekday: int, locale: str = LOCALE) -> str:
    """The day's name, weekday as Python's date.weekday() (0 = Monday): 0 → 'Senin'."""
    return str(get_day_names("wide", locale=locale)[weekday])


def month_year(day: date, locale: str = LOCALE) -> str:
    """'November 2026': the month of `day` and its year."""
    return format_date(day, "LLLL y", locale=locale)


def script_calendar(locale: str = LOCALE) -> dict[str, list[str]]:
    """Day names from Sunday (as JavaScript's Date.getDay()) and month names, for the pages."""
    days = [day_name((weekday + 6) % 7, locale) for weekday in range(7)]
    months = [str(get_month_names("wide", locale=locale)[m]) for m in range(1, 13)]
    return {"days": days, "months": months}
