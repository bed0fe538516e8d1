"""The words people read: the catalogue keeps none of the wordings issue 12 retired, writes
"Loket 5" one way, times the Indonesian way (05.07), and the office's report headings (table,
CSV, XLSX, productivity, the command's errors) carry no English."""

from __future__ import annotations

import re
from datetime import time

import pytest

from display_server.reporting import skm_report
from display_server.reporting.formats import HEADINGS, PRODUCTIVITY, SHEETS
from texts import clock, t
from texts.catalog import read_catalog

# retired wording -> what replaced it (issue 12, "Words")
RETIRED = {
    r"\btoken loket\b": "Kode akses",
    r"\btoken kantor\b": "Kode akses kantor",
    r"\btoken kios\b": "kode akses kios",
    r"\bkonsol petugas\b": "Layar Petugas",
    r"\bterakhir memutar\b": "Suara terakhir",
    r"\btertinggal\b": "Suara terlambat — periksa layar ini",
    r"\{n\} menunggu": "{n} orang menunggu",
    r"\bbaru dilewati\b": "Nomor terlewat",
    r"^ulangi$": "Panggil ulang",  # the recall button (Ulangi PIN, repeat the PIN, is fine)
    r"\b(?:sholat|shalat|solat)\b": "salat (KBBI)",
}
# Texts that are speech, not writing: the announcer says them, nobody reads the capital L.
SPOKEN = ("announce.",)
# English words that must not head a column or a sheet of the office's reports.
ENGLISH = {"code", "name", "issued", "called", "served", "completed", "not", "no", "show",
           "transferred", "wait", "waiting", "service", "services", "tenant", "counter", "day",
           "month", "max", "open", "pause", "paused", "rate", "seconds", "minutes", "hour",
           "hours", "average", "key", "reason", "done", "skipped", "responses", "grade", "index",
           "officer", "score"}


def catalogue() -> dict[str, str]:
    texts = {}
    for message in read_catalog("id"):
        if message.id:
            texts[str(message.id)] = str(message.string)
    return texts


@pytest.mark.parametrize("pattern", sorted(RETIRED))
def test_no_text_keeps_a_retired_wording(pattern: str) -> None:
    found = {key: text for key, text in catalogue().items()
             if re.search(pattern, text, re.IGNORECASE)}
    assert found == {}, f"use {RETIRED[pattern]!r}"


def test_the_new_wordings_are_in_place() -> None:
    assert t("console.token") == "Kode akses"
    assert t("console.title") == "Layar Petugas"
    assert t("admin.last_played") == "Suara terakhir"
    assert t("admin.silent") == "Suara terlambat — periksa layar ini"
    assert t("kiosk.waiting", n=4) == "4 orang menunggu"
    assert t("console.skipped_list") == "Nomor terlewat"
    assert t("action.recall") == "Panggil ulang"
    assert t("action.done") == "Selesai"  # the key's name stays (SPEC: S Selesai) ...
    assert t("report.served") == "Dilayani"  # ... the outcome is Dilayani, then Tuntas or not
    assert t("report.completed") == "Tuntas"


def test_a_counter_with_its_number_is_always_loket_with_a_capital() -> None:
    found = {key: text for key, text in catalogue().items()
             if not key.startswith(SPOKEN) and re.search(r"(?<!nomor )\bloket (?:\{|\d|N\b)", text)}
    assert found == {}, "write 'Loket 5', as the TV and the console do"
    assert t("status.called", counter=5) == "Silakan menuju Loket 5"
    assert t("site.counter_name", number=5) == "Loket 5"


def test_one_time_format_the_indonesian_one() -> None:
    assert clock(time(5, 7)) == "05.07"
    assert t("status.issued", time=clock(time(5, 7))) == "Diambil pukul 05.07"
    ranges = re.compile(r"\d{2}:\d{2}-\d{2}:\d{2}")  # the hours' input syntax (TOML, settings)
    clocks = {key: text for key, text in catalogue().items()
              if re.search(r"\b\d{1,2}:\d{2}\b", ranges.sub("", text))
              and not key.startswith("config.")}
    assert clocks == {}, "times are written 05.07 (config errors quote the TOML's 08:00)"


def test_report_headings_have_no_english_word() -> None:
    headings = [t(key) for key in (*HEADINGS.values(), *PRODUCTIVITY.values(),
                                   *SHEETS.values())]
    headings += [t("report.productivity.pause_s", reason=r) for r in ("Istirahat", "Ibadah")]
    headings += [t("report.total")]
    headings += [t(key) for key in (*skm_report.HEADINGS.values(), *skm_report.SHEETS.values())]
    words = {w.lower() for heading in headings for w in re.findall(r"[A-Za-z_]+", heading)}
    assert words & ENGLISH == set(), headings
    assert len(headings) >= 20


@pytest.mark.parametrize(("argv", "says"), [
    (["token"], "antrian token: pilih salah satu: --counter --admin --kiosk"),
    (["token", "--counter", "x"], "antrian token: --counter: nilai 'x' tidak sah"),
    (["token", "--counter", "1", "--admin"], "--admin tidak dapat dipakai bersama --counter"),
    (["bogus"], "antrian: perintah: 'bogus' tidak dikenal (pilihan: 'serve', 'token',"),
    (["serve", "--port"], "antrian serve: --port: nilainya belum diberikan"),
    (["demo", "--rate", "0"], "--rate: harus lebih dari 0 dan paling banyak 1000"),
    (["token", "--admin", "--zzz"], "antrian: pilihan tidak dikenal: --zzz"),
])
def test_option_errors_are_one_indonesian_line(argv: list[str], says: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """What the office types wrong is answered in Indonesian, one line, exit 2 (argparse
    would write "error: the following arguments are required" and a usage line)."""
    from antrian.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    assert not {"error", "usage", "argument", "invalid", "expected", "required"} & set(
        re.findall(r"[a-z]+", err))
