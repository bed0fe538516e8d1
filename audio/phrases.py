"""Every word a visitor hears: ticket codes, counters and the call's sentence."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

from audio.letters import PLAIN, Lettering
from audio.numbers import MAX, digit_word, number_words, terbilang
from display_server.announcement import (
    DEFAULT_TEMPLATE,
    NUMBER_STYLES,
    NumberStyle,
    check_template,
)
from texts import t

PAUSE = ","

_CODE = re.compile(r"([A-Z]{1,3})([0-9]{1,6})")
_TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*|[,.;:!?]")


def ticket_words(code: str, style: NumberStyle = "words", lettering: Lettering = PLAIN) -> str:
    """Spoken form of a ticket code: "A123" → "a seratus dua puluh tiga".

    In "digits" style every digit is spoken ("a satu dua tiga", zero as "nol");
    in "words" style leading zeros are not spoken ("A001" → "a satu").
    Raises ValueError for anything but 1–3 capital letters and 1–6 digits.
    ``lettering`` says the letters; after a spelled letter a comma ("ce untuk cinta, satu")
    keeps the spelling word apart from the number.
    """
    match = _CODE.fullmatch(code) if isinstance(code, str) else None
    if match is None:
        raise ValueError(t("say.bad_ticket_code", code=code))
    prefix, digits = match.groups()
    letters = [lettering.say(letter) for letter in prefix]
    if prefix[-1] in lettering.spelled:
        letters = [", ".join(letters) + PAUSE]
    elif set(prefix) & set(lettering.spelled):
        letters = [", ".join(letters[:-1]) + PAUSE, letters[-1]]
    if style == "words":
        number = [terbilang(int(digits))]
    elif style == "digits":
        number = [digit_word(digit) for digit in digits]
    else:
        raise ValueError(t("audio.number_style", style=style, choices=", ".join(NUMBER_STYLES)))
    return " ".join(letters + number)


def ticket_prefix(code: str) -> str:
    """The letters of a ticket code, which name its service: "AB012" → "AB"."""
    return code.rstrip("0123456789")


def counter_words(counter: int) -> str:
    """Spoken form of a counter number: 29 → "dua puluh sembilan"."""
    if isinstance(counter, bool) or not isinstance(counter, int) or not 1 <= counter <= MAX:
        raise ValueError(t("say.bad_counter", counter=counter, max=MAX))
    return terbilang(counter)


def announcement_text(
    code: str,
    counter: int,
    *,
    template: str = DEFAULT_TEMPLATE,
    style: NumberStyle = "words",
    service: str = "",
    tenant: str = "",
    lettering: Lettering = PLAIN,
) -> str:
    """The sentence spoken for a call, e.g.
    "Nomor antrian a satu, silakan menuju loket lima".

    ``service`` and ``tenant`` are the names filled into ``{service}`` and ``{tenant}``.
    """
    text = check_template(template).format(
        ticket=ticket_words(code, style, lettering),
        counter=counter_words(counter),
        service=service,
        tenant=tenant,
    )
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Lowercase words of ``text`` in order, with PAUSE for each punctuation mark."""
    return [PAUSE if token in ",.;:!?" else token for token in _TOKEN.findall(text.lower())]


def spoken_vocabulary(templates: Iterable[str], names: Iterable[str] = (),
                      lettering: Lettering = PLAIN) -> list[str]:
    """Every word an announcement can use with these templates and service/tenant names."""
    fixed = [string.Formatter().vformat(t, (), _Blank()) for t in templates]
    words = lettering.vocabulary() | number_words()
    words.update(token for text in [*fixed, *names] for token in tokens(text))
    words.discard(PAUSE)
    return sorted(words)


class _Blank(dict[str, str]):
    """Format mapping that turns every placeholder into nothing."""

    def __missing__(self, key: str) -> str:
        return ""
