"""Indonesian number words: a table covering every rule, and properties over the whole range."""

from __future__ import annotations

import pytest

from audio.numbers import MAX, digit_word, number_words, terbilang

TABLE = [
    (0, "nol"),
    (1, "satu"),
    (7, "tujuh"),
    (9, "sembilan"),
    (10, "sepuluh"),
    (11, "sebelas"),
    (12, "dua belas"),
    (19, "sembilan belas"),
    (20, "dua puluh"),
    (21, "dua puluh satu"),
    (29, "dua puluh sembilan"),
    (99, "sembilan puluh sembilan"),
    (100, "seratus"),
    (101, "seratus satu"),
    (110, "seratus sepuluh"),
    (111, "seratus sebelas"),
    (115, "seratus lima belas"),
    (123, "seratus dua puluh tiga"),
    (200, "dua ratus"),
    (305, "tiga ratus lima"),
    (999, "sembilan ratus sembilan puluh sembilan"),
    (1000, "seribu"),
    (1001, "seribu satu"),
    (1010, "seribu sepuluh"),
    (1100, "seribu seratus"),
    (1999, "seribu sembilan ratus sembilan puluh sembilan"),
    (2000, "dua ribu"),
    (10_000, "sepuluh ribu"),
    (11_000, "sebelas ribu"),
    (12_345, "dua belas ribu tiga ratus empat puluh lima"),
    (21_000, "dua puluh satu ribu"),
    (100_000, "seratus ribu"),
    (101_000, "seratus satu ribu"),
    (111_111, "seratus sebelas ribu seratus sebelas"),
    (200_002, "dua ratus ribu dua"),
    (999_999, "sembilan ratus sembilan puluh sembilan ribu sembilan ratus sembilan puluh sembilan"),
]


@pytest.mark.parametrize(("n", "words"), TABLE)
def test_terbilang_table(n: int, words: str) -> None:
    """Each rule of the number words gives the expected text."""
    assert terbilang(n) == words


@pytest.mark.parametrize("n", [-1, MAX + 1, 10**9])
def test_out_of_range_raises(n: int) -> None:
    """Numbers outside 0 … 999,999 are refused with a message naming the range."""
    with pytest.raises(ValueError, match="0 to 999999"):
        terbilang(n)


@pytest.mark.parametrize("value", [1.5, "12", True, None])
def test_non_integers_raise(value: object) -> None:
    """Only whole numbers are spelled."""
    with pytest.raises(ValueError, match="whole number"):
        terbilang(value)  # type: ignore[arg-type]


def test_properties_over_whole_range() -> None:
    """Every n in 0 … 999,999 gives clean, contracted, known and distinct words."""
    known = number_words()
    seen: set[str] = set()
    for n in range(MAX + 1):
        text = terbilang(n)
        assert text and text == text.strip() and "  " not in text
        for never in ("satu ratus", "satu puluh", "satu belas", "se ", "ribu ribu"):
            assert never not in f"{text} "
        if "satu ribu" in text:  # only as the end of a larger count: "dua puluh satu ribu"
            assert text.split(" satu ribu")[0].split()[-1] in ("puluh", "ratus", "seratus")
        assert n == 0 or "nol" not in text
        assert set(text.split()) <= known
        seen.add(text)
    assert len(seen) == MAX + 1


def test_digit_words() -> None:
    """Single digits are spoken as their unit word, zero as "nol"."""
    assert [digit_word(d) for d in "0123456789"] == terbilang(0).split() + [
        terbilang(n) for n in range(1, 10)
    ]
    with pytest.raises(ValueError, match="one digit"):
        digit_word("12")
