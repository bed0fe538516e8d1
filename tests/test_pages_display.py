"""The lobby TV page in headless Chromium against a real server and Redis: calls, bursts,
reconnection after kill -9, sound acknowledgements and autoplay blocking."""


from __future__ import annotations

import os
import re
import signal
from typing import Any

from playwright.sync_api import Browser, Page
from test_pages_support import (
    Live,
    admin_sign_in,
    close_service_today,
    launch,
    screenshot,
    text,
    until,
    wait_text,
)

MUTED = "/display?mute=1&retry_max=1000&screen=uji"


def open_display(page: Page, live: Live, query: str = MUTED) -> None:
    page.goto(live.url + query)
    page.wait_for_function("document.querySelectorAll('.tile').length > 0")


def test_call_shows_on_card_grid_and_recent_list(live: Live, make_page: Any) -> None:
    """A call made through the API appears as the now-calling card, in its tile and first in the
    recent calls; the 29 counters fit on a 1920x1080 screen without scrolling."""
    for _ in range(3):
        live.api.ticket("A")
    live.api.ticket("B")
    page = make_page()
    open_display(page, live)
    assert page.eval_on_selector_all(".tile", "t => t.length") == 29
    assert page.evaluate("document.documentElement.scrollHeight <= innerHeight")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    loaded = page.evaluate("JSON.parse(document.getElementById('config').textContent).version")
    assert live.api.client.get("/display/version").json() == {"version": loaded}
    live.api.call(5)
    wait_text(page, "#card-code", "A001")
    assert re.fullmatch(r"[0-2][0-9]\.[0-5][0-9]", text(page, "#clock"))  # 10.30, not 10:30
    assert re.fullmatch(r"[0-2][0-9]\.[0-5][0-9]", text(page, "#recent li:first-child .r-time"))
    assert text(page, "#card-counter") == "Loket 5"
    assert "Perpanjangan STNK" in text(page, "#card-service")
    wait_text(page, '.tile[data-counter="5"] .tile-code', "A001")
    wait_text(page, "#recent li:first-child .r-code", "A001")
    live.api.call(6)  # even counters serve B first
    wait_text(page, "#card-code", "B001")
    live.api.act(5, "recall")
    wait_text(page, "#card-code", "A001")
    wait_text(page, "#card-label", "Panggilan ulang")
    live.api.act(8, "pause", {"reason": "istirahat"})
    wait_text(page, '.tile[data-counter="8"] .tile-code', "Jeda")
    wait_text(page, '.chip[data-service="A"] .chip-n', "2")
    for selector in ('.tile[data-counter="5"]', '.tile[data-counter="29"]'):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 1080
    screenshot(page, "display-1920x1080")


def test_layout_fits_small_and_4k_screens(live: Live, make_page: Any) -> None:
    """At 1366x768 and 3840x2160 every counter is on screen and nothing scrolls."""
    for width, height in ((1366, 768), (3840, 2160)):
        page = make_page(width, height)
        open_display(page, live)
        assert page.evaluate("document.documentElement.scrollHeight <= innerHeight")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        box = page.locator('.tile[data-counter="29"]').bounding_box()
        assert box is not None and box["y"] + box["height"] <= height
        screenshot(page, f"display-{width}x{height}")


def test_burst_of_five_calls_shows_the_newest_at_once(live: Live, make_page: Any) -> None:
    """Five counters calling within a second: the card follows each call at once (no queue in
    front of it), ending on the newest; the recent list has all five, newest first."""
    for _ in range(5):
        live.api.ticket("A")
    page = make_page()
    open_display(page, live)
    page.evaluate("""() => {
        window.shown = [];
        const code = document.getElementById('card-code');
        new MutationObserver(() => window.shown.push(code.textContent))
            .observe(code, {childList: true, characterData: true, subtree: true});
    }""")
    called = []
    for n in (1, 3, 5, 7, 9):
        called.append(live.api.call(n)["ticket"]["code"])
        wait_text(page, "#card-code", called[-1], timeout=2)
    assert page.evaluate("window.shown") == called
    assert [text(page, f"#recent li:nth-child({i}) .r-code") for i in range(1, 6)] == called[::-1]


def test_reconnects_after_kill_and_shows_calls_made_meanwhile(live: Live, make_page: Any,
                                                               server_factory: Any) -> None:
    """kill -9 the page's server: the banner appears; calls made through another server while it
    is down are shown after it restarts (replayed with since=), and the banner goes away."""
    for _ in range(4):
        live.api.ticket("A")
    page = make_page()
    open_display(page, live)
    live.api.call(1)
    wait_text(page, '.tile[data-counter="1"] .tile-code', "A001")
    assert page.is_hidden("#offline")
    live.kill()
    page.wait_for_selector("#offline", state="visible", timeout=8000)
    assert "Koneksi terputus" in text(page, "#offline")
    other = server_factory()
    assert other.api.call(3)["ticket"]["code"] == "A002"
    assert other.api.call(5)["ticket"]["code"] == "A003"
    live.start()
    page.wait_for_selector("#offline", state="hidden", timeout=10000)
    wait_text(page, '.tile[data-counter="3"] .tile-code', "A002")
    wait_text(page, '.tile[data-counter="5"] .tile-code', "A003")
    wait_text(page, "#recent li:first-child .r-code", "A003")
    assert live.api.call(7)["ticket"]["code"] == "A004"
    wait_text(page, '.tile[data-counter="7"] .tile-code', "A004")


def test_silent_link_is_detected_by_the_watchdog(live: Live, make_page: Any) -> None:
    """A server that stops answering (SIGSTOP: the TCP link stays up) is noticed without any
    close, by the page's own watchdog (its default, on the page's clock): the banner shows, and
    once the server runs again the page recovers by itself."""
    live.api.ticket("A")
    page = make_page()
    page.clock.install()
    open_display(page, live)
    page.wait_for_function("window.antrianDisplay.link.online")
    watchdog_ms, banner_ms = page.evaluate(
        "[window.antrianDisplay.link.watchdogMs, window.antrianDisplay.link.bannerAfterMs]")
    os.kill(live.process.pid, signal.SIGSTOP)
    try:
        page.clock.fast_forward(watchdog_ms - 1000)
        assert page.is_hidden("#offline")
        page.clock.fast_forward(2000)  # the watchdog fires: the link is down
        page.clock.fast_forward(banner_ms)
        page.wait_for_selector("#offline", state="visible", timeout=2000)
    finally:
        os.kill(live.process.pid, signal.SIGCONT)
    page.wait_for_selector("#offline", state="hidden", timeout=10000)
    live.api.call(1)
    wait_text(page, '.tile[data-counter="1"] .tile-code', "A001")


def test_played_announcements_are_reported(live: Live, make_page: Any) -> None:
    """With sound allowed, the page plays the call's announcement WAV and reports it as played;
    /admin lists the TV the office registered."""
    live.api.register_screen("lobi-1")
    live.api.ticket("A")
    page = make_page()
    open_display(page, live, "/display?screen=lobi-1")
    assert page.is_hidden("#sound-overlay")
    with page.expect_response("**/audio/calls/*") as wav:
        called = live.api.call(1)
    assert (wav.value.url, wav.value.status, wav.value.headers["content-type"]) == (
        f"{live.url}/audio/calls/{called['event_id']}.wav", 200, "audio/wav")
    until(lambda: live.api.state()["played"].get("lobi-1", {}).get("event_id")
          == called["event_id"], timeout=20, what="the played acknowledgement")
    live.api.act(1, "done", {"outcome": "completed"})
    admin_sign_in(page, live)
    assert "lobi-1" in text(page, "#screens")
    cells = page.eval_on_selector_all('#counts tr[data-service="A"] td.n',
                                      "tds => tds.map(td => td.textContent.trim())")
    # issued, called, served, completed, no-shows, waiting, average wait and service minutes
    assert cells[:6] == ["1", "1", "1", "1", "0", "0"] and len(cells) == 8
    screenshot(page, "admin-1920x1080")


def test_a_tv_the_site_does_not_know_still_plays(live: Live, make_page: Any) -> None:
    """A TV whose screen id is neither declared nor registered shows and plays the call; the
    server refuses its report, and the page stops reporting without an error on screen."""
    live.api.ticket("A")
    page = make_page()
    wavs: list[int] = []
    page.on("response", lambda r: wavs.append(r.status) if "/audio/calls/" in r.url else None)
    open_display(page, live, "/display?screen=tv-asing")
    live.api.call(1)
    wait_text(page, "#card-code", "A001")
    until(lambda: page.evaluate("reportsRefused"), timeout=20, what="the refused report")
    assert wavs == [200]
    assert live.api.state()["played"] == {}


def test_autoplay_blocked_shows_overlay_until_tapped(live: Live, browser: Browser) -> None:
    """Without the autoplay flag the page asks for a tap, and the tap turns the sound on."""
    strict = launch(browser.browser_type, autoplay=False)
    try:
        page = strict.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
        open_display(page, live, "/display?screen=diam")
        page.wait_for_selector("#sound-overlay", state="visible", timeout=5000)
        assert "Ketuk untuk mengaktifkan suara" in text(page, "#sound-overlay")
        screenshot(page, "display-sound-overlay")
        page.click("#sound-overlay")
        page.wait_for_selector("#sound-overlay", state="hidden", timeout=5000)
    finally:
        strict.close()


def test_service_filter_limits_the_screen(live: Live, make_page: Any) -> None:
    """/display?services=B shows B's waiting count only and ignores calls of other services."""
    page = make_page()
    open_display(page, live, "/display?mute=1&services=B")
    assert page.eval_on_selector_all(".chip", "c => c.map(x => x.dataset.service)") == ["B"]
    live.api.ticket("A")
    live.api.ticket("B")
    live.api.call(1)  # counter 1 serves A first: A001, not for this screen
    live.api.call(2)  # counter 2 serves B first: B001
    wait_text(page, "#card-code", "B001")
    assert "A001" not in text(page, "#recent")
    assert page.goto(live.url + "/display?services=ZZ").status == 400


def test_named_screen_profile(server_factory: Any, make_page: Any) -> None:
    """/display?profile=<id> uses the services and the name of a [[screens]] profile."""
    config = server_factory.config
    close_service_today(config)
    config.write_text(config.read_text() + '\n[[screens]]\nid = "capil"\n'
                      'name = "Layar Ruang Tunggu Disdukcapil"\nservices = ["B", "D"]\n')
    live = server_factory()
    page = make_page()
    open_display(page, live, "/display?mute=1&profile=capil")
    assert text(page, ".d-screen") == "Layar Ruang Tunggu Disdukcapil"
    assert page.eval_on_selector_all(".chip", "c => c.map(x => x.dataset.service)") == ["B", "D"]
    assert page.goto(live.url + "/display?profile=nope").status == 400


def test_absurd_display_parameters_fall_back_to_defaults(live: Live) -> None:
    """A huge or malformed tuning parameter never breaks the TV page; a bad filter is a 400."""
    r = live.api.client.get("/display", params={"retry_max": "9" * 5000, "watchdog": "-1",
                                           "screen": "tv\n1"})
    assert r.status_code == 200 and '"retry_max_ms": 15000' in r.text and '"screen": ""' in r.text
    assert '"watchdog_ms": 25000' in r.text
    assert live.api.client.get("/display", params={"services": "NOPE"}).status_code == 400
