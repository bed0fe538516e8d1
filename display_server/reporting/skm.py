"""The satisfaction index (SKM, Permenpan RB No. 14/2017) computed from answers: pure functions.

- NRR per element (u1..u9): the mean of its answers (1..4). Reported rounded half up to three
  decimals; the index is computed from the exact means, not from the rounded ones.
- IKM = (mean of the nine element means) x 25. Every response answers all nine elements, so the
  mean of the means is the sum of all answers / (9 x responses), an exact fraction. It is rounded
  once, at the end, to two decimals with ROUND_HALF_UP (78.125 -> 78.13): the regulation's
  tables read a value ,xx5 upwards, and banker's rounding would not.
- Mutu on the rounded IKM: A Sangat Baik 88.31-100, B Baik 76.61-88.30, C Kurang Baik
  65.00-76.60, D Tidak Baik 25.00-64.99.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from display_server.survey_questions import ELEMENT_KEYS, ELEMENTS, element_name
from texts import N_, t

# (grade, lowest rounded IKM of the grade, catalogue key of its mutu), best first
GRADES: tuple[tuple[str, Decimal, str], ...] = (
    ("A", Decimal("88.31"), N_("skm.mutu.a")),
    ("B", Decimal("76.61"), N_("skm.mutu.b")),
    ("C", Decimal("65.00"), N_("skm.mutu.c")),
    ("D", Decimal("25.00"), N_("skm.mutu.d")),
)
SCALE = 25
ELEMENT_DECIMALS = Decimal("0.001")
IKM_DECIMALS = Decimal("0.01")


@dataclass
class Tally:
    """A group's answers: how many responses, and each element's sum of answers."""

    responses: int = 0
    sums: list[int] = field(default_factory=lambda: [0] * ELEMENTS)

    def add(self, answers: Sequence[int]) -> None:
        """Count one response of nine answers."""
        if len(answers) != ELEMENTS:
            raise ValueError(f"a response has {ELEMENTS} answers, not {len(answers)}")
        self.responses += 1
        self.sums = [s + a for s, a in zip(self.sums, answers, strict=True)]

    def merge(self, other: Tally) -> None:
        self.responses += other.responses
        self.sums = [a + b for a, b in zip(self.sums, other.sums, strict=True)]


def tally(responses: Iterable[Sequence[int]]) -> Tally:
    out = Tally()
    for answers in responses:
        out.add(answers)
    return out


def total(tallies: Iterable[Tally]) -> Tally:
    out = Tally()
    for one in tallies:
        out.merge(one)
    return out


def element_means(group: Tally) -> list[Fraction] | None:
    """The exact mean of each element (NRR per element), None without responses."""
    if group.responses == 0:
        return None
    return [Fraction(s, group.responses) for s in group.sums]


def half_up(value: Fraction, places: Decimal) -> Decimal:
    """`value` rounded half up (away from zero for these positive values) to `places`."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    # 28 significant digits are far more than a fraction of two small integers needs to
    # decide the rounding, unless it is exactly on the half, where the division is exact
    return exact.quantize(places, rounding=ROUND_HALF_UP)


def ikm(group: Tally) -> Decimal | None:
    """The index: the mean of the nine element means x 25, rounded half up to two decimals."""
    means = element_means(group)
    if means is None:
        return None
    return half_up(sum(means, Fraction(0)) / ELEMENTS * SCALE, IKM_DECIMALS)


def grade(index: Decimal) -> tuple[str, str]:
    """The grade letter and the mutu (kinerja unit pelayanan) of a rounded IKM."""
    for letter, lowest, mutu in GRADES:
        if index >= lowest:
            return letter, t(mutu)
    letter, _, mutu = GRADES[-1]
    return letter, t(mutu)  # below 25 cannot happen with answers 1..4


def row(key: str, name: str, group: Tally) -> dict[str, Any]:
    """The SPEC's ROW: key, name, responses, u1..u9 (element means, null without responses),
    ikm, grade, mutu (null without responses)."""
    means = element_means(group)
    index = ikm(group)
    letter, mutu = grade(index) if index is not None else (None, None)
    out: dict[str, Any] = {"key": key, "name": name, "responses": group.responses}
    for n, element in enumerate(ELEMENT_KEYS):
        out[element] = None if means is None else float(half_up(means[n], ELEMENT_DECIMALS))
    out.update({"ikm": None if index is None else float(index), "grade": letter, "mutu": mutu})
    return out


def weakest(group: Tally, count: int = 3) -> list[dict[str, Any]]:
    """The elements with the lowest means, lowest first (ties in element order): `key`,
    `name`, `mean`, and `ikm` (the element's mean x 25, its own index). Empty without
    responses."""
    means = element_means(group)
    if means is None:
        return []
    order = sorted(range(ELEMENTS), key=lambda n: (means[n], n))[:count]
    return [{"key": ELEMENT_KEYS[n], "name": element_name(ELEMENT_KEYS[n]),
             "mean": float(half_up(means[n], ELEMENT_DECIMALS)),
             "ikm": float(half_up(means[n] * SCALE, IKM_DECIMALS))} for n in order]
