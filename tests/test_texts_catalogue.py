"""The catalogue is complete and tidy: every key the code, templates and page scripts name
(pybabel extract with babel.cfg) has Indonesian text, no key is left unused, and no
Indonesian a person reads is written outside texts/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from texts.catalog import read_catalog

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("antrian", "audio", "counter_client", "display_screens", "display_server", "protocol",
            "texts")


def used_keys() -> set[str]:
    """What `pybabel extract -F babel.cfg -k t -k N_` finds in every package."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords: dict[str, None] = {"t": None, "N_": None}
    return {str(found[2]) for package in PACKAGES
            for found in extract_from_dir(ROOT / package, method_map, options_map, keywords)}


def test_every_key_used_has_indonesian_text_and_none_is_unused() -> None:
    catalogue = read_catalog("id")
    texts = {str(m.id): m.string for m in catalogue if m.id}
    used = used_keys()
    assert len(used) > 200  # the extraction sees Python, templates and scripts
    assert sorted(used - texts.keys()) == []
    assert sorted(key for key in used if not texts.get(key)) == []
    assert sorted(texts.keys() - used) == []


def test_a_second_language_only_has_keys_indonesian_has() -> None:
    indonesian = {m.id for m in read_catalog("id") if m.id}
    english = {m.id for m in read_catalog("en") if m.id}
    assert english and english <= indonesian


# Words of Indonesian a person reads (the program's name "antrian counter/token/..." aside).
INDONESIAN = re.compile(
    r"\b(Silakan|silakan|Loket|loket|Nomor|nomor|tidak|Tidak|sudah|"
    r"antrian (?!(?:counter|token|serve|say|voice|report|announcer|demo|officer)\b)|Antrian |"
    r"menunggu|Menunggu|layanan|Layanan|dipanggil|Panggil|Selesai|Jeda|Tutup|"
    r"terputus|kesalahan|Masukkan|Berkas|pakai|belum|Belum)\b")

# Literals that may hold such words outside texts/, and why.
ALLOWED = {
    "audio/numbers.py": "number words (terbilang) are speech data the announcer joins",
    "audio/letters.py": "letter names are speech data the announcer joins",
    "display_screens/static/display.js:loket": "a pattern that strips 'Loket 5 –' from a "
                                                "counter's name, not text",
    "counter_client/commands.py:Panggil": "command-line help (English) names the key's label",
    "antrian/voice_studio.py:loket": "the studio preview's query parameter (?tiket=&loket=)",
    "display_screens/static/studio.js:loket": "the studio preview's query parameter",
    "display_screens/officer_admin.py:loket": "the path of the form that changes an officer's "
                                              "counters (/admin/petugas/{id}/loket)",
    "display_screens/templates/officers.html:loket": "the same form's action path",
}
COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*|\{#.*?#\}|<!--.*?-->", re.S)


def literals(path: Path) -> list[str]:
    """The string literals of a Python module (docstrings aside), or the code of a page or
    script without its comments."""
    if path.suffix != ".py":
        return [COMMENTS.sub("", path.read_text())]
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                                | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_indonesian_a_person_reads_outside_the_catalogue() -> None:
    found = []
    for package in PACKAGES[:-1]:
        for path in sorted((ROOT / package).rglob("*")):
            relative = str(path.relative_to(ROOT))
            if path.suffix not in (".py", ".html", ".js") or relative in ALLOWED:
                continue
            for literal in literals(path):
                for match in INDONESIAN.finditer(literal):
                    if f"{relative}:{match.group(1)}" not in ALLOWED:
                        found.append(f"{relative}: {literal[:80]!r}")
    assert found == []


def test_the_scan_sees_indonesian_in_code(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""Loket docs."""\nx = "Silakan menuju loket"  # Nomor\n')
    script = tmp_path / "s.js"
    script.write_text('/* Nomor */ const a = "Belum ada";\n')
    assert literals(module) == ["Silakan menuju loket"]
    assert INDONESIAN.search(literals(script)[0])
