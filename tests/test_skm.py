"""The satisfaction index (SKM) against worked examples computed by hand, with the mutu
boundaries 88,30/88,31 and 76,60/76,61."""

from __future__ import annotations

from decimal import Decimal

import pytest

from display_server.reporting import skm


def responses(n: int, sums: list[int]) -> list[list[int]]:
    """`n` responses whose answers to element k add up to sums[k]: each element answered
    with q = sums[k] // n by everyone, and q + 1 by the first sums[k] % n respondents."""
    out = [[0] * 9 for _ in range(n)]
    for k, s in enumerate(sums):
        q, extra = divmod(s, n)
        for i in range(n):
            out[i][k] = q + (1 if i < extra else 0)
    assert all(1 <= a <= 4 for r in out for a in r)
    return out


def test_a_small_worked_example() -> None:
    """Four respondents:
        U1..U9 = 4 4 4 4 4 4 4 4 4
                 3 3 3 3 3 3 3 3 3
                 4 3 2 4 3 2 4 3 2
                 1 2 3 4 1 2 3 4 1
    element sums 12 12 12 15 11 11 14 14 10 -> means 3,00 3,00 3,00 3,75 2,75 2,75 3,50 3,50
    2,50; their mean = 111/36 = 3,0833...; x 25 = 77,0833... -> IKM 77,08, B Baik."""
    group = skm.tally([[4] * 9, [3] * 9, [4, 3, 2, 4, 3, 2, 4, 3, 2],
                       [1, 2, 3, 4, 1, 2, 3, 4, 1]])
    row = skm.row("A", "Perpanjangan STNK", group)
    assert row == {
        "key": "A", "name": "Perpanjangan STNK", "responses": 4,
        "u1": 3.0, "u2": 3.0, "u3": 3.0, "u4": 3.75, "u5": 2.75, "u6": 2.75, "u7": 3.5,
        "u8": 3.5, "u9": 2.5, "ikm": 77.08, "grade": "B", "mutu": "Baik"}
    assert [w["key"] for w in skm.weakest(group)] == ["u9", "u5", "u6"]
    assert skm.weakest(group)[0] == {"key": "u9", "name": "Sarana dan prasarana",
                                     "mean": 2.5, "ikm": 62.5}


def test_element_means_are_rounded_half_up_to_three_decimals() -> None:
    """Three respondents answering U1 with 4, 4, 3: mean 11/3 = 3,6666... -> 3,667; U2 with
    1, 1, 2: 4/3 = 1,333..."""
    row = skm.row("x", "x", skm.tally([[4, 1, 4, 4, 4, 4, 4, 4, 4], [4, 1, 4, 4, 4, 4, 4, 4, 4],
                                       [3, 2, 4, 4, 4, 4, 4, 4, 4]]))
    assert (row["u1"], row["u2"]) == (3.667, 1.333)
    # the IKM comes from the exact means: (11 + 4 + 7 x 12) / 27 x 25 = 99/27 x 25 = 91,666...
    assert row["ikm"] == 91.67 and row["grade"] == "A"


def test_half_a_hundredth_rounds_up() -> None:
    """Eight respondents, each element's answers adding up to 25 (e.g. 4 4 4 4 3 3 2 1): every
    mean 25/8 = 3,125; x 25 = 78,125 exactly -> 78,13 (ROUND_HALF_UP; banker's would say
    78,12)."""
    group = skm.tally(responses(8, [25] * 9))
    assert skm.ikm(group) == Decimal("78.13")
    assert skm.row("x", "x", group)["u1"] == 3.125


@pytest.mark.parametrize(("n", "sums", "ikm", "grade", "mutu"), [
    # 19 respondents, answers adding up to 604 (U1 68, the others 67): mean of means
    # 604/171 = 3,53216...; x 25 = 88,3040... -> 88,30: still B
    (19, [68] + [67] * 8, "88.30", "B", "Baik"),
    # 24 respondents, 763 (U1..U7 85, U8 and U9 84): 763/216 x 25 = 88,3101... -> 88,31: A
    (24, [85] * 7 + [84] * 2, "88.31", "A", "Sangat Baik"),
    # 26 respondents, 717 (U1..U6 80, U7..U9 79): 717/234 x 25 = 76,6025... -> 76,60: C
    (26, [80] * 6 + [79] * 3, "76.60", "C", "Kurang Baik"),
    # 19 respondents, 524 (U1, U2 59, the others 58): 524/171 x 25 = 76,6081... -> 76,61: B
    (19, [59] * 2 + [58] * 7, "76.61", "B", "Baik"),
    # everyone answers 4: 100,00 A; everyone 1: 25,00 D
    (5, [20] * 9, "100.00", "A", "Sangat Baik"),
    (5, [5] * 9, "25.00", "D", "Tidak Baik"),
    # 5 respondents, 13 for each element: every mean 2,6; x 25 = 65,00 exactly: C
    (5, [13] * 9, "65.00", "C", "Kurang Baik"),
])
def test_the_mutu_boundaries(n: int, sums: list[int], ikm: str, grade: str, mutu: str) -> None:
    group = skm.tally(responses(n, sums))
    assert group.responses == n and group.sums == sums
    assert skm.ikm(group) == Decimal(ikm)
    row = skm.row("x", "x", group)
    assert (row["ikm"], row["grade"], row["mutu"]) == (float(ikm), grade, mutu)


def test_grade_on_the_rounded_index() -> None:
    assert [skm.grade(Decimal(v))[0] for v in (
        "100", "88.31", "88.30", "76.61", "76.60", "65.00", "64.99", "25.00")] == [
        "A", "A", "B", "B", "C", "C", "D", "D"]


def test_no_responses_give_nulls_and_tallies_add_up() -> None:
    assert skm.row("B", "KTP-el", skm.Tally()) == {
        "key": "B", "name": "KTP-el", "responses": 0, **{f"u{n}": None for n in range(1, 10)},
        "ikm": None, "grade": None, "mutu": None}
    assert skm.weakest(skm.Tally()) == []
    one, two = skm.tally([[4] * 9]), skm.tally([[2] * 9, [3] * 9])
    both = skm.total([one, two])
    assert (both.responses, both.sums) == (3, [9] * 9)
    assert skm.ikm(both) == Decimal("75.00")
    with pytest.raises(ValueError):
        skm.Tally().add([4] * 8)
