"""One word for an agency per audience: the office's pages (/admin...) say "tenan" (the SPEC's
word), the visitors' pages (kiosk, ticket status, TV, complaints, rating) say "instansi"."""

from __future__ import annotations

import re
from pathlib import Path

from texts.catalog import read_catalog

HERE = Path(__file__).resolve().parent.parent / "display_screens"
OFFICE = ("admin.html", "admin_live.html", "admin_productivity.html", "admin_complaints.html",
          "admin_complaint.html", "officers.html", "skm.html", "recap.html", "settings.html",
          "voice_studio.html")
VISITOR = ("kiosk.html", "display.html", "status.html", "status_survey.html", "complaint.html",
           "complaint_lookup.html", "complaint_link.html", "rating.html", "kiosk.js",
           "display.js", "status.js", "complaint.js", "survey.js", "rating.js")
KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']""")


def texts_of(name: str) -> dict[str, str]:
    folder = "static" if name.endswith(".js") else "templates"
    catalogue = {str(m.id): str(m.string) for m in read_catalog("id") if m.id}
    keys = KEY.findall((HERE / folder / name).read_text())
    assert keys, name  # the scan sees the page's texts
    return {key: catalogue[key] for key in keys if key in catalogue}


def test_office_pages_say_tenan() -> None:
    said = {(name, key, text) for name in OFFICE for key, text in texts_of(name).items()
            if re.search(r"\binstansi\b", text, re.I)}
    assert said == set()
    assert any(re.search(r"\btenan\b", text, re.I) for text in texts_of("officers.html").values())


def test_visitor_pages_say_instansi() -> None:
    said = {(name, key, text) for name in VISITOR for key, text in texts_of(name).items()
            if re.search(r"\btenan\b", text, re.I)}
    assert said == set()
    assert any(re.search(r"\binstansi\b", text, re.I) for text in texts_of("kiosk.html").values())
