"""The complaint desk in Chromium: on the kiosk (1080x1920 portrait) a visitor sends a complaint
with a photo and gets the tracking code; on a phone, from a ticket's status page, the complaint
is tied to that visit; the office's inbox assigns, answers and closes it; the visitor's lookup
then shows the answer. Markup a visitor or the office writes appears literally and never runs."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image
from playwright.sync_api import Dialog, Page
from test_pages_support import Live, admin_sign_in, screenshot, text

from texts import long_date

TRACKING = re.compile(r"PGD-[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}")
MARKUP = "<script>alert(1)</script> Antrean loket 3 lama sekali, <b>tolong</b> diperbaiki."
ANSWER = "Terima kasih. <i>Petugas</i> sudah kami tambah.\nSalam, kantor MPP."


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def no_dialogs(page: Page, seen: list[str]) -> None:
    def dialog(d: Dialog) -> None:
        seen.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)


def send_form(page: Page, category: str, words: str, contact: str = "",
              photo: bytes | None = None) -> str:
    page.click(f'.p-category:has(input[value="{category}"])')
    page.fill("#text", words)
    if contact:
        page.fill("#contact", contact)
    if photo is not None:
        page.set_input_files("#photo", files=[{"name": "foto.png", "mimeType": "image/png",
                                               "buffer": photo}])
        assert text(page, "#photo-name") == "foto.png"
    page.click("#send")
    page.wait_for_selector("#sent", state="visible")
    code = text(page, "#tracking").strip()
    assert TRACKING.fullmatch(code), code
    return code


def test_kiosk_form_office_answer_and_lookup(live: Live, make_page: Any) -> None:
    dialogs: list[str] = []
    kiosk = make_page(1080, 1920)
    no_dialogs(kiosk, dialogs)
    kiosk.goto(f"{live.url}/kiosk")
    screenshot(kiosk, "complaint-kiosk-link")
    kiosk.click("#complaint-link")
    kiosk.wait_for_selector("#complaint-form")
    assert kiosk.is_visible("#back")  # from the kiosk: a way back to it
    kiosk.click("#send")  # nothing chosen yet: the form says what is missing, sends nothing
    assert text(kiosk, "#error") == "Pilih salah satu kategori."
    screenshot(kiosk, "complaint-kiosk-form")
    assert kiosk.query_selector("#photo") is None  # a kiosk has no camera and no files
    sent = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    code = send_form(kiosk, "sarana", MARKUP, contact="0812 1111 2222")
    screenshot(kiosk, "complaint-kiosk-sent")
    assert not kiosk.query_selector("#see")  # the kiosk offers no way to reopen it
    kiosk.click("#done")
    kiosk.wait_for_url(f"{live.url}/kiosk")
    kiosk.goto(f"{live.url}/pengaduan/{code}")
    kiosk.wait_for_selector("#status")
    assert text(kiosk, "#tracking") == code
    assert text(kiosk, "#status-name") == "Baru"
    received = {sent, datetime.now(ZoneInfo("Asia/Jakarta")).date()}  # the WIB day may turn
    assert any(long_date(day) in text(kiosk, "#status") for day in received)
    assert kiosk.is_visible("#no-answer")
    assert "0812 1111 2222" not in kiosk.content()

    # on a phone, from the status page of a ticket: the complaint names the visit
    ticket = live.api.ticket("A")
    phone = make_page(390, 844)
    no_dialogs(phone, dialogs)
    phone.goto(f"{live.url}{ticket['status_url']}")
    phone.wait_for_selector("#complaint-link")
    screenshot(phone, "complaint-status-link")
    phone.click("#complaint-link")
    phone.wait_for_selector("#ticket-tie")
    assert ticket["code"] in text(phone, "#ticket-tie")
    screenshot(phone, "complaint-phone-form")
    visit_code = send_form(phone, "petugas", "Petugas sangat membantu, terima kasih banyak.",
                           photo=png())
    screenshot(phone, "complaint-phone-sent")
    phone.click("#see")
    phone.wait_for_selector("#status")
    assert text(phone, "#tracking") == visit_code

    office = make_page()
    no_dialogs(office, dialogs)
    admin_sign_in(office, live)
    assert "0 lewat tenggat" in text(office, "#complaints-flag")
    office.click("#complaints-flag a")
    office.wait_for_selector("#inbox")
    assert office.eval_on_selector_all("#inbox tbody tr", "rs => rs.map(r => r.dataset.tracking)") \
        == [visit_code, code]
    assert "<script>alert(1)</script>" in text(office, f'tr[data-tracking="{code}"] .c-text')
    screenshot(office, "complaint-office-inbox")
    office.click(f'tr[data-tracking="{visit_code}"] a')
    office.wait_for_selector("#entry")
    assert ticket["code"] in text(office, "#ticket")
    office.wait_for_function("document.querySelector('#photo').complete")
    assert office.eval_on_selector("#photo", "img => img.naturalWidth") == 320
    office.goto(f"{live.url}/admin/pengaduan")
    office.click(f'tr[data-tracking="{code}"] a')
    office.wait_for_selector("#entry")
    assert text(office, "#text") == MARKUP
    assert text(office, "#contact") == "0812 1111 2222"
    assert office.query_selector("#photo") is None
    # no tenant chosen until the office picks one: one click cannot forward it to the first
    assert office.input_value("#assign select") == ""
    assert text(office, "#assign select option:checked") == "— pilih —"
    assert office.eval_on_selector("#assign select", "s => s.validity.valueMissing")  # required
    office.select_option("#assign select", "samsat")
    office.click("#assign button")
    office.wait_for_selector("#done")
    assert text(office, "#status-name") == "Diproses" and text(office, "#tenant") == "Samsat"
    office.fill("#answer-text", ANSWER)
    office.click("#answer-form button")
    office.wait_for_selector("#answer")
    assert text(office, "#answer") == ANSWER and text(office, "#status-name") == "Dijawab"
    screenshot(office, "complaint-office-entry")
    office.click("#close button")
    office.wait_for_selector('#entry[data-status="ditutup"]')
    assert not office.is_visible("#answer-form")
    assert office.eval_on_selector_all("#notes .c-action", "ls => ls.map(l => l.textContent)") == [
        "Dikirim pengunjung", "Diteruskan ke tenan: Samsat", "Dijawab kantor", "Ditutup"]

    kiosk.goto(f"{live.url}/pengaduan")
    kiosk.click(".p-lookup a")  # "already have a code?"
    kiosk.fill("#kode", code.lower().replace("-", " "))
    kiosk.click(".p-find button")
    kiosk.wait_for_selector("#answer")
    assert text(kiosk, "#answer") == ANSWER
    assert text(kiosk, "#status-name") == "Ditutup"
    assert kiosk.eval_on_selector_all("#answer *", "nodes => nodes.length") == 0
    screenshot(kiosk, "complaint-kiosk-lookup")
    kiosk.goto(f"{live.url}/pengaduan/PGD-ZZZZZ-ZZZZZ")
    assert "tidak ditemukan" in text(kiosk, "#not-found")
    assert dialogs == []  # no markup ran anywhere


def test_the_kiosk_form_goes_back_to_the_kiosk_when_left_alone(live: Live,
                                                              make_page: Any) -> None:
    """A visitor who walks away mid-sentence leaves nothing for the next one to read."""
    kiosk = make_page(1080, 1920)
    kiosk.goto(f"{live.url}/pengaduan?dari=kiosk&idle=1500")
    kiosk.fill("#text", "Setengah ditulis lalu ditinggal")
    kiosk.wait_for_url(f"{live.url}/kiosk", timeout=10_000)
    kiosk.goto(f"{live.url}/pengaduan?dari=kiosk&idle=1500")
    assert kiosk.input_value("#text") == ""


BACKGROUND = "getComputedStyle(document.body).backgroundColor"

# Every category's label inside its tile (a word wider than the tile sticks out of it).
CATEGORIES_FIT = """() => [...document.querySelectorAll('.p-category span')]
  .filter(s => s.scrollWidth > s.clientWidth + 1).map(s => s.textContent)"""


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, selector
    return found


def test_the_kiosk_form_is_typed_on_the_kiosks_keyboard(live: Live, make_page: Any) -> None:
    """From the kiosk: the kiosk's on-screen keyboard (the search's code) types the complaint
    and the contact, with capitals and punctuation; no photo to pick; the kiosk's light colours;
    the categories and the whole form fit above the keyboard without scrolling."""
    kiosk = make_page(1080, 1920)
    kiosk.goto(f"{live.url}/kiosk")
    kiosk_background = kiosk.evaluate(BACKGROUND)
    kiosk.click("#complaint-link")
    kiosk.wait_for_selector("#keyboard")
    assert kiosk.evaluate(BACKGROUND) == kiosk_background == "rgb(238, 243, 250)"
    assert kiosk.query_selector("#photo") is None and "Pilih foto" not in kiosk.content()
    assert kiosk.query_selector(".p-lookup") is None  # no keyboard there, no way back
    assert kiosk.evaluate(CATEGORIES_FIT) == []
    keys, send = box(kiosk, "#keyboard"), box(kiosk, "#send")
    assert box(kiosk, "#contact")["y"] + box(kiosk, "#contact")["height"] <= keys["y"]
    assert send["y"] + send["height"] <= keys["y"] <= 1920 - keys["height"]
    screenshot(kiosk, "complaint-kiosk-keyboard")

    kiosk.click('.p-category:has(input[value="waktu"])')
    assert kiosk.get_attribute("#text", "class") == "k-typing"  # the keys type here
    for key in ["shift", *"antre", " ", *"lama", ",", " ", *"loket", " ", "3", "."]:
        kiosk.click(f'#keyboard .k-key[data-key="{key}"]')
    kiosk.click('#keyboard .k-key[data-key="back"]')
    assert kiosk.input_value("#text") == "Antre lama, loket 3"
    assert text(kiosk, "#count") == "19/2000"
    kiosk.click("#contact")
    for key in ["b", "u", "d", "i", "@", "x", ".", "i", "d"]:
        kiosk.click(f'#keyboard .k-key[data-key="{key}"]')
    assert kiosk.input_value("#contact") == "budi@x.id"
    assert kiosk.input_value("#text") == "Antre lama, loket 3"
    kiosk.click("#send")
    kiosk.wait_for_selector("#sent", state="visible")
    assert TRACKING.fullmatch(text(kiosk, "#tracking").strip())
    assert kiosk.is_hidden("#keyboard")
    screenshot(kiosk, "complaint-kiosk-keyboard-sent")


def test_the_categories_fit_their_tiles_on_a_phone(live: Live, make_page: Any) -> None:
    phone = make_page(390, 844)
    phone.goto(f"{live.url}/pengaduan")
    phone.wait_for_selector("#complaint-form")
    assert phone.evaluate(CATEGORIES_FIT) == []
    assert phone.is_visible("#photo-name") and phone.query_selector("#keyboard") is None
    assert "maks 2 MB)" in text(phone, "#complaint-form")  # Babel's number, not "2.0"

