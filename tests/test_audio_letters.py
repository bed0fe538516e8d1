"""Indonesian letter names used for ticket prefixes."""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict

import pytest

from audio.letters import NAMES, SPELLING_WORDS, Lettering, letter_name
from audio.phrases import ticket_words
from audio.settings import AnnouncementSettings
from display_server.announcement import Announcement


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


# --- per site: renamed letters and spelling words ("C untuk Cinta"), issue 15

def test_spelling_words_start_with_their_letter_and_differ() -> None:
    """Each default spelling word starts with its letter; no two are alike."""
    assert sorted(SPELLING_WORDS) == sorted(NAMES)
    assert all(word[0].upper() == letter for letter, word in SPELLING_WORDS.items())
    assert len(set(SPELLING_WORDS.values())) == 26


def test_a_site_spells_the_letters_it_chooses() -> None:
    """Spelled letters get "<name> untuk <word>" and a comma before the number; the others
    keep their plain name; the site's own word replaces the default."""
    lettering = Lettering(spelled="CK", words={"K": "kelapa"})
    assert ticket_words("C123", "words", lettering) == "ce untuk cinta, seratus dua puluh tiga"
    assert ticket_words("K7", "words", lettering) == "ka untuk kelapa, tujuh"
    assert ticket_words("A12", "words", lettering) == "a dua belas"
    assert ticket_words("AC12", "digits", lettering) == "a, ce untuk cinta, satu dua"
    assert ticket_words("C5", "words") == "ce lima"  # the default: names only


def test_a_site_renames_a_letter() -> None:
    """letter_names replaces a letter's name everywhere it is said, spelled or not."""
    assert ticket_words("Q1", "words", Lettering(names={"Q": "kiu"})) == "kiu satu"
    spelled = Lettering(names={"C": "se"}, spelled="C")
    assert ticket_words("C1", "words", spelled) == "se untuk cinta, satu"


def test_the_site_settings_say_and_list_the_spelling() -> None:
    """[announcement] spelled_letters reaches the sentence and the voice pack's word list."""
    settings = AnnouncementSettings(spelled_letters="C", spelling_words={"C": "cempaka"},
                                    letter_names={"Q": "kiu"})
    assert settings.text("C12", 3) == (
        "Nomor antrian ce untuk cempaka, dua belas, silakan menuju loket tiga")
    words = settings.vocabulary()
    assert {"untuk", "cempaka", "kiu"} <= set(words)
    assert "untuk" not in AnnouncementSettings(spelled_letters="").vocabulary()


def _site(toml: str) -> AnnouncementSettings:
    """The announcement settings of a site config's `[announcement]` table."""
    spoken = Announcement.from_mapping(tomllib.loads(toml).get("announcement", {}))
    return AnnouncementSettings(**asdict(spoken))


def test_c_is_spelled_unless_the_site_says_otherwise() -> None:
    """With no setting C is said "ce untuk cinta" (espeak-ng's plain "ce" is heard as the word
    "ke"), and the voice pack's word list has its words; `spelled_letters = ""` says plain "ce"
    and spells nothing."""
    default = _site("[announcement]\nrepeat = 1\n")
    assert default.text("C12", 3) == (
        "Nomor antrian ce untuk cinta, dua belas, silakan menuju loket tiga")
    assert default.text("A12", 3) == "Nomor antrian a dua belas, silakan menuju loket tiga"
    assert {"untuk", "cinta"} <= set(default.vocabulary())
    assert _site("").text("C1", 2) == default.text("C1", 2)
    plain = _site('[announcement]\nspelled_letters = ""\n')
    assert plain.text("C12", 3) == "Nomor antrian ce dua belas, silakan menuju loket tiga"
    assert plain.merged_text([("C1", 1, None), ("K2", 2, None)]) == (
        "Nomor ce satu ke loket satu, nomor ka dua ke loket dua")
    assert not {"untuk", "cinta"} & set(plain.vocabulary())


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"spelled_letters": "c"}, "spelled_letters"),
        ({"spelled_letters": "C K"}, "spelled_letters"),
        ({"spelled_letters": 3}, "spelled_letters"),
        ({"spelling_words": {"C": ""}}, "spelling_words.C"),
        ({"spelling_words": {"C": "c1nta"}}, "spelling_words.C"),
        ({"spelling_words": {"CC": "cinta"}}, "spelling_words.CC"),
        ({"letter_names": {"q": "kiu"}}, "letter_names.q"),
        ({"letter_names": ["kiu"]}, "letter_names"),
    ],
)
def test_bad_lettering_names_the_key(data: dict[str, object], key: str) -> None:
    """A bad value in the site config is refused, naming the key, in Indonesian."""
    with pytest.raises(ValueError, match=rf"\[announcement\] {re.escape(key)}: harus"):
        Announcement.from_mapping(data)
