"""The one text catalogue: every text a person reads, by stable key, and id_ID formatting."""

from texts.catalog import DEFAULT_LOCALE, N_, MissingText, t
from texts.choices import pause_reasons
from texts.formats import clock, day_name, long_date, number

__all__ = ["DEFAULT_LOCALE", "N_", "MissingText", "clock", "day_name", "long_date", "number",
           "pause_reasons", "t"]
