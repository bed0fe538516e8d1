"""The satisfaction survey report (SKM) read from the archive's `survey_responses`:
`{"from", "to", "by", "rows", "total"}` with the ROW of reporting.skm per tenant, service,
counter, officer, day or month (one grouped SELECT, the same SQL on SQLite and PostgreSQL); the
respondent profile's counts, the monthly trend, the summary a printable report shows; CSV, text
table and XLSX with Indonesian headings."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]
from openpyxl.styles import Font  # type: ignore[import-untyped,unused-ignore]
from sqlalchemy import ColumnElement, Connection, and_, func, literal_column, select

from display_server.archive.apply import PROFILE_FIELDS
from display_server.archive.tables import survey_responses as sr
from display_server.config import SiteConfig
from display_server.reporting.skm import Tally, row, total, weakest
from display_server.reporting.visit import _named_keys
from display_server.survey_questions import ELEMENT_KEYS, PROFILE, questions
from texts import N_, number, t

SKM_GROUPINGS = ("tenant", "service", "counter", "officer", "day", "month")
COLUMNS = ("key", "name", "responses", *ELEMENT_KEYS, "ikm", "grade", "mutu")
HEADINGS = {"key": N_("report.key"), "name": N_("report.name"),
            "responses": N_("skm.report.responses"), "ikm": N_("skm.report.ikm"),
            "grade": N_("skm.report.grade"), "mutu": N_("skm.report.mutu")}
SHEETS = {"tenant": N_("report.by.tenant"), "service": N_("report.by.service"),
          "counter": N_("report.by.counter"), "officer": N_("skm.report.by.officer"),
          "day": N_("report.by.day"), "month": N_("report.by.month")}
KEYS: dict[str, ColumnElement[Any]] = {
    "tenant": sr.c.tenant,
    "service": sr.c.service,
    "counter": sr.c.counter,
    "officer": sr.c.officer,
    "day": sr.c.day,
    # literal numbers: the same SQL text in SELECT and GROUP BY (PostgreSQL compares them)
    "month": func.substr(sr.c.day, literal_column("1"), literal_column("7")),
}


def _where(site: str, first: date, last: date) -> ColumnElement[bool]:
    return and_(sr.c.site == site, sr.c.day >= first.isoformat(), sr.c.day <= last.isoformat())


def tallies(connection: Connection, site: str, first: date, last: date,
            by: str) -> dict[str | None, Tally]:
    """Each group's tally over the tickets of the local days first..last (None: answers with
    no value for the grouping, e.g. no officer signed in)."""
    key = KEYS[by]
    query = select(key, func.count(), *(func.sum(sr.c[e]) for e in ELEMENT_KEYS)).where(
        _where(site, first, last)).group_by(key)
    out: dict[str | None, Tally] = {}
    for group, responses, *sums in connection.execute(query):
        out[None if group is None else str(group)] = Tally(int(responses),
                                                           [int(s or 0) for s in sums])
    return out


def skm_report(connection: Connection, site: SiteConfig, first: date, last: date,
               by: str, officer_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The report's JSON (SPEC.md): every tenant, service, counter, day or month of the range
    is a row, answered or not; officers and keys the config no longer has are rows when they
    have answers. The total counts every answer (also those in no row, e.g. without officer).
    An officer's row is named by `officer_names` (officers.names, from Redis), else by id."""
    if by not in SKM_GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}")
    groups = tallies(connection, site.id, first, last, by)
    names = {} if by == "officer" else _named_keys(site, by, first, last)
    extra = sorted(k for k in groups if k is not None and k not in names)
    others = officer_names if by == "officer" and officer_names else {}
    rows = [row(key, names.get(key) or others.get(key, key), groups.get(key, Tally()))
            for key in [*names, *extra]]
    return {"from": first.isoformat(), "to": last.isoformat(), "by": by, "rows": rows,
            "total": row("total", t("report.total"), total(groups.values()))}


def trend(connection: Connection, site: SiteConfig, first: date, last: date) -> list[dict[str,
                                                                                          Any]]:
    """The index month by month: `[{"month": "YYYY-MM", "name", "responses", "ikm", "grade"}]`
    for each month of the range (ikm null in a month without answers)."""
    report = skm_report(connection, site, first, last, "month")
    return [{"month": r["key"], "name": r["name"], "responses": r["responses"],
             "ikm": r["ikm"], "grade": r["grade"]} for r in report["rows"]]


def profile_counts(connection: Connection, site: str, first: date,
                   last: date) -> dict[str, dict[str, int]]:
    """How many respondents gave each profile answer: field -> value -> count, every choice
    listed (0 when none), in the questionnaire's order, and `""` for those who left it out."""
    out: dict[str, dict[str, int]] = {}
    for name in PROFILE_FIELDS:
        counts = {value: 0 for value, _ in PROFILE[name][1]}
        counts[""] = 0
        column = sr.c[name]
        query = select(column, func.count()).where(_where(site, first, last)).group_by(column)
        for value, n in connection.execute(query):
            key = value or ""
            counts[key if key in counts else ""] += int(n)
        out[name] = counts
    return out


def summary(connection: Connection, site: SiteConfig, first: date, last: date,
            weakest_count: int = 3) -> dict[str, Any]:
    """What the printable SKM report shows for the whole site over the range: `total` (the
    ROW), `elements` (key, name, question and mean of each, in order), `weakest`, `profile`
    (field -> [{"value", "label", "count"}], the last `""` for no answer), `by_service` rows
    and the monthly `trend`."""
    group = total(tallies(connection, site.id, first, last, "month").values())
    whole = row("total", t("report.total"), group)
    texts = questions()
    elements = [{"key": e["key"], "name": e["name"], "question": e["question"],
                 "mean": whole[e["key"]]} for e in texts["elements"]]
    counts = profile_counts(connection, site.id, first, last)
    profile = {}
    for field in texts["profile"]:
        labels = {c["value"]: c["label"] for c in field["choices"]}
        labels[""] = t("skm.report.no_answer")
        profile[field["key"]] = {
            "label": field["label"],
            "choices": [{"value": v, "label": labels[v], "count": n}
                        for v, n in counts[field["key"]].items()]}
    return {"from": first.isoformat(), "to": last.isoformat(), "total": whole,
            "elements": elements, "weakest": weakest(group, weakest_count), "profile": profile,
            "by_service": skm_report(connection, site, first, last, "service")["rows"],
            "trend": trend(connection, site, first, last)}


def _heading(column: str) -> str:
    return column.upper() if column in ELEMENT_KEYS else t(HEADINGS[column])


def _lines(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [*report["rows"], {**report["total"], "key": ""}]


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column in ("key", "name", "grade", "mutu"):
        return str(value)
    return number(value)


def write_csv(report: dict[str, Any], out: TextIO) -> None:
    """Indonesian headings (U1..U9 as the regulation names them), then the rows and the total;
    an empty cell where nobody answered."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_heading(c) for c in COLUMNS)
    for line in _lines(report):
        writer.writerow("" if line[c] is None else line[c] for c in COLUMNS)


def write_table(report: dict[str, Any], out: TextIO) -> None:
    """For people: Indonesian headings and numbers (3,125), '-' where nobody answered."""
    cells = [[_heading(c) for c in COLUMNS]]
    cells += [[_cell(c, line[c]) for c in COLUMNS] for line in _lines(report)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    for r in cells:
        out.write("  ".join(cell.ljust(w) if i < 2 or i >= len(COLUMNS) - 2 else cell.rjust(w)
                            for i, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip())
        out.write("\n")


def write_xlsx(reports: Sequence[dict[str, Any]], path: Path) -> None:
    """One sheet per grouping: headings bold and frozen, means with three decimals, the IKM
    with two, the total in bold at the bottom."""
    book = Workbook()
    for empty in list(book.worksheets):
        book.remove(empty)
    for report in reports:
        sheet = book.create_sheet(t(SHEETS[report["by"]]))
        sheet.append([_heading(c) for c in COLUMNS])
        for line in _lines(report):
            sheet.append([line[c] for c in COLUMNS])
        bold = Font(bold=True)
        for cell in (*sheet[1], *sheet[sheet.max_row]):
            cell.font = bold
        for index, column in enumerate(COLUMNS, start=1):
            fmt = {"responses": "#,##0", "ikm": "0.00"}.get(
                column, "0.000" if column in ELEMENT_KEYS else None)
            if fmt is not None:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = fmt
        sheet.freeze_panes = "C2"
        sheet.column_dimensions["B"].width = 32
    book.save(path)
