"""The satisfaction survey (SKM) in headless Chromium: on a phone from a served ticket's status
link through to the thank-you, a second answer refused as already given; the counter's tablet
offering the ticket just finished there, taking the answers and resetting itself."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page
from test_pages_support import Live, screenshot, text, until, wait_text

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1280, "height": 800}


def answer_all(page: Page, answers: list[int]) -> None:
    """Tap the nine answers, one question after the other."""
    for n, value in enumerate(answers, start=1):
        wait_text(page, ".sv-step", f"Pertanyaan {n} dari 9")
        page.click(f'.sv-answer[data-value="{value}"]')
    page.wait_for_selector("#sv-send")


# each profile choice's words against its button: how far the text runs past the inner edge
SPILL = """bs => bs.map(b => {
  const range = document.createRange(); range.selectNodeContents(b);
  const text = range.getBoundingClientRect(), box = b.getBoundingClientRect();
  return [b.textContent, Math.max(0, text.right - (box.right - b.clientLeft),
                                  (box.left + b.clientLeft) - text.left)];
})"""


def finish(live: Live, counter: int) -> dict[str, Any]:
    """The counter calls the next ticket and finishes it as completed: the called ticket."""
    called = live.api.call(counter)["ticket"]
    assert live.api.act(counter, "done", {"outcome": "completed"}).status_code == 200
    return dict(called)


def test_survey_on_the_phone_from_the_status_link(live: Live, make_page: Any) -> None:
    """Once the ticket is served, its status page offers the survey: nine questions of four
    big buttons in the regulation's words, the optional profile, then thanks. A second page of
    the same ticket that answers after it is told the survey was already answered, and so is
    the page opened again."""
    ticket = live.api.ticket("A")
    first, second = make_page(**PHONE), make_page(**PHONE)
    for page in (first, second):
        page.goto(live.url + ticket["status_url"])
        wait_text(page, "#headline", "Anda berikutnya")
    assert first.is_hidden("#survey")  # not served yet: no survey
    finish(live, 1)
    for page in (first, second):
        page.wait_for_selector("#survey:not([hidden]) .sv-answer")
    wait_text(first, "#headline", "Terima kasih")
    # served while the page was open: the survey below the ticket is brought into view
    first.wait_for_function("document.getElementById('survey').getBoundingClientRect().top"
                            " < innerHeight / 2")
    assert text(first, "#survey-title") == "Bagaimana pelayanan kami?"
    labels = first.eval_on_selector_all(".sv-answer", "bs => bs.map(b => b.textContent)")
    assert labels == ["Sangat sesuai", "Sesuai", "Kurang sesuai", "Tidak sesuai"]
    heights = first.eval_on_selector_all(
        ".sv-answer", "bs => bs.map(b => b.getBoundingClientRect().height)")
    widths = first.eval_on_selector_all(
        ".sv-answer", "bs => bs.map(b => b.getBoundingClientRect().width)")
    assert min(heights) >= 56 and min(widths) >= 300  # big touch targets across the phone
    assert first.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    first.locator("#survey").scroll_into_view_if_needed()
    screenshot(first, "survey-question-phone")

    answer_all(first, [4, 3, 4, 2, 3, 4, 4, 1, 3])
    assert text(first, "#survey .sv-question") == "Data responden"
    first.click('[data-field="gender"] .sv-choice[data-value="p"]')
    first.click('[data-field="age"] .sv-choice[data-value="30-39"]')
    assert first.get_attribute('[data-field="gender"] [data-value="p"]', "aria-pressed") == "true"
    spills = first.eval_on_selector_all(".sv-choice", SPILL)
    assert "Pelajar/mahasiswa" in [label for label, _ in spills]
    assert [s for s in spills if s[1] > 0.5] == []  # every label inside its button
    assert first.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(first, "survey-profile-phone")
    first.click("#sv-send")
    first.wait_for_selector(".sv-thanks")
    assert "Terima kasih atas penilaian Anda" in text(first, "#survey")
    screenshot(first, "survey-thanks-phone")

    answer_all(second, [1] * 9)  # the other page answers after the first one did
    second.click("#sv-send")
    second.wait_for_selector(".sv-already")
    assert "sudah diisi" in text(second, "#survey")
    screenshot(second, "survey-already-phone")
    first.reload()
    first.wait_for_selector("#survey:not([hidden]) .sv-already")
    again = live.api.client.post(ticket["status_url"] + "/survey", json={"answers": [4] * 9})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"


def tablet_sign_in(page: Page, live: Live, counter: int, query: str) -> None:
    """Sign the tablet in at /rating/{counter}{query}: it comes back with the same timeouts."""
    page.goto(f"{live.url}/rating/{counter}{query}")
    page.fill("#token", live.api.token(counter))
    page.click("button[type=submit]")
    page.wait_for_selector('body[data-state="idle"] #idle')
    assert page.url == f"{live.url}/rating/{counter}{query}"


def test_counter_tablet_offers_the_finished_ticket_and_resets(live: Live,
                                                              make_page: Any) -> None:
    """The tablet at counter 2 signs in with the counter's token into its own cookie; when the
    officer finishes a ticket it asks "Bagaimana pelayanan kami?" for that ticket, takes the
    answers, thanks and returns to idle; a ticket nobody answers is dropped after the idle
    timeout and not offered again."""
    page = make_page(**TABLET)
    page.goto(f"{live.url}/rating/2")
    page.fill("#token", live.api.token(1))  # another counter's token opens nothing
    page.click("button[type=submit]")
    page.wait_for_selector(".c-error")
    assert page.is_visible("#token")
    tablet_sign_in(page, live, 2, "?idle=3&thanks=1")
    cookie = next(c for c in page.context.cookies() if c["name"] == "antrian_penilaian_2")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/rating/2"
    screenshot(page, "rating-idle-1280x800")

    issued = {t["code"]: t for t in (live.api.ticket("A"), live.api.ticket("A"))}
    served = finish(live, 2)
    page.wait_for_selector('body[data-state="survey"] .sv-answer')
    assert text(page, "#rating-ticket") == f"Nomor antrian {served['code']}"
    assert text(page, "#survey-title") == "Bagaimana pelayanan kami?"
    screenshot(page, "rating-question-1280x800")
    answer_all(page, [3, 3, 4, 4, 3, 3, 4, 2, 3])
    # the profile step fits the tablet: Kirim in view without scrolling, no label spilling
    fold = page.evaluate("""() => { const r = document.getElementById('sv-send')
        .getBoundingClientRect(); return [r.top, r.bottom, scrollY, innerHeight,
        document.documentElement.scrollHeight]; }""")
    assert fold[2] == 0 and fold[0] >= 0 and fold[1] <= fold[3], fold
    last = page.evaluate("[...document.querySelectorAll('.sv-field')].pop()"
                         ".getBoundingClientRect().bottom")
    assert last <= fold[0], (last, fold)  # every field above it in view, none under it
    assert [s for s in page.eval_on_selector_all(".sv-choice", SPILL) if s[1] > 0.5] == []
    screenshot(page, "rating-profile-1280x800")
    page.click('[data-field="occupation"] .sv-choice[data-value="wirausaha"]')
    page.click("#sv-send")
    page.wait_for_selector(".sv-thanks")
    screenshot(page, "rating-thanks-1280x800")
    page.wait_for_selector('body[data-state="idle"]', timeout=10_000)  # after the thank-you
    assert live.api.status(issued[served["code"]]).json()["survey"] == "done"

    left = finish(live, 2)  # this visitor walks away without touching the tablet
    page.wait_for_selector('body[data-state="survey"]')
    assert text(page, "#rating-ticket") == f"Nomor antrian {left['code']}"
    with page.expect_response(lambda r: r.url.endswith("/rating/2/survey")) as asked:
        page.wait_for_selector('body[data-state="idle"]', timeout=10_000)
    # right after the reset the tablet asks again; the ticket is still unrated, not offered again
    assert asked.value.json()["ticket"]["code"] == left["code"]
    page.wait_for_timeout(300)
    assert page.get_attribute("body", "data-state") == "idle"
    until(lambda: live.api.client.get(
        "/api/counters/2/survey", headers=live.api.auth(2)).json()["ticket"]["code"]
        == left["code"], what="the unanswered ticket still pending")



def test_tablet_routes_refuse_forged_and_bad_requests(live: Live, make_page: Any) -> None:
    """The tablet's JSON routes need its session (401), the answer also its CSRF token from the
    same origin (403); another counter's tablet, the console's session or an unknown counter
    open nothing; malformed answers are 400 and record nothing."""
    page = make_page(**TABLET)
    tablet_sign_in(page, live, 2, "")
    ticket = live.api.ticket("A")
    finish(live, 2)
    session = {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())}
    csrf = page.evaluate("JSON.parse(document.getElementById('config').textContent).csrf")
    good = {"ticket": ticket["code"], "answers": [4] * 9}
    client = live.api.client
    assert client.get("/rating/2/survey").status_code == 401
    assert client.get("/rating/3/survey", headers=session).status_code == 401
    assert client.get("/rating/2/survey", headers=session).json()["ticket"]["code"] \
        == ticket["code"]
    assert client.post("/rating/2/survey", json=good).status_code == 401
    assert client.post("/rating/2/survey", json=good, headers=session).status_code == 403
    cross = client.post("/rating/2/survey", json=good, headers={
        **session, "X-CSRF-Token": csrf, "Origin": "http://evil.example"})
    assert cross.status_code == 403
    signed = {**session, "X-CSRF-Token": csrf}
    for bad in ({"ticket": ticket["code"], "answers": [5] * 9},
                {"ticket": ticket["code"], "answers": [4] * 8},
                {"ticket": ticket["code"], "answers": [True] * 9},
                {"ticket": "<b>A001</b>", "answers": [4] * 9},
                {"ticket": ticket["code"], "answers": [4] * 9, "profile": {"gender": "x"}},
                {"ticket": ticket["code"], "answers": [4] * 9, "extra": 1}):
        r = client.post("/rating/2/survey", json=bad, headers=signed)
        assert r.status_code == 400 and r.json()["error"]["code"] in (
            "invalid_field", "unknown_field"), (bad, r.text)
    assert live.api.status(ticket).json()["survey"] == "open"  # nothing recorded
    page.goto(f"{live.url}/counter/2")  # the tablet's session is not the console's
    assert page.is_visible("#token")
    missing = page.goto(f"{live.url}/rating/99")
    assert missing is not None and missing.status == 404
    done = client.post("/rating/2/survey", json=good, headers=signed)
    assert done.status_code == 201, done.text
    again = client.post("/rating/2/survey", json=good, headers=signed)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"
