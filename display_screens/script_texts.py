"""The texts the page scripts read: every catalogue key their t("…") calls name (found in
static/*.js with Babel's JavaScript extractor) and the calendar's day and month names."""

from __future__ import annotations

import functools
from pathlib import Path

from babel.messages.extract import extract

from texts import DEFAULT_LOCALE, t
from texts.formats import script_calendar

STATIC = Path(__file__).parent / "static"


@functools.cache
def script_keys() -> frozenset[str]:
    """The catalogue keys named by t() in the page scripts."""
    keys: set[str] = set()
    for script in sorted(STATIC.glob("*.js")):
        with script.open("rb") as source:
            found = extract("javascript", source, keywords={"t": None},
                            options={"parse_template_string": "true"})
            keys.update(str(message) for _, message, _, _ in found)
    return frozenset(keys)


@functools.cache
def script_texts(locale: str = DEFAULT_LOCALE) -> dict[str, object]:
    """The JSON the pages embed for their scripts: {key: text, "days": [...], "months": [...]}."""
    texts: dict[str, object] = {key: t(key, locale=locale) for key in sorted(script_keys())}
    return {**texts, **script_calendar(locale)}
