"""The site config's `[complaints]` section (the suggestion and complaint desk), parsed and
validated: the categories a visitor picks from, the service level (working days to answer), the
photo's size cap and the per-client rate of new complaints."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from display_server.settings import Rate
from texts import N_, t

SECTION = "complaints"
KEYS = ("categories", "answer_days", "working_days", "max_photo_kb", "rate")
CATEGORY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
# the built-in categories: (id, catalogue key of the name)
DEFAULT_CATEGORIES = (
    ("petugas", N_("complaint.category.petugas")),
    ("waktu", N_("complaint.category.waktu")),
    ("prosedur", N_("complaint.category.prosedur")),
    ("biaya", N_("complaint.category.biaya")),
    ("sarana", N_("complaint.category.sarana")),
    ("saran", N_("complaint.category.saran")),
    ("lainnya", N_("complaint.category.lainnya")),
)


@dataclass(frozen=True)
class Category:
    id: str
    name: str


def default_categories() -> tuple[Category, ...]:
    return tuple(Category(ident, t(key)) for ident, key in DEFAULT_CATEGORIES)


@dataclass(frozen=True)
class Complaints:
    """How the desk works. `answer_days`: the service level, counted in working days (Monday to
    Friday, not the site's holidays) unless `working_days` is false (calendar days)."""

    categories: tuple[Category, ...] = field(default_factory=default_categories)
    answer_days: int = 5
    working_days: bool = True
    max_photo_kb: int = 2048
    rate: Rate = field(default_factory=lambda: Rate(5, 300))

    def category(self, ident: str) -> Category | None:
        return next((c for c in self.categories if c.id == ident), None)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Complaints:
        """Read the TOML `[complaints]` table. Raises ValueError naming the bad key."""
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            _fail(unknown[0], t("config.unknown_key", allowed=", ".join(KEYS)))
        values: dict[str, Any] = {}
        if "categories" in data:
            values["categories"] = _categories(data["categories"])
        for key, lo, hi in (("answer_days", 1, 90), ("max_photo_kb", 16, 10 * 1024)):
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, int) \
                        or not lo <= value <= hi:
                    _fail(key, t("config.value_not", expected=t("config.whole_number", lo=lo,
                                                                   hi=hi), value=value))
                values[key] = value
        if "working_days" in data:
            if not isinstance(data["working_days"], bool):
                _fail("working_days", t("config.value_not", expected="true | false",
                                        value=data["working_days"]))
            values["working_days"] = data["working_days"]
        if "rate" in data:
            try:
                values["rate"] = Rate.parse(str(data["rate"]))
            except ValueError as exc:
                _fail("rate", str(exc))
        return cls(**values)


def _categories(raw: Any) -> tuple[Category, ...]:
    """`categories = [{id = "petugas", name = "Pelayanan petugas"}, ...]`: 1 to 20, ids unique."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= 20:
        _fail("categories", t("complaint.config.categories"))
    out: list[Category] = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"id", "name"}:
            _fail("categories", t("complaint.config.categories"))
        ident, name = item["id"], item["name"]
        if not isinstance(ident, str) or not CATEGORY_ID.fullmatch(ident) \
                or any(c.id == ident for c in out):
            _fail("categories", t("complaint.config.category_id", id=ident))
        if not isinstance(name, str) or not name.strip() or len(name) > 60:
            _fail("categories", t("complaint.config.category_name", id=ident))
        out.append(Category(ident, name.strip()))
    return tuple(out)


def _fail(key: str, problem: str) -> NoReturn:
    raise ValueError(f"[{SECTION}] {key}: {problem}")
