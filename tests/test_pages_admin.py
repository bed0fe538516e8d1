"""The office dashboard (/admin) in Chromium: today's figures agree with the API's state, tenant
rows open into their services, counters show what they do (a pause with its reason) and follow
the WebSocket, the downloads open as CSV and XLSX, and a bad range is an Indonesian 4xx page."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from playwright.sync_api import Page
from test_pages_support import Live, admin_sign_in, screenshot, text, until, wait_text

from texts import pause_reasons


def figure(page: Page, name: str) -> str:
    return text(page, f'[data-figure="{name}"] .a-value').strip()


def download(page: Page, selector: str, into: Path) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    path = into / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_dashboard_figures_tenants_counters_and_downloads(live: Live, make_page: Any,
                                                          tmp_path: Path) -> None:
    """After tickets are issued, called, served and a counter paused, the figures are the
    API's, the Samsat row opens into its services, counters say whom they serve or why they
    pause (and follow new calls live), and the CSV and XLSX hold the same counts."""
    for service in ("A", "A", "A", "B"):
        live.api.ticket(service)
    live.api.call(1)  # A001
    assert live.api.act(1, "done", {"outcome": "completed"}).status_code == 200
    live.api.call(1)  # A002
    live.api.call(2)  # B001
    meeting = pause_reasons()[2]
    assert live.api.act(3, "pause", {"reason": meeting}).status_code == 200
    state = live.api.state()
    office = {"Authorization": f"Bearer {live.api.admin_token()}"}
    assert live.api.client.post("/api/screens", json={"id": "lantai-1", "name": "Layar Lobi"},
                                headers=office).status_code == 201
    page = make_page()
    admin_sign_in(page, live)
    # a screen by the name people know it by, not its internal id
    assert text(page, '#screens tr[data-screen="lantai-1"] td').strip() == "Layar Lobi"

    assert figure(page, "visitors") == "4"
    assert figure(page, "served") == "1"
    assert figure(page, "waiting") == str(sum(state["waiting"].values())) == "1"
    assert figure(page, "avg_wait") != "–" and figure(page, "max_wait") != "–"
    samsat = 'details[data-tenant="samsat"]'
    assert page.is_hidden(f'{samsat} tr[data-service="A"]')
    assert page.eval_on_selector_all(f"{samsat} summary span", "s => s.map(n => n.textContent)") \
        == ["Samsat", "3", "1", "0", "1"]
    page.click(f"{samsat} summary")
    assert page.is_visible(f'{samsat} tr[data-service="A"]')
    cells = page.eval_on_selector_all(f'{samsat} tr[data-service="A"] td.n',
                                      "tds => tds.map(td => td.textContent.trim())")
    assert cells[:6] == ["3", "2", "1", "1", "0", "1"]
    assert f"Jeda: {meeting}" in text(page, '.a-counter[data-counter="3"]')
    assert "Melayani A002" in text(page, '.a-counter[data-counter="1"]')
    assert "Melayani B001" in text(page, '.a-counter[data-counter="2"]')

    live.api.call(4)  # A003, the last one waiting: the page follows without a reload
    wait_text(page, '.a-counter[data-counter="4"]', "Melayani A003")
    wait_text(page, '[data-figure="waiting"] .a-value', "0")
    assert page.is_visible(f'{samsat} tr[data-service="A"]')  # the open row stayed open
    page.wait_for_function("[...document.querySelectorAll('img.chart')].every(i => i.complete)")
    assert page.eval_on_selector_all("img.chart", "imgs => imgs.map(i => i.naturalWidth)") \
        == [720, 720, 720]
    # kept for review with the other pages' (artifacts/screenshots), the whole page
    page.screenshot(path=str(screenshot(page, "admin-dashboard-full")), full_page=True)

    # the downloads read the archive, which every event reaches within 2 s
    until(lambda: live.api.client.get("/api/health").json()["archive"]["lag"] == 0,
          timeout=10, what="the archive")
    rows = list(csv.reader(download(page, 'a[data-format="csv"][data-per="service"]',
                                    tmp_path).read_text("utf-8").splitlines()))
    assert rows[0][:4] == ["Kode", "Nama", "Diambil", "Dipanggil"]
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["A"][1:7] == ["Perpanjangan STNK", "3", "3", "1", "1", "0"]
    assert by_code["total"][1:3] == ["Jumlah", "4"]
    book = load_workbook(download(page, 'a[data-format="xlsx"][data-per="tenant"]', tmp_path))
    sheet = book["Tenan"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["Kode", "Nama", "Diambil"]
    assert values[1][:4] == ["samsat", "Samsat", 3, 3]
    assert sheet.cell(row=2, column=3).number_format == "#,##0"
    page.click("#recap")  # the yearly recap in the office's form, printable
    wait_text(page, "body", "Samsat")


def test_bad_ranges_answer_an_indonesian_error_page(live: Live, make_page: Any) -> None:
    """A malformed, inverted, future or too long range and an unknown grouping each get a 400
    page naming the problem; a download without the office's session is a 401 page."""
    page = make_page()
    answer = page.goto(f"{live.url}/admin/laporan.csv")
    assert answer is not None and answer.status == 401
    admin_sign_in(page, live)
    cases = {
        "/admin/laporan.csv?dari=2026-13-01": "dari bukan tanggal yang sah",
        "/admin/laporan.xlsx?dari=2026-03-02&sampai=2026-03-01": "sesudah tanggal akhir",
        "/admin?sampai=2999-01-01": "belum tiba",
        "/admin?dari=1900-01-01": "rentang terlalu panjang",
        "/admin/laporan.csv?per=bulanan": 'pengelompokan "bulanan" tidak dikenal',
    }
    for path, words in cases.items():
        answer = page.goto(f"{live.url}{path}")
        assert answer is not None and answer.status == 400, path
        assert words in text(page, ".error-message"), path
