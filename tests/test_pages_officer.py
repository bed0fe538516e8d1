"""An officer's PIN sign-in on the console in headless Chromium: the PIN form first, the
counter's access code folded under "Masuk dengan kode akses", the lock after repeated wrong
PINs (a short ANTRIAN_PIN_LOCK_SECONDS, so the test sees it end), an officer not allowed at the
counter, sign-out, the device remembering its counter, and the office's /admin/petugas.
Screenshots in artifacts/screenshots/officer-*.png."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ROOT
from playwright.sync_api import Page
from test_pages_support import (
    Live,
    admin_sign_in,
    close_service_today,
    screenshot,
    text,
    until,
    wait_text,
)

PIN = "482913"
LOCK_SECONDS = 3


@pytest.fixture
def officer_live(server_factory: Any) -> Iterator[Live]:
    """A server whose PIN lock lasts LOCK_SECONDS, with two officers: siti (counters 1 and 2)
    and budi (counter 3)."""
    close_service_today(server_factory.config)
    live: Live = server_factory(extra_env={"ANTRIAN_PIN_LOCK_SECONDS": str(LOCK_SECONDS)})
    add_officer(live, "siti", "Siti Aminah", "1,2", PIN)
    add_officer(live, "budi", "Budi Santoso", "3", "2468")
    yield live


def add_officer(live: Live, officer_id: str, name: str, counters: str, pin: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "antrian", "officer", "add", "--id", officer_id, "--name", name,
         "--tenant", "samsat", "--counters", counters, "--pin", pin, "--config",
         str(live.config), "--data-dir", str(live.data_dir), "--redis-url", str(live.redis_url)],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ})
    assert done.returncode == 0, done.stderr


def try_pin(page: Page, live: Live, counter: int, officer_id: str, pin: str) -> None:
    page.goto(f"{live.url}/counter/{counter}")
    page.fill("#officer", officer_id)
    page.fill("#pin", pin)
    page.press("#pin", "Enter")
    page.wait_for_load_state()


def test_pin_sign_in_names_the_officer_and_sign_out_ends_it(officer_live: Live,
                                                            make_page: Any) -> None:
    page = make_page()
    page.goto(f"{officer_live.url}/counter/1")
    assert page.locator("#pin").get_attribute("inputmode") == "numeric"
    assert not page.locator("#token").is_visible()  # the access code waits under its summary
    screenshot(page, "officer-sign-in-1920x1080")
    try_pin(page, officer_live, 1, "siti", PIN)
    page.wait_for_selector("[data-action=call-next]:not([disabled])")
    assert text(page, "#officer-name") == "Petugas: Siti Aminah"
    screenshot(page, "officer-console-signed-in")
    officer_live.api.ticket("A")
    page.click("[data-action=call-next]")
    wait_text(page, "#current-code", "A001")
    page.click("form[action='/counter/1/logout'] button[type=submit]")
    page.wait_for_selector("#pin")
    assert not any(c["name"] == "antrian_loket_1" for c in page.context.cookies())
    assert page.input_value("#officer") == "siti"  # the device remembers who signed in
    page.goto(f"{officer_live.url}/counter")
    until(lambda: page.url == f"{officer_live.url}/counter/1", timeout=5,
          what="/counter opens this device's counter")
    small = make_page(1080, 1920)
    small.goto(f"{officer_live.url}/counter/1")
    screenshot(small, "officer-sign-in-1080x1920")


def test_five_wrong_pins_lock_even_the_right_pin_until_the_lock_ends(
        officer_live: Live, make_page: Any) -> None:
    page = make_page()
    for left in (4, 3, 2, 1):
        try_pin(page, officer_live, 1, "siti", "0000")
        wait_text(page, ".c-error", f"Sisa percobaan: {left}.")
    try_pin(page, officer_live, 1, "siti", "0000")
    wait_text(page, ".c-error", "Terlalu banyak PIN salah. Masuk dikunci")
    screenshot(page, "officer-sign-in-locked")
    try_pin(page, officer_live, 1, "siti", PIN)
    wait_text(page, ".c-error", "Terlalu banyak PIN salah")
    assert page.locator("[data-action=call-next]").count() == 0
    try_pin(page, officer_live, 3, "budi", "2468")  # this client is locked too
    wait_text(page, ".c-error", "Terlalu banyak PIN salah")

    def signed_in_after_the_lock() -> bool:
        try_pin(page, officer_live, 1, "siti", PIN)
        return page.locator("[data-action=call-next]").count() == 1

    until(signed_in_after_the_lock, timeout=LOCK_SECONDS + 10, what="the lock to end")


def test_an_officer_not_allowed_at_the_counter_is_told_so(officer_live: Live,
                                                          make_page: Any) -> None:
    page = make_page()
    try_pin(page, officer_live, 3, "siti", PIN)
    wait_text(page, ".c-error", "Anda tidak terdaftar untuk Loket 3.")
    screenshot(page, "officer-sign-in-not-allowed")
    assert page.locator("[data-action=call-next]").count() == 0


def test_the_access_code_still_signs_a_device_in(officer_live: Live, make_page: Any) -> None:
    page = make_page()
    page.goto(f"{officer_live.url}/counter")  # a new device: the site's counters to choose from
    assert page.locator(".c-choose-list a").count() == 29
    screenshot(page, "officer-choose-counter")
    page.click(".c-choose-list a[href='/counter/2']")
    page.wait_for_selector("details.c-login-token > summary")
    page.click("details.c-login-token > summary")
    page.fill("#token", officer_live.api.token(2))
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("[data-action=call-next]:not([disabled])")
    assert page.locator("#officer-name").count() == 0  # a device, no officer named


def test_the_office_adds_an_officer_and_resets_a_pin_on_admin_petugas(
        officer_live: Live, make_page: Any) -> None:
    page = make_page()
    admin_sign_in(page, officer_live)
    page.click("#officers-link")
    page.wait_for_selector("#officers")
    page.fill("#add-form input[name=id]", "rina")
    page.fill("#add-form input[name=name]", "Rina Wulandari")
    page.select_option("#add-form select[name=tenant]", "capil")
    page.fill("#add-form input[name=counters]", "4")
    page.fill("#add-form input[name=pin]", "135790")
    page.click("#add-form button[type=submit]")
    wait_text(page, "#message", "Petugas rina ditambahkan.")
    row = page.locator("tr[data-officer=rina]")
    assert "Rina Wulandari" in row.inner_text() and "Disdukcapil" in row.inner_text()
    assert "135790" not in page.content()
    row.locator("input[name=pin]").fill("246810")
    row.locator("form[action$='/pin'] button").click()
    wait_text(page, "#message", "PIN petugas rina sudah diganti.")
    page.locator("tr[data-officer=budi] .a-toggle").click()
    wait_text(page, "#message", "Petugas budi dinonaktifkan.")
    assert "nonaktif" in page.locator("tr[data-officer=budi] .a-state").inner_text()
    screenshot(page, "officer-admin-petugas")
    console = make_page()
    try_pin(console, officer_live, 4, "rina", "246810")
    console.wait_for_selector("[data-action=call-next]:not([disabled])")
    try_pin(console, officer_live, 3, "budi", "2468")
    wait_text(console, ".c-error", "Akun petugas ini dinonaktifkan.")
