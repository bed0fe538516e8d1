"""The ticket kiosk and the visitor's status page in headless Chromium: issue, refuse a closed
service, the QR code, the per-client rate limit, and escaping of names."""


from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Route
from test_pages_support import (
    Live,
    admin_sign_in,
    close_service_today,
    screenshot,
    text,
    until,
    wait_text,
)

NO_PRINT_DIALOG = "window.printed = 0; window.print = () => { window.printed += 1; };"


def test_kiosk_issues_a_ticket_with_qr_and_prints_it(live: Live, make_page: Any) -> None:
    """Umum → tenant → service → the ticket large, with people ahead, estimate, QR; printed
    once; then, back at the first step, a priority ticket goes first."""
    live.api.ticket("A")
    page = make_page()
    page.add_init_script(NO_PRINT_DIALOG)
    page.goto(live.url + "/kiosk")
    screenshot(page, "kiosk-1920x1080")
    page.click('.k-prio[data-priority=""]')  # Umum
    page.click('.k-tenant[data-tenant="samsat"]')
    page.click('.k-service[data-service="A"]')
    wait_text(page, "#pt-code", "A002")
    assert "1 orang lagi di depan Anda" in text(page, "#pt-ahead")
    assert "menit" in text(page, "#pt-estimate")
    page.wait_for_function("document.getElementById('pt-qr').naturalWidth > 0")
    page.wait_for_function("window.printed === 1")
    screenshot(page, "kiosk-ticket-1920x1080")
    day = live.api.state()["day"]
    qr_url = page.get_attribute("#pt-qr", "src") or ""
    assert qr_url.startswith(f"/t/{day}/A002/") and qr_url.endswith("/qr.svg")
    qr = live.api.client.get(qr_url)
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert live.api.client.get(f"/t/{day}/A002/qr.svg").status_code == 404
    assert live.api.state()["waiting"]["A"] == 2
    page.click("#finish")  # back to the first step: priority
    page.click('.k-prio[data-priority="lansia"]')
    page.click('.k-tenant[data-tenant="samsat"]')
    page.click('.k-service[data-service="A"]')
    wait_text(page, "#pt-code", "A003")
    assert "Anda berikutnya" in text(page, "#pt-ahead")  # priority goes first
    assert text(page, "#pt-priority") == "Prioritas: Lansia"
    link = (page.get_attribute("#pt-qr", "src") or "").removesuffix("/qr.svg")
    status = live.api.client.get(f"{link}/status").json()
    assert status["code"] == "A003" and "priority" not in status  # the visitor knows it


def test_kiosk_retry_after_a_lost_answer_takes_one_ticket(live: Live, make_page: Any) -> None:
    """The ticket is issued but its answer is lost on the way: the kiosk says so and offers a
    retry, and the retry (same request_id) shows that same ticket instead of taking a second."""
    page = make_page()
    page.add_init_script(NO_PRINT_DIALOG)
    lost: list[str] = []

    def lose_first_answer(route: Route) -> None:
        if lost:
            route.continue_()
            return
        lost.append(route.fetch().json()["code"])  # the server issued it...
        route.abort("connectionreset")  # ...and the kiosk never hears back

    page.route("**/kiosk/tickets", lose_first_answer)
    page.goto(live.url + "/kiosk")
    page.click('.k-prio[data-priority=""]')  # Umum
    page.click('.k-tenant[data-tenant="samsat"]')
    page.click('.k-service[data-service="A"]')
    wait_text(page, "#message-text", "Tidak dapat menghubungi server")
    assert lost == ["A001"]
    page.click("#message-retry")
    wait_text(page, "#pt-code", "A001")
    assert live.api.state()["waiting"]["A"] == 1


def test_kiosk_refuses_a_closed_service(live: Live, make_page: Any) -> None:
    """A closed service is greyed with its hours; pressed anyway (it closed meanwhile), the
    server's refusal is shown and no ticket is issued."""
    page = make_page()
    page.add_init_script(NO_PRINT_DIALOG)
    page.goto(live.url + "/kiosk")
    page.click('.k-prio[data-priority=""]')  # Umum
    page.click('.k-tenant[data-tenant="samsat"]')
    closed = page.locator('.k-service[data-service="C"]')
    assert closed.is_disabled()
    assert "08.00–12.00" in closed.inner_text() and "TUTUP" in closed.inner_text().upper()
    page.eval_on_selector('.k-service[data-service="C"]', "b => { b.disabled = false; }")
    closed.click()
    wait_text(page, "#message-text", "Layanan sedang tutup")
    assert page.is_hidden("#screen-ticket")
    assert live.api.state()["waiting"].get("C", 0) == 0


def test_kiosk_rate_limit_says_so(server_factory: Any, make_page: Any) -> None:
    """Past the per-client limit the kiosk shows a clear message instead of a ticket."""
    close_service_today(server_factory.config)
    live = server_factory(extra_env={"ANTRIAN_KIOSK_RATE": "2/60"})
    page = make_page()
    page.add_init_script(NO_PRINT_DIALOG)
    page.goto(live.url + "/kiosk")
    for expected in ("A001", "A002"):
        page.click('.k-prio[data-priority=""]')  # Umum
        page.click('.k-tenant[data-tenant="samsat"]')
        page.click('.k-service[data-service="A"]')
        wait_text(page, "#pt-code", expected)
        page.click("#finish")
    page.click('.k-prio[data-priority=""]')  # Umum
    page.click('.k-tenant[data-tenant="samsat"]')
    page.click('.k-service[data-service="A"]')
    wait_text(page, "#message-text", "Terlalu banyak permintaan")
    assert "detik" in text(page, "#message-text")
    assert live.api.state()["waiting"]["A"] == 2
    r = live.api.client.post("/kiosk/tickets", json={"service": "A"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert live.api.client.post("/api/tickets", json={"service": "A"}).status_code == 201


def test_status_page_follows_the_ticket_live(live: Live, make_page: Any) -> None:
    """The ticket's status_url: people ahead, then "Silakan menuju loket N" as soon as it is
    called."""
    ticket = [live.api.ticket("A") for _ in range(3)][-1]
    day = live.api.state()["day"]
    page = make_page(414, 896)
    page.goto(live.url + ticket["status_url"])
    wait_text(page, "#headline", "2 orang lagi di depan Anda")
    live.api.call(1)
    wait_text(page, "#headline", "1 orang lagi di depan Anda")
    live.api.call(3)
    live.api.call(5)
    wait_text(page, "#headline", "Silakan menuju Loket 5")
    screenshot(page, "status-phone")
    page.set_viewport_size({"width": 1920, "height": 1080})
    screenshot(page, "status-1920x1080")
    live.api.act(5, "done")
    wait_text(page, "#headline", "Layanan selesai")
    assert page.goto(f"{live.url}/t/{day}/A003").status == 404  # the code alone opens nothing


def test_script_in_a_service_name_is_shown_as_text(server_factory: Any, make_page: Any) -> None:
    """A service named <script>…</script> is text on the kiosk, the TV, the console and /admin."""
    evil = "<script>window.pwned=1</script><b>KTP</b>"
    config = server_factory.config
    close_service_today(config)
    config.write_text(config.read_text().replace('name = "KTP-el"', f'name = "{evil}"'))
    live = server_factory()
    live.api.ticket("B")
    page = make_page()
    page.goto(live.url + "/kiosk")
    page.click('.k-prio[data-priority=""]')  # Umum
    page.click('.k-tenant[data-tenant="capil"]')
    assert evil in page.inner_text('.k-service[data-service="B"]')
    page.goto(live.url + "/display?mute=1&hold=300")
    page.wait_for_function("document.querySelectorAll('.tile').length > 0")
    live.api.call(2)
    wait_text(page, "#card-service", evil)
    admin_sign_in(page, live)
    page.click('#counts details[data-tenant="capil"] summary')
    assert evil in page.inner_text("#counts")
    assert page.evaluate("window.pwned") is None
    injected = "bs => bs.filter(b => b.textContent === 'KTP').length"
    assert page.eval_on_selector_all("b", injected) == 0


def test_server_printer_prints_and_a_failed_print_can_be_retried(server_factory: Any,
                                                                  make_page: Any,
                                                                  tmp_path: Path) -> None:
    """With ANTRIAN_KIOSK_PRINTER set, the server prints ESC/POS; when the printer is not there
    the kiosk says the ticket is taken but not printed, and its reprint button prints it."""
    close_service_today(server_factory.config)
    device = tmp_path / "printer" / "lp0"
    live = server_factory(extra_env={"ANTRIAN_KIOSK_PRINTER": str(device)})
    page = make_page()
    page.add_init_script(NO_PRINT_DIALOG)
    page.goto(live.url + "/kiosk")
    page.click('.k-prio[data-priority=""]')  # Umum
    page.click('.k-tenant[data-tenant="samsat"]')
    page.click('.k-service[data-service="A"]')
    wait_text(page, "#message-text", "Tiket gagal dicetak")
    assert "A001" in text(page, "#message-text")
    assert live.api.state()["waiting"]["A"] == 1
    device.parent.mkdir()
    page.click("#message-retry")  # hides the message at once, then asks the server to print
    until(lambda: device.exists() and device.read_bytes().endswith(b"\x1dV\x00"),
          what="the printed ticket, up to its cut")
    page.wait_for_selector("#busy", state="hidden")
    assert page.is_hidden("#message")
    printed = device.read_bytes()
    assert printed.startswith(b"\x1b@") and b"A001" in printed and b"\x1d(k" in printed
    link = re.search(rb"/t/[0-9-]{10}/A001/[0-9a-f]{24}", printed)
    assert link is not None and live.api.client.get(link[0].decode()).status_code == 200
    assert b"Anda berikutnya" in printed and b"Perpanjangan STNK" in printed
    assert b"Samsat\n" in printed and b"Loket 1-29" in printed  # where: every counter serves A
    assert page.evaluate("window.printed") == 0
