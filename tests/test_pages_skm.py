"""The SKM report on /admin in headless Chromium: the index of today and of the range on the
dashboard, the printable report (/admin/skm) in the regulation's layout and its PDF (also from
`antrian report --skm --format pdf`), each showing the IKM of answers given through the
tickets' status links, computed here by hand."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from test_pages_support import SCREENSHOTS, Live, admin_sign_in, screenshot, text, until

from antrian.cli import main

ANSWERS = (
    ([4, 3, 4, 2, 3, 4, 4, 1, 3], {"gender": "p", "age": "30-39"}),
    ([3, 3, 3, 3, 3, 3, 3, 3, 3], {"gender": "l", "education": "s1"}),
    ([3, 4, 1, 4, 4, 2, 3, 2, 4], None),
)


def comma(value: Fraction, places: int) -> str:
    """`value` rounded half up to `places` decimals, written the Indonesian way (3,333)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)).replace(
        ".", ",")


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def pdf_words(path: Path) -> list[tuple[str, float, float, float, float]]:
    """The first page's words with their boxes (text, x min, y min, x max, y max)."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout
    found = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                       r'yMax="([\d.]+)">([^<]*)</word>', html)
    return [(w, float(x0), float(y0), float(x1), float(y1)) for x0, y0, x1, y1, w in found]


def assert_headline_stacked(path: Path, ikm: str) -> None:
    """In the PDF's three result boxes each label stands above its value, both at the box's
    left edge (the PDF once lost its stylesheet: 'Mutu pelayananC', '(konversi × / 25)75,93'),
    and the page is set in the stylesheet's DejaVu Sans, not the browser's default serif."""
    words = pdf_words(path)
    for label, value in (("IKM", ikm), ("Mutu", "C"), ("Kinerja", "Kurang")):
        _, x0, _, _, bottom = min((w for w in words if w[0] == label), key=lambda w: w[2])
        below = [w for w in words if w[0] == value and abs(w[1] - x0) < 2 and w[2] >= bottom]
        assert below and below[0][2] - bottom < 30, (label, value, words[:40])
    times, twentyfive = next(w for w in words if w[0] == "×"), next(
        w for w in words if w[0] == "25)")
    assert abs(times[2] - twentyfive[2]) < 1  # '× 25' not broken across lines
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    assert "DejaVuSans" in fonts and "Serif" not in fonts, fonts


def answer_surveys(live: Live) -> None:
    """Three visitors are served at counter 1 and answer through their status links."""
    for answers, profile in ANSWERS:
        ticket = live.api.ticket("A")
        live.api.call(1)
        assert live.api.act(1, "done", {"outcome": "completed"}).status_code == 200
        body: dict[str, Any] = {"answers": answers}
        if profile:
            body["profile"] = profile
        r = live.api.client.post(ticket["status_url"] + "/survey", json=body)
        assert r.status_code == 201, r.text
    until(lambda: live.api.client.get("/api/health").json()["archive"]["lag"] == 0,
          timeout=10, what="the archive")


def test_skm_report_dashboard_page_and_pdf(live: Live, make_page: Any, tmp_path: Path) -> None:
    """The index (mean of the nine element means x 25, two decimals) is the one computed here,
    on the dashboard, the report page and in the PDF; NRR per element, the profile's counts and
    percentages and the weakest element are as answered."""
    answer_surveys(live)
    means = [Fraction(sum(a[0][n] for a in ANSWERS), len(ANSWERS)) for n in range(9)]
    ikm = comma(sum(means, Fraction(0)) / 9 * 25, 2)
    assert ikm == "75,93"  # 82 answers' points / 27 x 25 = 75,9259...

    page = make_page()
    anonymous = page.goto(f"{live.url}/admin/skm")
    assert anonymous is not None and anonymous.status == 401  # no office session, no figures
    admin_sign_in(page, live)
    page.locator("#skm-index").scroll_into_view_if_needed()
    screenshot(page, "admin-skm-index-1920x1080")
    for part in ("today", "range"):
        line = text(page, f'[data-skm="{part}"]')
        assert ikm in line and "mutu C (Kurang Baik)" in line and "3 responden" in line, line
    page.click("#skm-report")
    page.wait_for_selector("#skm-ikm")
    assert text(page, "#skm-ikm") == ikm
    assert text(page, "#skm-grade") == "C" and text(page, "#skm-mutu") == "Kurang Baik"
    assert text(page, "#skm-respondents") == "3 orang"
    assert text(page, "#skm-unit") == "MPP Uji"
    for n, mean in enumerate(means, start=1):
        cells = page.eval_on_selector_all(f'#skm-elements tr[data-element="U{n}"] td',
                                          "tds => tds.map(td => td.textContent)")
        assert cells[2] == comma(mean, 3), (n, cells)
        assert cells[3] == comma(mean / 9, 4), (n, cells)  # weight 1/9: the sum is the mean
    mean_text = comma(sum(means, Fraction(0)) / 9, 4)
    assert text(page, "#skm-mean") == text(page, "#skm-weighted-sum") == mean_text
    assert comma(Fraction(mean_text.replace(",", ".")) * 25, 2) == ikm  # the sum x 25 = IKM
    profile = page.eval_on_selector_all(
        "#skm-profile tbody tr", "trs => trs.map(tr => [...tr.querySelectorAll('td')]"
        ".map(td => td.textContent))")
    assert ["Perempuan", "1", "33,33"] in profile and ["Laki-laki", "1", "33,33"] in profile
    assert ["Tidak diisi", "1", "33,33"] in profile  # the third left the profile out
    tenants = page.eval_on_selector_all(
        "#skm-tenants tbody tr", "trs => trs.map(tr => [...tr.cells].map(td => td.textContent))")
    assert tenants == [["Samsat", "3", ikm, "C"], ["Disdukcapil", "0", "-", "-"]]
    weakest = page.eval_on_selector_all("#skm-weakest li", "lis => lis.map(l => l.dataset.element)")
    assert weakest[0] == "U8"  # (1 + 3 + 2) / 3 = 2,000: the lowest element
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "skm-report-full.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#skm-pdf")
    pdf = tmp_path / info.value.suggested_filename
    info.value.save_as(pdf)
    assert pdf.name.startswith("skm-") and pdf.read_bytes().startswith(b"%PDF")
    words = pdf_text(pdf)
    assert ikm in words and "Kurang Baik" in words and "MPP Uji" in words
    assert_headline_stacked(pdf, ikm)

    # the same report from the command line, read from the server's archive
    out = tmp_path / "skm-cli.pdf"
    command = ["report", "--config", str(live.config), "--data-dir", str(live.data_dir),
               "--skm", "--format", "pdf"]
    assert main([*command, "--out", str(out)]) == 0
    words = pdf_text(out)
    assert ikm in words and "3 orang" in words and "Penanganan pengaduan" in words
    assert main(command) == 2  # a PDF needs --out

    yesterday = (datetime.now(ZoneInfo("Asia/Jakarta")) - timedelta(days=1)).date().isoformat()
    page.goto(f"{live.url}/admin/skm?dari={yesterday}&sampai={yesterday}")  # before the answers
    assert page.is_visible("#skm-empty") and text(page, "#skm-ikm") == "-"
    assert text(page, "#skm-respondents") == "0 orang"
    bad = page.goto(f"{live.url}/admin/skm?dari=2026-13-40")
    assert bad is not None and bad.status == 400
