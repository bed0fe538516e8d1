"""Indonesian number words ("terbilang") for 0 … 999,999."""

from __future__ import annotations

MAX = 999_999

_UNITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")


def terbilang(n: int) -> str:
    """Spell ``n`` in Indonesian words, e.g. 1123 → "seribu seratus dua puluh tiga".

    Guarantees single spaces, lowercase, and the contracted forms "sepuluh",
    "sebelas", "seratus" and "seribu" (never "satu ratus" or "satu ribu").
    Raises ValueError outside 0 … 999,999.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"expected a whole number, got {n!r}")
    if not 0 <= n <= MAX:
        raise ValueError(f"expected a number from 0 to {MAX}, got {n}")
    if n == 0:
        return _UNITS[0]
    return " ".join(_words(n))


def _words(n: int) -> list[str]:
    """Words for 1 … 999,999 (nothing for 0)."""
    if n >= 1000:
        thousands, rest = divmod(n, 1000)
        head = ["seribu"] if thousands == 1 else [*_words(thousands), "ribu"]
        return head + _words(rest)
    if n >= 100:
        hundreds, rest = divmod(n, 100)
        head = ["seratus"] if hundreds == 1 else [_UNITS[hundreds], "ratus"]
        return head + _words(rest)
    if n >= 20:
        tens, rest = divmod(n, 10)
        return [_UNITS[tens], "puluh", *_words(rest)]
    if n >= 12:
        return [_UNITS[n - 10], "belas"]
    if n == 11:
        return ["sebelas"]
    if n == 10:
        return ["sepuluh"]
    return [_UNITS[n]] if n else []


def digit_word(digit: str) -> str:
    """The word for one decimal digit character, e.g. "0" → "nol"."""
    if len(digit) != 1 or digit not in "0123456789":
        raise ValueError(f"expected one digit 0-9, got {digit!r}")
    return _UNITS[int(digit)]


def number_words() -> frozenset[str]:
    """Every word ``terbilang`` can produce."""
    samples = [*range(20), 20, 100, 200, 1000, 2000]
    return frozenset(word for n in samples for word in terbilang(n).split())
