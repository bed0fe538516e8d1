"""The visit report written out: JSON (the SPEC's shape), CSV and a text table with Indonesian
column headings, and an XLSX workbook (openpyxl) with one sheet per grouping; the
counter-productivity report as CSV and a table (a pause column per reason)."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]
from openpyxl.styles import Font  # type: ignore[import-untyped,unused-ignore]

from display_server.reporting.figures import COLUMNS, COUNTS
from texts import N_, number, t

HEADINGS = {
    "key": N_("report.key"), "name": N_("report.name"), "issued": N_("report.issued"),
    "called": N_("report.called"), "served": N_("report.served"),
    "completed": N_("report.completed"), "not_completed": N_("report.not_completed"),
    "no_show": N_("report.no_show"), "transferred": N_("report.transferred"),
    "wait_p50_s": N_("report.wait_p50_s"), "wait_p90_s": N_("report.wait_p90_s"),
    "wait_max_s": N_("report.wait_max_s"), "service_p50_s": N_("report.service_p50_s"),
    "service_p90_s": N_("report.service_p90_s"),
}
SHEETS = {
    "tenant": N_("report.by.tenant"), "service": N_("report.by.service"),
    "counter": N_("report.by.counter"), "day": N_("report.by.day"),
    "month": N_("report.by.month"), "officer": N_("report.by.officer"),
}


def _lines(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [*report["rows"], report["total"]]


def write_json(report: dict[str, Any], out: TextIO) -> None:
    json.dump(report, out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_csv(report: dict[str, Any], out: TextIO) -> None:
    """Indonesian headings, then the rows and the total; an empty cell where nothing was
    measured."""
    write_csv_of(report, out, COLUMNS, HEADINGS)


def write_csv_of(report: dict[str, Any], out: TextIO, columns: Sequence[str],
                 headings: Mapping[str, str]) -> None:
    """A report's rows and total as CSV under the given columns' catalogue headings."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(t(headings[c]) for c in columns)
    for line in _lines(report):
        writer.writerow("" if line[c] is None else line[c] for c in columns)


def write_table(report: dict[str, Any], out: TextIO) -> None:
    """For people: Indonesian headings, '1.234', '-' where nothing was measured."""
    write_table_of(report, out, COLUMNS, HEADINGS)


def write_table_of(report: dict[str, Any], out: TextIO, columns: Sequence[str],
                   headings: Mapping[str, str]) -> None:
    """A report's rows and total as a text table (key and name left, numbers right)."""
    cells = [[t(headings[c]) for c in columns]]
    for line in _lines(report):
        cells.append([str(line[c]) if c in ("key", "name") else
                      "-" if line[c] is None else number(line[c]) for c in columns])
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for r in cells:
        out.write("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                            for i, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip())
        out.write("\n")


def write_xlsx(reports: Sequence[dict[str, Any]], path: Path) -> None:
    """One sheet per grouping, named in Indonesian: headings in bold and frozen, counts and
    seconds as whole numbers with a thousands separator, the total in bold at the bottom."""
    book = Workbook()
    for empty in list(book.worksheets):
        book.remove(empty)
    for report in reports:
        sheet = book.create_sheet(t(SHEETS[report["by"]]))
        sheet.append([t(HEADINGS[c]) for c in COLUMNS])
        for line in _lines(report):
            sheet.append([line[c] for c in COLUMNS])
        bold = Font(bold=True)
        for cell in (*sheet[1], *sheet[sheet.max_row]):
            cell.font = bold
        for column in sheet.iter_cols(min_col=3, min_row=2):
            for cell in column:
                cell.number_format = "#,##0"
        sheet.freeze_panes = "C2"
        sheet.column_dimensions["B"].width = 32
        for letter_index in range(3, len(COLUMNS) + 1):
            sheet.column_dimensions[chr(64 + letter_index)].width = 12 if \
                COLUMNS[letter_index - 1] in COUNTS else 16
    book.save(path)


PRODUCTIVITY = {
    "key": N_("report.key"), "name": N_("report.name"), "served": N_("report.served"),
    "open_s": N_("report.productivity.open_s"),
    "served_per_open_hour": N_("report.productivity.rate"),
    "pause_total_s": N_("report.productivity.pause_total_s"),
}


def _productivity_cells(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Headings and values of the productivity report: a pause column per reason."""
    reasons = report["reasons"]
    headings = [*(t(heading) for heading in PRODUCTIVITY.values()),
                *(t("report.productivity.pause_s", reason=reason) for reason in reasons)]
    values = [[*(line[c] for c in PRODUCTIVITY), *(line["pause_s"].get(r, 0) for r in reasons)]
              for line in _lines(report)]
    return headings, values


def write_productivity_csv(report: dict[str, Any], out: TextIO) -> None:
    headings, values = _productivity_cells(report)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headings)
    for line in values:
        writer.writerow("" if v is None else v for v in line)


def write_productivity_table(report: dict[str, Any], out: TextIO) -> None:
    headings, values = _productivity_cells(report)
    cells = [headings, *([str(v) if i < 2 else "-" if v is None else number(v)
                          for i, v in enumerate(line)] for line in values)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headings))]
    for r in cells:
        out.write("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                            for i, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip())
        out.write("\n")
