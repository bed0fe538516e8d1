"""Live settings in headless Chromium against a real server and Redis: the office's change on
/admin/pengaturan reaches an open lobby TV without a reload; a bad one is shown with its field
and changes nothing."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Page
from test_pages_support import Live, admin_sign_in, screenshot, text, wait_text

MUTED = "/display?mute=1&retry_max=1000&screen=uji"


def open_display(page: Page, live: Live) -> None:
    page.goto(live.url + MUTED)
    page.wait_for_function("document.querySelectorAll('.tile').length > 0")
    page.evaluate("window.__notReloaded = true")


def services_form_refuses(admin: Page, name: str, value: str, field: str) -> None:
    """`value` typed in the services form's input `name` and sent: the server answers 400 and
    the page names `field` (the error's text and its data-field)."""
    admin.fill(f'input[name="{name}"]', value)
    with admin.expect_response(lambda r: r.url.endswith("/admin/pengaturan/jam")) as answer:
        admin.click("#services button[type=submit]")
    assert answer.value.status == 400
    wait_text(admin, "#error", field)
    assert admin.get_attribute("#error", "data-field") == field


def office(live: Live) -> dict[str, str]:
    return {"Authorization": f"Bearer {live.api.admin_token()}"}


def test_running_text_from_admin_reaches_an_open_tv(live: Live, make_page: Any) -> None:
    """The office saves a running text on /admin/pengaturan (reached from /admin); the open TV
    shows it without reloading, and the page lists the change in its history."""
    tv = make_page()
    open_display(tv, live)
    admin = make_page(1366, 900)
    admin_sign_in(admin, live)
    admin.click("#settings-link")
    admin.wait_for_selector("#running-text textarea")
    admin.fill("#running-text textarea",
               "Layanan Samsat hari ini sampai pukul 12.00.\nTerima kasih atas kesabaran Anda.")
    admin.click("#running-text button[type=submit]")
    wait_text(admin, "#message", "versi 1")
    wait_text(tv, "#ticker", "Layanan Samsat hari ini sampai pukul 12.00.")
    assert "Terima kasih atas kesabaran Anda." in text(tv, "#ticker")
    assert tv.evaluate("window.__notReloaded") is True
    assert "Teks berjalan" in text(admin, "#history")
    screenshot(admin, "admin-settings")
    screenshot(tv, "display-settings-running-text")


def test_notice_from_the_api_reaches_an_open_tv(live: Live, make_page: Any) -> None:
    """A notice added through PATCH /api/settings is in the TV's signage at once (it fetches
    /display/papan again on the settings message), without a reload."""
    tv = make_page()
    open_display(tv, live)
    tv.wait_for_function("typeof signage !== 'undefined' && signage.data !== null")
    assert tv.evaluate("signage.data.texts") == []
    r = live.api.client.patch("/api/settings", headers=office(live), json={
        "signage": {"texts": [{"text": "Loket Samsat tutup pukul 12.00 hari ini."}]}})
    assert r.status_code == 200, r.text
    tv.wait_for_function("signage.data.texts.length === 1", timeout=5000)
    assert tv.evaluate("signage.data.texts") == ["Loket Samsat tutup pukul 12.00 hari ini."]
    assert tv.evaluate("window.__notReloaded") is True


def test_notice_holidays_and_quota_from_the_admin_forms_are_stored(live: Live,
                                                                   make_page: Any) -> None:
    """The office's other forms on /admin/pengaturan: a notice, two holidays and a quota are
    each saved as one change (versions 1-3) and are what /api/settings holds; a quota of -1 is
    refused with its field named and changes nothing."""
    admin = make_page(1366, 900)
    admin_sign_in(admin, live)
    admin.goto(live.url + "/admin/pengaturan")
    admin.fill('input[name="text-0"]', "Loket Samsat tutup pukul 12.00 hari ini.")
    admin.click("#notices button[type=submit]")
    wait_text(admin, "#message", "versi 1")
    admin.fill("#holidays textarea", "2027-01-01\n2027-03-22")
    admin.click("#holidays button[type=submit]")
    wait_text(admin, "#message", "versi 2")
    admin.fill('input[name="quota-D"]', "7")
    admin.click("#services button[type=submit]")
    wait_text(admin, "#message", "versi 3")
    now = live.api.client.get("/api/settings", headers=office(live)).json()
    assert now["overrides"] == {
        "signage": {"texts": [{"text": "Loket Samsat tutup pukul 12.00 hari ini."}]},
        "site": {"holidays": ["2027-01-01", "2027-03-22"]},
        "services": {"D": {"quota": 7}}}
    assert admin.input_value('input[name="quota-D"]') == "7"
    services_form_refuses(admin, "quota-D", "-1", "services[3].quota")
    assert live.api.client.get("/api/settings", headers=office(live)).json()["version"] == 3


def test_a_holiday_set_while_the_kiosk_is_open_is_refused_and_greyed(live: Live,
                                                                     make_page: Any) -> None:
    """The kiosk is open on Samsat's services when the office makes today a holiday: the
    next press is refused with the server's reason, no ticket is issued, and the kiosk greys
    the service and the agency's tile at once (without waiting for its minute's refresh)."""
    kiosk = make_page()
    kiosk.add_init_script("window.print = () => {};")
    kiosk.goto(live.url + "/kiosk")
    kiosk.click('.k-prio[data-priority=""]')  # Umum
    kiosk.click('.k-tenant[data-tenant="samsat"]')
    service = kiosk.locator('.k-service[data-service="A"]')
    assert service.is_enabled()
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
    r = live.api.client.patch("/api/settings", headers=office(live),
                              json={"site": {"holidays": [today]}})
    assert r.status_code == 200, r.text
    service.click()
    wait_text(kiosk, "#message-text", "Layanan sedang tutup")
    kiosk.wait_for_function(
        "document.querySelector('.k-service[data-service=\"A\"]').disabled", timeout=5000)
    assert kiosk.evaluate(
        "document.querySelector('.k-tenant[data-tenant=\"samsat\"]').classList.contains('closed')")
    assert kiosk.is_hidden("#screen-ticket")
    assert live.api.state()["waiting"].get("A", 0) == 0


def test_bad_hours_on_the_form_are_named_and_change_nothing(live: Live,
                                                            make_page: Any) -> None:
    """Hours 25:00-26:00 on the form: the page says which field (services[0].hours), answers
    400, and the settings stay at version 0; a counter's services change is kept in order."""
    admin = make_page(1366, 900)
    admin_sign_in(admin, live)
    admin.goto(live.url + "/admin/pengaturan")
    services_form_refuses(admin, "hours-A", "25:00-26:00", "services[0].hours")
    assert admin.input_value('input[name="hours-A"]') == "25:00-26:00"  # kept to correct
    screenshot(admin, "admin-settings-error")
    now = live.api.client.get("/api/settings", headers=office(live)).json()
    assert now["version"] == 0
    admin.goto(live.url + "/admin/pengaturan")
    admin.fill('input[name="services-3"]', "D, B")
    admin.click("#counters button[type=submit]")
    wait_text(admin, "#message", "versi 1")
    now = live.api.client.get("/api/settings", headers=office(live)).json()
    assert now["overrides"] == {"counters": {"3": {"services": ["D", "B"]}}}
    assert now["by"] == "admin"
    assert admin.input_value('input[name="services-3"]') == "D, B"


def test_hours_on_the_form_are_written_as_on_the_rest_of_the_page(live: Live,
                                                                   make_page: Any) -> None:
    """Service C's 08:00-12:00 reads 08.00–12.00 in its field, in *Berlaku sekarang* and in
    the help (one way of writing times on the page); typed '08.00 - 11.30' it is saved as the
    TOML writes it, 08:00-11:30, and shown again as 08.00–11.30."""
    admin = make_page(1366, 900)
    admin_sign_in(admin, live)
    admin.goto(live.url + "/admin/pengaturan")
    assert admin.input_value('input[name="hours-C"]') == "08.00–12.00"
    assert "08.00–12.00" in text(admin, 'tr[data-service="C"] td:last-child')
    hint = text(admin, "#services .a-note")
    assert "08.00–12.00" in hint and not re.search(r"\d:\d", hint), hint
    admin.fill('input[name="hours-C"]', "08.00 - 11.30")
    admin.click("#services button[type=submit]")
    wait_text(admin, "#message", "versi 1")
    now = live.api.client.get("/api/settings", headers=office(live)).json()
    assert now["overrides"]["services"]["C"]["hours"] == "08:00-11:30"
    assert admin.input_value('input[name="hours-C"]') == "08.00–11.30"
    assert "08.00–11.30" in text(admin, 'tr[data-service="C"] td:last-child')
