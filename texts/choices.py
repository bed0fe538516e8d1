"""Texts people choose from, the same on every client: the reasons a counter pauses."""

from __future__ import annotations

from texts.catalog import DEFAULT_LOCALE, N_, t

PAUSE_REASONS = (N_("pause.reason.istirahat"), N_("pause.reason.ibadah"),
                 N_("pause.reason.rapat"), N_("pause.reason.gangguan"), N_("pause.reason.lain"))


def pause_reasons(locale: str = DEFAULT_LOCALE) -> list[str]:
    """The pause reasons offered by the web console and the terminal client, first the
    default (also the API's when a pause names none)."""
    return [t(key, locale=locale) for key in PAUSE_REASONS]
