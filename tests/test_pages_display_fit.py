"""The lobby TV on the demo site in Chromium: long agency names are whole in the normal face
(a long word breaks between its syllables, never squeezed), the waiting panel says which page
it shows, and a zone's TV with few counters has tiles of a sensible size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_pages_display_tv import demo_site
from test_pages_support import screenshot

ALWAYS_OPEN = ("A", "B", "D", "F", "I", "J", "K", "L", "M", "N")  # services without hours


def test_names_whole_and_unsqueezed_and_the_waiting_page_named(
        server_factory: Any, make_page: Any, tmp_path: Path) -> None:
    live = demo_site(server_factory, tmp_path)
    for service in ALWAYS_OPEN:
        answer = live.api.client.post("/api/tickets", json={"service": service},
                                      headers=live.api.kiosk_auth())
        assert answer.status_code == 201, answer.text
    for width, height in ((1920, 1080), (1366, 768)):
        page = make_page(width, height)
        page.goto(f"{live.url}/display?mute=1")
        page.wait_for_function("document.querySelectorAll('.tile').length === 29")
        page.wait_for_function("document.querySelectorAll('.chip.some').length === 10")
        squeezed = page.evaluate("""Array.from(document.querySelectorAll(
            '.tile-name > span, .chip:not(.off-page) .chip-name')).filter(
            s => s.offsetParent !== null && (s.style.fontStretch || s.style.transform))
            .map(s => s.textContent)""")
        assert squeezed == []
        names = page.eval_on_selector_all(".tile-name > span",
                                          "s => s.map(n => n.textContent.replace(/\\u00ad/g, ''))")
        assert "BPJS Ketenagakerjaan" in names and "Perumdam Tirta Albantani" in names
        shown = page.locator("#waiting-page")
        assert shown.is_visible()
        first = shown.text_content() or ""
        assert first.startswith("1 dari ") and int(first.split()[-1]) >= 2
        page.evaluate("pageWaiting(true)")  # the panel's next turn
        assert shown.text_content() == "2 dari " + first.split()[-1]
        screenshot(page, f"display-fit-{width}x{height}")


def test_a_zone_tv_with_three_counters_has_moderate_tiles(
        server_factory: Any, make_page: Any, tmp_path: Path) -> None:
    live = demo_site(server_factory, tmp_path)
    page = make_page(1920, 1080)
    page.goto(f"{live.url}/display?mute=1&profile=samsat")
    page.wait_for_function("document.querySelectorAll('.tile').length === 3")
    page.wait_for_timeout(200)
    boxes = page.eval_on_selector_all(".tile", """t => t.map(n => {
        const r = n.getBoundingClientRect(); return [r.width, r.height]; })""")
    for w, h in boxes:
        assert 300 <= w <= 26 * 16 + 1 and 180 <= h <= 16 * 16 + 1, boxes
    code = page.eval_on_selector(".tile-code", "n => parseFloat(getComputedStyle(n).fontSize)")
    assert code >= 60  # still far bigger than a 29-counter hall's codes
    assert page.evaluate("document.querySelector('#waiting-page').hidden")  # one page: no badge
    screenshot(page, "display-fit-zone-samsat")
