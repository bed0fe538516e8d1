"""The kiosk as a visitor finds their way on the demo site (MPP Kabupaten Serang, 24 agencies,
40 services) in headless Chromium: priority asked first, the search ("SKCK" finds Polres
Serang's service), the popular-document buttons, agency tiles, closed services with their
reason, the ticket's agency, counters and floor; the idle return to step 1; no overflow at
1366x768, 1920x1080 and the 1080x1920 portrait kiosk; and the status page's "next" and
"called" alerts. Screenshots of every step: artifacts/screenshots/wayfinding-*.png."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import ROOT, ServerProcess
from playwright.sync_api import Page
from test_pages_support import DAY_NAMES, Live, screenshot, text, wait_text

NO_PRINT_DIALOG = "window.print = () => {};"
SIZES = [(1366, 768), (1920, 1080), (1080, 1920)]

# Every element of the shown screen inside the viewport and none with content larger than its
# box (a name cut off, a tile overflowing), and the page itself not scrollable.
OVERFLOW = """() => {
  const out = [];
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth || page.scrollHeight > page.clientHeight) {
    out.push(`page ${page.scrollWidth}x${page.scrollHeight}`);
  }
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest("svg") || el.closest("[hidden]") || el.tagName === "SCRIPT") continue;
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if ((!r.width && !r.height) || style.visibility === "hidden") continue;
    if (style.position === "fixed") continue;
    const name = `${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}"`;
    if (r.left < -1 || r.top < -1 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1) {
      out.push(`outside the screen: ${name}`);
    }
    if (style.display !== "inline" && el.clientWidth
        && (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)) {
      out.push(`cut off: ${name} ${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}`
               + `x${el.clientHeight}`);
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def demo(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A server of the demo site under a fresh id, without its holidays (so it opens on any
    day), with Kejaksaan's legal consultation (AL), Samsat's Balik Nama (C, in the STNK list)
    and all of Kemenag's services open only on a day that is not today: the same screens at
    any hour."""
    folder = tmp_path_factory.mktemp("demo")
    toml = (ROOT / "display_server" / "sites" / "serang.toml").read_text()
    toml = re.sub(r"(?ms)^holidays = \[.*?^\]\n", "", toml)
    toml = toml.replace('id = "serang"', f'id = "w{uuid.uuid4().hex[:8]}"', 1)
    other = DAY_NAMES[(datetime.now(ZoneInfo("Asia/Jakarta")).weekday() + 3) % 7]
    al = 'tenant = "kejari"\ndays = ["selasa", "kamis"]'
    assert al in toml
    toml = toml.replace(al, f'tenant = "kejari"\ndays = ["{other}"]')
    # C closed all day: the STNK list and Samsat's list always show its closed reason, the
    # longer text (before: open on weekdays 08:00-14:00 WIB only)
    c = 'tenant = "samsat"\ndays = ["senin", "selasa", "rabu", "kamis", "jumat"]'
    assert toml.count(c) == 1
    toml = toml.replace(c, f'tenant = "samsat"\ndays = ["{other}"]')
    # Kemenag, the longest agency name, closed all day: its tile is greyed and says so.
    kemenag = 'hours = { senin = "08:00-15:00", rabu = "08:00-15:00", jumat = "08:00-11:30" }'
    assert toml.count(kemenag) == 2
    toml = toml.replace(kemenag, f'hours = {{ {other} = "08:00-15:00" }}')
    config = folder / "serang.toml"
    config.write_text(toml)
    server = ServerProcess(config, redis_url, folder).start()
    yield server
    server.stop()


def kiosk(make_page: Any, demo: Live, width: int = 1080, height: int = 1920,
          query: str = "") -> Page:
    page: Page = make_page(width, height)
    page.add_init_script(NO_PRINT_DIALOG)
    page.goto(f"{demo.url}/kiosk{query}")
    page.wait_for_selector("#screen-priority:not([hidden])")
    return page


def on_screen(page: Page, selector: str) -> None:
    page.wait_for_selector(f"{selector}:not([hidden])")


def ticket_screen(page: Page) -> dict[str, str]:
    on_screen(page, "#screen-ticket")
    return {key: text(page, f"#pt-{key}") for key in
            ("code", "priority", "service", "agency", "counters", "floor", "ahead")}


def test_priority_first_then_the_search_finds_skck(demo: Live, make_page: Any) -> None:
    """Step 1 asks the priority; the search (on-screen keys, any case, accents ignored) finds
    "SKCK" at Polres Serang by its name and by a keyword; the ticket carries the priority
    (it goes before a normal ticket already waiting) and says where to go."""
    waiting = demo.api.ticket("D")  # a normal SKCK ticket first
    page = kiosk(make_page, demo)
    assert page.is_hidden("#screen-home")  # nothing about services before the priority
    labels = page.eval_on_selector_all(".k-prio .k-prio-name", "ns => ns.map(n => n.textContent)")
    assert labels == ["Umum", "Lansia", "Penyandang Disabilitas", "Ibu Hamil/Membawa Balita"]
    page.click('.k-prio[data-priority="lansia"]')
    on_screen(page, "#screen-home")
    assert text(page, "#chosen") == "Prioritas: Lansia"
    page.click("#open-search")
    for key in "SKCK":
        page.click(f'.k-key[data-key="{key}"]')
    assert page.input_value("#query") == "SKCK"
    result = page.locator('#results .k-service[data-service="D"]')
    assert "Penerbitan SKCK" in result.inner_text()
    assert "Polres Serang" in result.inner_text() and "Loket 4" in result.inner_text()
    assert page.locator("#results .k-service").count() == 1
    screenshot(page, "wayfinding-search-skck-1080x1920")
    page.fill("#query", "kelakuan baik")  # a keyword, typed on a keyboard
    assert page.locator("#results .k-service").first.get_attribute("data-service") == "D"
    page.fill("#query", "sKčK")  # accents and case do not matter
    assert page.locator("#results .k-service").first.get_attribute("data-service") == "D"
    page.fill("#query", "zzzz")
    assert page.locator("#results .k-service").count() == 0
    assert "Tidak ada layanan yang cocok" in text(page, "#results-note")
    page.fill("#query", "skck")
    page.click('#results .k-service[data-service="D"]')
    shown = ticket_screen(page)
    assert shown["code"] == f"D{int(waiting['code'][1:]) + 1:03d}"
    assert shown["priority"] == "Prioritas: Lansia"
    assert shown["service"] == "Penerbitan SKCK"
    assert shown["agency"] == "Polres Serang"
    assert shown["counters"] == "Loket 4"
    assert shown["floor"] == "Lantai 1 · Zona A"
    assert shown["ahead"] == "Anda berikutnya"  # the priority ticket goes before D waiting
    screenshot(page, "wayfinding-ticket-priority-1080x1920")
    assert demo.api.call(4)["ticket"]["code"] == shown["code"]


def test_the_search_matches_at_the_start_of_words(demo: Live, make_page: Any) -> None:
    """"KTP" finds the KTP services, not Pengadilan Negeri's (keyword "SKTP": "KTP" only inside
    a word); words typed together still match from a word's start ("ktpel", "sktp")."""
    page = kiosk(make_page, demo)
    page.click('.k-prio[data-priority=""]')
    page.click("#open-search")
    for key in "KTP":
        page.click(f'.k-key[data-key="{key}"]')
    found = page.eval_on_selector_all("#results .k-service",
                                      "bs => bs.map(b => b.dataset.service)")
    names = text(page, "#results")
    assert "O" in found and "Pengadilan Negeri" not in names, names
    page.fill("#query", "sktp")
    assert "Pengadilan Negeri" in text(page, "#results")
    page.fill("#query", "ktpel")
    assert page.locator("#results .k-service").first.get_attribute("data-service") == "O"


# Each part of a service's "where" line (agency, counters, floor, zone) on one line when it is
# narrower than the line: "Lantai" at the end of one line and "1" on the next is a miss.
PARTS_SPLIT = """() => {
  const parts = [...document.querySelectorAll('.k-screen:not([hidden]) .k-where .k-part')];
  if (!parts.length) return ['no parts'];
  return parts.filter(p => {
    const line = parseFloat(getComputedStyle(p).lineHeight) || p.getBoundingClientRect().height;
    const r = p.getBoundingClientRect();
    return r.height > line * 1.5 && r.width < p.parentElement.clientWidth - 1;
  }).map(p => p.textContent);
}"""


def test_where_a_service_is_keeps_its_parts_whole(demo: Live, make_page: Any) -> None:
    """STNK's services at Samsat (1080x1920 portrait): "Lantai 1" is never split over two lines;
    an agency's list and a popular document's list say the same heading."""
    page = kiosk(make_page, demo)
    page.click('.k-prio[data-priority=""]')
    page.click('.k-pop:has-text("STNK")')
    on_screen(page, '.k-services[data-popular="4"]')
    page.wait_for_selector('.k-services[data-popular="4"] .k-service[data-service="C"]:disabled')
    assert page.evaluate(PARTS_SPLIT) == []  # with C's closed reason, its longest line
    assert "Lantai 1 · Zona A" in text(page, '.k-services[data-popular="4"] .k-where')
    screenshot(page, "wayfinding-where-parts-1080x1920")
    popular_heading = text(page, '.k-services[data-popular="4"] .k-sub')
    page.click('.k-services[data-popular="4"] .k-back')
    page.click('.k-tenant[data-tenant="samsat"]')
    on_screen(page, '.k-services[data-tenant="samsat"]')
    assert page.evaluate(PARTS_SPLIT) == []
    assert text(page, '.k-services[data-tenant="samsat"] .k-sub') == popular_heading \
        == "Pilih salah satu layanan"


def test_popular_buttons_issue_the_right_service(demo: Live, make_page: Any) -> None:
    """A popular document with one open service takes its ticket at once; one with several
    offers them as a short list; counters print as ranges ("Loket 15–16")."""
    page = kiosk(make_page, demo, 1920, 1080)
    page.click('.k-prio[data-priority=""]')
    pops = page.eval_on_selector_all(".k-pop", "ns => ns.map(n => n.textContent.trim())")
    assert pops[:4] == ["KTP", "Kartu Keluarga", "Akta", "SKCK"]
    page.click('.k-pop:has-text("Izin Usaha (NIB)")')
    shown = ticket_screen(page)
    assert shown["code"].startswith("S") and shown["priority"] == ""
    assert shown["service"] == "Perizinan Berusaha melalui OSS dan Penerbitan NIB"
    assert shown["agency"] == "DPMPTSP Kabupaten Serang"
    assert shown["counters"] == "Loket 15–16"
    assert shown["floor"] == "Lantai 2 · Zona E"
    link = (page.get_attribute("#pt-qr", "src") or "").removesuffix("/qr.svg")
    status = demo.api.client.get(f"{link}/status").json()
    assert status["service"] == "S" and status["counters_text"] == "Loket 15–16"
    page.click("#finish")
    on_screen(page, "#screen-priority")
    page.click('.k-prio[data-priority=""]')
    page.click('.k-pop:has-text("BPJS")')
    on_screen(page, '.k-services[data-popular="6"]')
    offered = page.eval_on_selector_all('.k-services[data-popular="6"] .k-service',
                                        "ns => ns.map(n => n.dataset.service)")
    assert offered == ["V", "AM", "W"]
    screenshot(page, "wayfinding-popular-list-1920x1080")
    page.click('.k-services[data-popular="6"] .k-service[data-service="W"]')
    shown = ticket_screen(page)
    assert shown["code"].startswith("W") and shown["agency"] == "BPJS Ketenagakerjaan"
    assert shown["counters"] == "Loket 18" and shown["floor"] == "Lantai 2 · Zona F"


def test_agency_tiles_and_a_closed_service_with_its_reason(demo: Live, make_page: Any) -> None:
    """Agency tiles carry an icon; a tile opens the agency's services with their names and
    counters; a closed service is shown, disabled, with its opening hours."""
    page = kiosk(make_page, demo, 1366, 768)
    page.click('.k-prio[data-priority="disabilitas"]')
    assert page.locator(".k-tenant").count() == 24
    icon = page.locator('.k-tenant[data-tenant="polres"] use').get_attribute("href")
    assert icon == "#icon-shield"
    assert page.locator("#icon-shield").count() == 1
    page.click('.k-tenant[data-tenant="kejari"]')
    screen = '.k-services[data-tenant="kejari"]'
    on_screen(page, screen)
    closed = page.locator(f'{screen} .k-service[data-service="AL"]')
    assert closed.is_disabled()
    assert "Tutup · jam layanan" in closed.inner_text() and "09.00–12.00" in closed.inner_text()
    assert "Loket 5" in closed.inner_text()
    screenshot(page, "wayfinding-agency-1366x768")


def test_an_untouched_kiosk_goes_back_to_the_first_step(demo: Live, make_page: Any) -> None:
    page = kiosk(make_page, demo, query="?idle=1000")
    page.click('.k-prio[data-priority="lansia"]')
    page.click("#open-search")
    page.click('.k-key[data-key="K"]')
    on_screen(page, "#screen-priority")  # after a second untouched
    assert page.input_value("#query") == ""
    page.click('.k-prio[data-priority=""]')
    assert text(page, "#chosen") == "Umum"  # the last visitor's priority is gone


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_step_fits_the_screen(demo: Live, make_page: Any, width: int,
                                    height: int) -> None:
    """Step 1, step 2 (24 agencies, 8 popular buttons), search with results, an agency's
    services, a popular list and the ticket: nothing scrolls, nothing is cut off."""
    page = kiosk(make_page, demo, width, height)
    size = f"{width}x{height}"

    def fits(step: str) -> None:
        screenshot(page, f"wayfinding-{step}-{size}")
        assert page.evaluate(OVERFLOW) == [], step

    fits("1-priority")
    page.click('.k-prio[data-priority="ibu-hamil"]')
    fits("2-home")
    closed = page.locator('.k-tenant[data-tenant="kemenag"]')
    assert "closed" in (closed.get_attribute("class") or "")
    assert closed.locator(".k-tenant-meta").inner_text() == "Tutup"
    lowest = ("Math.max(...[...document.querySelectorAll('.k-tenant')]"
              ".map(n => n.getBoundingClientRect().bottom))")
    assert page.evaluate(f"{lowest} / innerHeight") > 0.9  # the tiles use the whole display
    page.click("#open-search")
    for key in "AKTA":
        page.click(f'.k-key[data-key="{key}"]')
    fits("3-search")
    page.click("#screen-search .k-back")
    page.click('.k-tenant[data-tenant="disdukcapil"]')
    fits("4-agency")
    page.click('.k-services[data-tenant="disdukcapil"] .k-back')
    page.click('.k-pop:has-text("STNK")')
    fits("5-popular")
    page.click('.k-services[data-popular="4"] .k-service[data-service="A"]')
    on_screen(page, "#screen-ticket")
    page.wait_for_function("document.getElementById('pt-qr').naturalWidth > 0")
    fits("6-ticket")


STUB_VIBRATE = ("window.vibrations = [];"
                "navigator.vibrate = (p) => { window.vibrations.push(p); return true; };")


def test_status_page_tells_the_visitor_when_next_and_when_called(demo: Live,
                                                                  make_page: Any) -> None:
    """Where to go (agency, counters, floor); "Sebentar lagi Anda dipanggil" once nobody is
    ahead; a beep and a vibration when next and when called, after "Aktifkan suara"."""
    first, mine = demo.api.ticket("P"), demo.api.ticket("P")
    page = make_page(414, 896)
    page.add_init_script(STUB_VIBRATE)
    page.goto(demo.url + mine["status_url"])
    wait_text(page, "#headline", "1 orang lagi di depan Anda")
    assert text(page, "#agency") == "Dinas Kependudukan dan Pencatatan Sipil"
    assert text(page, "#counters") == "Loket 12–14"
    assert text(page, "#where") == "Lantai 1 · Zona D"
    assert page.evaluate("window.statusAlerts") == []
    page.click("#sound-on")
    on_screen(page, "#sound-ready")
    screenshot(page, "wayfinding-status-waiting-phone")
    assert demo.api.call(12)["ticket"]["code"] == first["code"]
    wait_text(page, "#headline", "Anda berikutnya")
    assert text(page, "#detail") == "Sebentar lagi Anda dipanggil"
    page.wait_for_function("window.statusAlerts.length === 1")
    alert = page.evaluate("window.statusAlerts[0]")
    assert alert["kind"] == "next" and alert["vibrate"] and alert["sound"]
    screenshot(page, "wayfinding-status-next-phone")
    assert demo.api.call(13)["ticket"]["code"] == mine["code"]
    wait_text(page, "#headline", "Silakan menuju Loket 13")
    page.wait_for_function("window.statusAlerts.length === 2")
    assert page.evaluate("window.statusAlerts[1].kind") == "called"
    assert demo.api.act(13, "recall").status_code == 200
    page.wait_for_function("window.statusAlerts.length === 3")  # called again
    vibrations = page.evaluate("window.vibrations")
    assert len(vibrations) == 4  # the tap's short one, then next, called, called again
    screenshot(page, "wayfinding-status-called-phone")
    demo.api.act(13, "done", {"outcome": "completed"})
    wait_text(page, "#headline", "Layanan selesai")
    assert page.is_hidden("#sound")


def test_a_site_without_popular_buttons_gives_the_agencies_the_width(live: Live,
                                                                      make_page: Any) -> None:
    """The test site (two agencies, no [[kiosk.popular]]): the tiles take the whole width and
    the search still finds a service by its agency's name."""
    page = kiosk(make_page, live, 1366, 768)
    page.click('.k-prio[data-priority=""]')
    assert page.locator(".k-pop").count() == 0
    assert page.evaluate(OVERFLOW) == []
    right = "Math.max(...[...document.querySelectorAll('.k-tenant')]" \
            ".map(n => n.getBoundingClientRect().right))"
    left = "Math.min(...[...document.querySelectorAll('.k-tenant')]" \
           ".map(n => n.getBoundingClientRect().left))"
    assert page.evaluate(f"({right} - {left}) / innerWidth") > 0.9
    screenshot(page, "wayfinding-no-popular-1366x768")
    page.click("#open-search")
    page.fill("#query", "disdukcapil")
    found = page.eval_on_selector_all("#results .k-service", "ns => ns.map(n => n.dataset.service)")
    assert found == ["B", "D"]
