"""Indonesian names of the letters A–Z, as spoken in ticket codes."""

from __future__ import annotations

NAMES: dict[str, str] = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (
            "a", "be", "ce", "de", "e", "ef", "ge", "ha", "i", "je", "ka", "el", "em",
            "en", "o", "pe", "ki", "er", "es", "te", "u", "ve", "we", "eks", "ye", "zet",
        ),
        strict=True,
    )
)


def letter_name(letter: str) -> str:
    """The spoken name of one capital letter, e.g. "Q" → "ki"."""
    try:
        return NAMES[letter]
    except KeyError:
        raise ValueError(f"expected one capital letter A-Z, got {letter!r}") from None
