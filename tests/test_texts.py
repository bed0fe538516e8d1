"""The text catalogue: lookups by key, a second language over Indonesian, id_ID formats."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from texts import MissingText, clock, day_name, long_date, number, t
from texts.formats import script_calendar


def test_a_key_gives_its_indonesian_text_with_values_filled() -> None:
    assert t("ticket.people_ahead", n=3) == "3 orang lagi di depan Anda"
    assert t("error.rate_limited") == "Terlalu banyak permintaan, coba lagi sebentar lagi."


def test_a_missing_key_raises_instead_of_showing_the_key() -> None:
    with pytest.raises(MissingText):
        t("kiosk.no_such_text")


def test_a_bilingual_screen_reads_both_languages_and_english_falls_back() -> None:
    both = [t("display.go_to", locale=lang) for lang in ("id", "en")]
    assert both == ["Silakan menuju", "Please proceed to"]
    assert t("ticket.people_ahead", locale="en", n=2) == "2 people ahead of you"
    assert t("display.welcome", locale="en") == "Selamat datang"  # not translated yet


def test_numbers_dates_and_times_as_indonesians_write_them() -> None:
    assert number(2.5) == "2,5"
    assert number(12345) == "12.345"
    assert long_date(date(2026, 11, 30)) == "Senin, 30 November 2026"
    assert long_date(date(2026, 11, 1)) == "Minggu, 1 November 2026"  # not "01 November"
    assert clock(time(10, 30)) == "10.30"
    assert clock(datetime(2026, 11, 30, 8, 5)) == "08.05"
    assert [day_name(d) for d in (0, 4, 6)] == ["Senin", "Jumat", "Minggu"]


def test_page_scripts_get_days_from_sunday_like_javascript() -> None:
    calendar = script_calendar()
    assert calendar["days"][0] == "Minggu" and calendar["days"][1] == "Senin"
    assert calendar["months"][10] == "November"
