"""Indonesian letter names used for ticket prefixes."""

from __future__ import annotations

import pytest

from audio.letters import NAMES, letter_name


@pytest.mark.parametrize(
    ("letter", "name"),
    [("A", "a"), ("B", "be"), ("C", "ce"), ("F", "ef"), ("H", "ha"), ("K", "ka"), ("Q", "ki"),
     ("V", "ve"), ("W", "we"), ("X", "eks"), ("Y", "ye"), ("Z", "zet")],
)
def test_letter_names(letter: str, name: str) -> None:
    """Letters are spoken with their Indonesian names."""
    assert letter_name(letter) == name


def test_every_capital_letter_has_a_distinct_name() -> None:
    """All 26 letters are named, each differently."""
    assert sorted(NAMES) == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    assert len(set(NAMES.values())) == 26


@pytest.mark.parametrize("bad", ["a", "AB", "", "1", "É"])
def test_non_letters_raise(bad: str) -> None:
    """Anything but one capital letter is refused."""
    with pytest.raises(ValueError, match="capital letter"):
        letter_name(bad)
