"""Office-facing layout in Chromium: /admin's links to its other pages sit in a bar at the top
(not at the end of the downloads line), and the landing page's access-code list keeps its
labels readable on the 1080 px portrait kiosk."""

from __future__ import annotations

from typing import Any

from test_pages_support import Live, admin_sign_in, screenshot


def test_admin_other_pages_in_a_bar_at_the_top(live: Live, make_page: Any) -> None:
    page = make_page(1280, 800)
    admin_sign_in(page, live)
    for link in ("#officers-link", "#studio-link", "#settings-link"):
        assert page.locator(f"#office-nav {link}").is_visible(), link
        assert page.locator(f"#downloads {link}").count() == 0, link
        box = page.locator(link).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 160, (link, box)  # first glance
    looks = page.eval_on_selector("#officers-link", """a => {
        const s = getComputedStyle(a); return [s.textDecorationLine, s.fontWeight]; }""")
    assert looks[0] == "none" and int(looks[1]) >= 600  # a button of the bar, not a body link
    screenshot(page, "admin-nav-1280")
    page.click("#settings-link")
    page.wait_for_url("**/admin/pengaturan")


def test_landing_access_codes_readable_on_the_portrait_kiosk(live: Live, make_page: Any) -> None:
    page = make_page(1080, 1920)
    page.goto(live.url + "/")
    page.wait_for_selector(".home-codes dt")
    lines = page.eval_on_selector_all(".home-codes dt", """dts => dts.map(dt => {
        const s = getComputedStyle(dt);
        const line = parseFloat(s.lineHeight) || 1.2 * parseFloat(s.fontSize);
        return [dt.textContent, Math.round(dt.getBoundingClientRect().height / line)]; })""")
    assert len(lines) >= 3
    assert [label for label, n in lines if n > 2] == [], lines
    assert page.evaluate("document.documentElement.scrollWidth") <= 1080
    page.screenshot(path=str(screenshot(page, "landing-portrait-1080")), full_page=True)
