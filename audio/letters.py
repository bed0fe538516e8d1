"""Indonesian names of the letters A–Z, as spoken in ticket codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from texts import t

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


# A spelling word per letter ("C untuk Cinta"): common words, each starting with its letter,
# none rhyming with another letter's name
SPELLING_WORDS: dict[str, str] = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (
            "apel", "buku", "cinta", "domba", "elang", "foto", "gajah", "harimau", "ikan",
            "jeruk", "kuda", "lampu", "mawar", "nanas", "obor", "pisang", "qari", "rusa",
            "sapi", "topi", "udang", "vitamin", "wortel", "xilofon", "yoyo", "zebra",
        ),
        strict=True,
    )
)


def letter_name(letter: str, names: Mapping[str, str] | None = None) -> str:
    """The spoken name of one capital letter, e.g. "Q" → "ki"; ``names`` renames letters."""
    if names and letter in names:
        return names[letter]
    try:
        return NAMES[letter]
    except KeyError:
        raise ValueError(f"expected one capital letter A-Z, got {letter!r}") from None


@dataclass(frozen=True)
class Lettering:
    """How a site says a ticket's letters: names (renamed by ``names``), and for each letter
    in ``spelled`` its name with a spelling word ("ce untuk cinta"; ``words`` replaces the
    default word)."""

    names: Mapping[str, str] = field(default_factory=dict)
    spelled: str = ""
    words: Mapping[str, str] = field(default_factory=dict)

    def say(self, letter: str) -> str:
        """What is said for one capital letter."""
        name = letter_name(letter, self.names)
        if letter not in self.spelled:
            return name
        word = self.words.get(letter, SPELLING_WORDS[letter])
        return t("announce.spelling", name=name, word=word)

    def vocabulary(self) -> set[str]:
        """Every word said for some letter A-Z."""
        return {word for letter in NAMES for word in self.say(letter).lower().split()}


PLAIN = Lettering()
