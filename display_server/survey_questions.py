"""The satisfaction survey (SKM, Permenpan RB No. 14/2017) as data: the nine elements U1-U9 with
their question and four answers in the regulation's wording (answer 1 the worst, 4 the best),
and the optional respondent profile with its choices. Pages render it; the API checks answers
against it; the report names elements from it. Every text comes from the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from texts import DEFAULT_LOCALE, N_, t

ELEMENTS = 9
ANSWERS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Element:
    """One element: `key` u1..u9, catalogue keys of its name, question and four answers."""

    key: str
    name: str
    question: str
    answers: tuple[str, str, str, str]


def _element(n: int, name: str, question: str, *answers: str) -> Element:
    a1, a2, a3, a4 = answers
    return Element(f"u{n}", name, question, (a1, a2, a3, a4))


ELEMENT_TEXTS: tuple[Element, ...] = (
    _element(1, N_("skm.u1.name"), N_("skm.u1.question"), N_("skm.answer.tidak_sesuai"),
             N_("skm.answer.kurang_sesuai"), N_("skm.answer.sesuai"),
             N_("skm.answer.sangat_sesuai")),
    _element(2, N_("skm.u2.name"), N_("skm.u2.question"), N_("skm.answer.tidak_mudah"),
             N_("skm.answer.kurang_mudah"), N_("skm.answer.mudah"),
             N_("skm.answer.sangat_mudah")),
    _element(3, N_("skm.u3.name"), N_("skm.u3.question"), N_("skm.answer.tidak_cepat"),
             N_("skm.answer.kurang_cepat"), N_("skm.answer.cepat"),
             N_("skm.answer.sangat_cepat")),
    _element(4, N_("skm.u4.name"), N_("skm.u4.question"), N_("skm.answer.sangat_mahal"),
             N_("skm.answer.cukup_mahal"), N_("skm.answer.murah"), N_("skm.answer.gratis")),
    _element(5, N_("skm.u5.name"), N_("skm.u5.question"), N_("skm.answer.tidak_sesuai"),
             N_("skm.answer.kurang_sesuai"), N_("skm.answer.sesuai"),
             N_("skm.answer.sangat_sesuai")),
    _element(6, N_("skm.u6.name"), N_("skm.u6.question"), N_("skm.answer.tidak_kompeten"),
             N_("skm.answer.kurang_kompeten"), N_("skm.answer.kompeten"),
             N_("skm.answer.sangat_kompeten")),
    _element(7, N_("skm.u7.name"), N_("skm.u7.question"), N_("skm.answer.tidak_sopan"),
             N_("skm.answer.kurang_sopan"), N_("skm.answer.sopan"),
             N_("skm.answer.sangat_sopan")),
    _element(8, N_("skm.u8.name"), N_("skm.u8.question"), N_("skm.answer.tidak_ada"),
             N_("skm.answer.tidak_berfungsi"), N_("skm.answer.kurang_maksimal"),
             N_("skm.answer.dikelola_baik")),
    _element(9, N_("skm.u9.name"), N_("skm.u9.question"), N_("skm.answer.buruk"),
             N_("skm.answer.cukup"), N_("skm.answer.baik"), N_("skm.answer.sangat_baik")),
)
ELEMENT_KEYS = tuple(e.key for e in ELEMENT_TEXTS)

# profile field -> (catalogue key of its label, ((value, catalogue key of its text), ...))
PROFILE: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "gender": (N_("skm.profile.gender"), (
        ("l", N_("skm.gender.l")), ("p", N_("skm.gender.p")))),
    "age": (N_("skm.profile.age"), (
        ("lt20", N_("skm.age.lt20")), ("20-29", N_("skm.age.20")), ("30-39", N_("skm.age.30")),
        ("40-49", N_("skm.age.40")), ("50-59", N_("skm.age.50")),
        ("60+", N_("skm.age.60")))),
    "education": (N_("skm.profile.education"), (
        ("sd", N_("skm.education.sd")), ("smp", N_("skm.education.smp")),
        ("sma", N_("skm.education.sma")), ("diploma", N_("skm.education.diploma")),
        ("s1", N_("skm.education.s1")), ("s2", N_("skm.education.s2")),
        ("s3", N_("skm.education.s3")))),
    "occupation": (N_("skm.profile.occupation"), (
        ("pns", N_("skm.occupation.pns")), ("tni", N_("skm.occupation.tni")),
        ("polri", N_("skm.occupation.polri")), ("swasta", N_("skm.occupation.swasta")),
        ("wirausaha", N_("skm.occupation.wirausaha")),
        ("pelajar", N_("skm.occupation.pelajar")), ("lainnya", N_("skm.occupation.lainnya")))),
}


def profile_values(field: str) -> tuple[str, ...]:
    """The values a profile field accepts (what the API checks)."""
    return tuple(value for value, _ in PROFILE[field][1])


def element_name(key: str, locale: str = DEFAULT_LOCALE) -> str:
    """The name of element `key` (u1..u9), e.g. "Persyaratan"."""
    for element in ELEMENT_TEXTS:
        if element.key == key:
            return t(element.name, locale=locale)
    raise KeyError(key)


def questions(locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """The survey as pages render it:
    `{"elements": [{"key": "u1", "number": 1, "name", "question", "answers": [{"value": 1,
    "label"}, ... 4]}, ... 9], "profile": [{"key": "gender", "label", "choices": [{"value",
    "label"}, ...]}, ...]}` - answers from 1 (worst) to 4 (best); the profile is optional."""

    def text(key: str) -> str:
        return t(key, locale=locale)

    return {
        "elements": [
            {"key": e.key, "number": n, "name": text(e.name), "question": text(e.question),
             "answers": [{"value": v, "label": text(a)}
                         for v, a in zip(ANSWERS, e.answers, strict=True)]}
            for n, e in enumerate(ELEMENT_TEXTS, start=1)],
        "profile": [
            {"key": key, "label": text(label),
             "choices": [{"value": value, "label": text(choice)} for value, choice in choices]}
            for key, (label, choices) in PROFILE.items()],
    }
