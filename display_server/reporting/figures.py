"""The visit report's figures, pure: per group, counts and durations in whole seconds kept as
histograms (seconds → how many), and the SPEC's ROW built from them with nearest-rank
percentiles. The query (reporting.query) fills them; nothing here touches a database."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

COUNTS = ("issued", "called", "served", "completed", "not_completed", "no_show", "transferred")
TIMES = ("wait_p50_s", "wait_p90_s", "wait_max_s", "service_p50_s", "service_p90_s")
COLUMNS = ("key", "name", *COUNTS, *TIMES)
GROUPINGS = ("tenant", "service", "counter", "officer", "day", "month")


@dataclass
class Tally:
    """What one group collected: counts by column, wait and service seconds as histograms."""

    counts: Counter[str] = field(default_factory=Counter)
    waits: Counter[int] = field(default_factory=Counter)
    services: Counter[int] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.waits.update(other.waits)
        self.services.update(other.services)


def nearest_rank(histogram: Mapping[int, int], percent: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least `percent` % of the values
    at or below it (None when there are none). p50 of 1, 2, 3, 4 is 2; p90 of 1..10 is 9."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(percent * total / 100))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to the total")


def row(key: str, name: str, tally: Tally) -> dict[str, Any]:
    """One ROW of the SPEC's JSON: key, name, the counts, then the seconds (None: nothing to
    measure). served = completed + not_completed."""
    counts = tally.counts
    figures: dict[str, Any] = {"key": key, "name": name}
    for column in COUNTS:
        figures[column] = counts[column]
    figures["served"] = counts["completed"] + counts["not_completed"]
    figures["wait_p50_s"] = nearest_rank(tally.waits, 50)
    figures["wait_p90_s"] = nearest_rank(tally.waits, 90)
    figures["wait_max_s"] = max(tally.waits) if tally.waits else None
    figures["service_p50_s"] = nearest_rank(tally.services, 50)
    figures["service_p90_s"] = nearest_rank(tally.services, 90)
    return figures


def total(tallies: Iterable[Tally]) -> Tally:
    """Every group's tally together (the report's total)."""
    whole = Tally()
    for tally in tallies:
        whole.add(tally)
    return whole
