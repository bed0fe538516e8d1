"""Texts by stable key from the gettext catalogues texts/locale/<locale>/LC_MESSAGES/antrian.po,
compiled in memory with Babel; a locale other than Indonesian falls back to Indonesian."""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "antrian"
DEFAULT_LOCALE = "id"
LOCALE_DIR = Path(__file__).parent / "locale"


class MissingText(KeyError):
    """A key the catalogue does not have: a bug, caught by the catalogue's tests."""


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(locale: str) -> Catalog:
    """The parsed .po of `locale` (FileNotFoundError when the site has no such language)."""
    with po_path(locale).open("rb") as po:
        return read_po(po, locale=locale, domain=DOMAIN)


@functools.cache
def translations(locale: str) -> Translations:
    """The compiled catalogue of `locale`, falling back to Indonesian for keys it lacks."""
    mo = io.BytesIO()
    write_mo(mo, read_catalog(locale))
    mo.seek(0)
    compiled = Translations(mo, domain=DOMAIN)
    if locale != DEFAULT_LOCALE:
        compiled.add_fallback(translations(DEFAULT_LOCALE))
    return compiled


def t(key: str, /, *, locale: str = DEFAULT_LOCALE, **values: object) -> str:
    """The text of `key` in `locale` with its {placeholders} filled from `values`."""
    text = translations(locale).gettext(key)
    if text == key:
        raise MissingText(key)
    return text.format(**values) if values else text


def N_(key: str) -> str:
    """Marks a key for extraction where the text is looked up later with t()."""
    return key
