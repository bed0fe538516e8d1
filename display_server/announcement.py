"""The site config's `[announcement]` section (how calls are spoken), parsed and validated."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

from texts import t

NumberStyle = Literal["words", "digits"]
NUMBER_STYLES: tuple[NumberStyle, ...] = ("words", "digits")
DEFAULT_TEMPLATE = t("announce.template")
DEFAULT_MERGE_TEMPLATE = t("announce.merge_template")
PLACEHOLDERS = frozenset({"ticket", "counter", "service", "tenant"})
SECTION = "announcement"
KEYS = ("template", "number_style", "repeat", "max_age_seconds", "rate", "voice", "voice_pack",
        "merge_template", "merge_max", "letter_names", "spelled_letters", "spelling_words")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_template(template: str) -> str:
    """Return ``template`` if it is a valid announcement template, else raise ValueError.

    A valid template names ``{ticket}`` and uses no placeholders but
    ``{ticket}``, ``{counter}``, ``{service}`` and ``{tenant}``, without format specs.
    """
    if not isinstance(template, str) or not template.strip():
        raise ValueError(t("config.template_empty", template=template))
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ValueError(t("config.template_invalid", template=template, error=error)) from None
    names = set()
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise ValueError(t("config.template_placeholder", template=template, name=name,
                               allowed=", ".join(sorted(PLACEHOLDERS))))
        names.add(name)
    if "ticket" not in names:
        raise ValueError(t("config.template_no_ticket", template=template))
    return template


@dataclass(frozen=True)
class Announcement:
    """How calls are announced. Construction validates every field (ValueError names it)."""

    template: str = DEFAULT_TEMPLATE
    number_style: NumberStyle = "words"
    repeat: int = 1
    max_age_seconds: float = 120.0
    rate: int = 150
    voice: str = "id"
    voice_pack: str | None = None  # a folder of recorded clips, relative to the data dir
    # a burst: up to merge_max waiting calls spoken as one announcement, each call's part from
    # merge_template, joined with commas ("Nomor A12 ke loket 3, nomor B4 ke loket 7")
    merge_template: str = DEFAULT_MERGE_TEMPLATE
    merge_max: int = 3
    # how a ticket's letters are said: a letter's name ("C" = "ce", audio/letters.py) unless
    # renamed here; a letter in spelled_letters also gets its spelling word ("ce untuk cinta").
    # C by default: espeak-ng's "ce" is heard as the word "ke"; "" spells no letter
    letter_names: Mapping[str, str] = field(default_factory=dict)
    spelled_letters: str = "C"
    spelling_words: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            check_template(self.template)
        except ValueError as error:
            raise ValueError(f"[{SECTION}] template: {error}") from None
        if self.number_style not in NUMBER_STYLES:
            _fail("number_style", t("config.one_of", choices=", ".join(NUMBER_STYLES)),
                  self.number_style)
        _check_int(self.repeat, "repeat", 1, 10)
        try:
            check_template(self.merge_template)
        except ValueError as error:
            raise ValueError(f"[{SECTION}] merge_template: {error}") from None
        _check_int(self.merge_max, "merge_max", 1, 6)
        age = self.max_age_seconds
        if isinstance(age, bool) or not isinstance(age, int | float) or not 0 < age < 1e9:
            _fail("max_age_seconds", t("config.positive_seconds"), age)
        _check_int(self.rate, "rate", 80, 450)
        if not isinstance(self.voice, str) or not self.voice.strip():
            _fail("voice", t("config.voice_name"), self.voice)
        pack = self.voice_pack
        if pack is not None and (not isinstance(pack, str) or not pack.strip()):
            _fail("voice_pack", t("config.folder_path"), pack)
        for key in ("letter_names", "spelling_words"):
            _check_letter_words(key, getattr(self, key))
        spelled = self.spelled_letters
        if not isinstance(spelled, str) or not set(spelled) <= set(LETTERS):
            _fail("spelled_letters", t("config.capital_letters"), spelled)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Announcement:
        """Read the TOML `[announcement]` table. Raises ValueError naming the bad key."""
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            problem = t("config.unknown_key", allowed=", ".join(KEYS))
            raise ValueError(f"[{SECTION}] {unknown[0]}: {problem}")
        values = {key: data[key] for key in KEYS if key in data}
        if isinstance(values.get("max_age_seconds"), int):
            values["max_age_seconds"] = float(values["max_age_seconds"])
        return cls(**values)


def _check_int(value: Any, key: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _fail(key, t("config.whole_number", lo=low, hi=high), value)


def _check_letter_words(key: str, value: Any) -> None:
    """A table from capital letters to what is said for them: words of letters only."""
    if not isinstance(value, Mapping):
        _fail(key, t("config.letter_words"), value)
    for letter, words in value.items():
        if (letter not in LETTERS or len(letter) != 1 or not isinstance(words, str)
                or not words.split()
                or not all(w.isalpha() for w in words.replace("-", " ").split())):
            _fail(f"{key}.{letter}", t("config.letter_words"), words)


def _fail(key: str, expected: str, value: Any) -> NoReturn:
    problem = t("config.value_not", expected=expected, value=value)
    raise ValueError(f"[{SECTION}] {key}: {problem}")
