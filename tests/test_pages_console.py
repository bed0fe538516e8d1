"""The officer console in headless Chromium: sign-in with the counter token into an HttpOnly
SameSite=Strict cookie, CSRF, buttons and shortcuts driving the queue, double clicks."""


from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, Route
from test_pages_support import (
    Live,
    admin_sign_in,
    screenshot,
    text,
    wait_text,
)

from counter_client.keymap import load_keymap
from texts import t


def sign_in(page: Page, live: Live, counter: int) -> None:
    page.goto(f"{live.url}/counter/{counter}")
    page.fill("#token", live.api.token(counter))
    page.click("button[type=submit]")
    page.wait_for_selector("[data-action=call-next]:not([disabled])")


def waiting_codes(live: Live, counter: int) -> list[str]:
    r = live.api.client.get(f"/api/counters/{counter}/waiting",
                      headers={"Authorization": f"Bearer {live.api.token(counter)}"})
    return [t["code"] for t in r.json()["tickets"]]


def test_sign_in_sets_a_strict_httponly_session(live: Live, make_page: Any) -> None:
    """A wrong token (or another counter's) is refused; the right one gives a session cookie that
    scripts cannot read and other sites cannot send."""
    page = make_page()
    page.goto(f"{live.url}/counter/1")
    page.fill("#token", live.api.token(2))
    page.click("button[type=submit]")
    wait_text(page, ".c-error", "Kode akses salah")
    screenshot(page, "console-login-1920x1080")
    sign_in(page, live, 1)
    cookie = next(c for c in page.context.cookies() if c["name"] == "antrian_loket_1")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/counter/1"
    assert page.evaluate("document.cookie") == ""
    page.goto(f"{live.url}/counter/2")
    assert page.locator("#token").is_visible()


def test_actions_need_the_csrf_token_and_the_session(live: Live, make_page: Any) -> None:
    """A console action without the page's CSRF token is 403; without the session it is 401."""
    live.api.ticket("A")
    page = make_page()
    sign_in(page, live, 1)
    session = {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())}
    forged = live.api.client.post("/counter/1/actions/call-next", json={}, headers=session)
    assert forged.status_code == 403
    csrf = page.evaluate("JSON.parse(document.getElementById('config').textContent).csrf")
    cross = live.api.client.post("/counter/1/actions/call-next", json={}, headers={
        **session, "X-CSRF-Token": csrf, "Origin": "http://evil.example"})
    assert cross.status_code == 403
    anonymous = live.api.client.post("/counter/1/actions/call-next", json={},
                               headers={"X-CSRF-Token": "x"})
    assert anonymous.status_code == 401
    assert live.api.state()["waiting"]["A"] == 1
    same_site = live.api.client.post("/counter/1/actions/call-next", json={},
                               headers={**session, "X-CSRF-Token": csrf})
    assert same_site.status_code == 200 and same_site.json()["ticket"]["code"] == "A001"


def test_buttons_and_shortcuts_drive_the_queue(live: Live, make_page: Any) -> None:
    """Panggil, Panggil ulang, Selesai (outcome), Lewati, Alihkan, Jeda/Lanjut and
    call-a-ticket, by mouse and by keyboard; the console follows the counter live."""
    first = live.api.ticket("A")
    for _ in range(3):
        live.api.ticket("A")
    page = make_page()
    sign_in(page, live, 1)
    wait_text(page, "#counts", "4")
    page.click("[data-action=call-next]")
    wait_text(page, "#current-code", "A001")
    wait_text(page, "#status", "Melayani")
    page.click("[data-action=recall]")
    wait_text(page, "#current-calls", "2×")
    press(page, "s")
    page.click("[data-outcome=not_completed]")
    wait_text(page, "#current-code", "—")
    status = live.api.client.get(first["status_url"] + "/status").json()
    assert status["status"] == "served" and status["outcome"] == "not_completed"
    press(page, "Enter")
    wait_text(page, "#current-code", "A002")
    wait_text(page, "#current-timer", "Dilayani 00:0")
    wait_text(page, "#waiting li:first-child", "A003")
    screenshot(page, "console-1920x1080")
    page.click("[data-action=skip]")
    wait_text(page, "#skipped", "A002")
    assert "A002" not in waiting_codes(live, 1)
    page.click('#skipped [data-restore="A002"]')
    wait_text(page, "#waiting li:first-child", "A002")
    page.click('#waiting [data-call="A002"]')
    wait_text(page, "#current-code", "A002")
    page.click("[data-action=call-next]")
    wait_text(page, "#current-code", "A003")
    page.click("[data-action=transfer]")
    page.click('#dlg-transfer [data-service="B"]')
    wait_text(page, "#current-code", "—")
    assert "A003" in waiting_codes(live, 2)
    page.click('#waiting [data-call="A004"]')
    wait_text(page, "#current-code", "A004")
    page.click("[data-action=done]")
    page.click("[data-outcome=completed]")
    wait_text(page, "#current-code", "—")
    page.click("[data-action=pause]")
    page.click('#dlg-pause [data-reason="Ibadah"]')
    wait_text(page, "#status", "Jeda")
    assert live.api.state()["counters"][0]["reason"] == "Ibadah"
    assert page.locator("[data-action=call-next]").is_disabled()
    press(page, "j")
    wait_text(page, "#status", "Siap")
    live.api.call(1)  # from another client: the console follows
    wait_text(page, "#current-code", "A003")


def press(page: Page, key: str) -> None:
    """A key, as an officer presses it: after the previous action's answer, since a key pressed
    while a request is still out is dropped on purpose (no double actions)."""
    # the console's script may not have run yet when sign_in's button shows (the new page's
    # markup comes first): until it has, there is no `state` to ask
    page.wait_for_function("() => { try { return !state.busy; } catch { return false; } }")
    page.keyboard.press(key)


def ticket_status(live: Live, ticket: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = live.api.client.get(ticket["status_url"] + "/status").json()
    return answer


def wait_api(check: Callable[[], bool], what: str) -> None:
    """Until the server shows what a key did (a bound, not a timing requirement)."""
    for _ in range(100):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"the server never showed {what}")


def test_officer_keys_act_through_the_server(live: Live, make_page: Any) -> None:
    """SPEC's keys on the web console, each checked on the server: Enter and Space Panggil,
    U Panggil ulang, L Lewati, K Kembalikan (the skipped ticket back), S Selesai (1: Tuntas),
    A Alihkan (the service's number), J Jeda (a reason's number) and J again Lanjut."""
    tickets = [live.api.ticket("A") for _ in range(3)]
    page = make_page()
    sign_in(page, live, 1)
    wait_text(page, "#counts", "3")
    press(page, "k")  # nothing skipped yet: said, nothing sent
    wait_text(page, "#notice", t("console.skipped_empty"))
    press(page, "s")  # nobody called yet
    wait_text(page, "#notice", t("console.none"))
    assert not page.locator("dialog[open]").count()
    press(page, "Enter")
    wait_api(lambda: (live.api.counter(1)["ticket"] or {}).get("code") == "A001", "A001 called")
    wait_text(page, "#current-code", "A001")
    press(page, "j")  # no pause while serving: said, nothing opened
    wait_text(page, "#notice", t("error.ticket_in_progress"))
    assert not page.locator("dialog[open]").count()
    press(page, "u")
    wait_api(lambda: live.api.counter(1)["ticket"]["calls"] == 2, "A001 called twice")
    wait_text(page, "#current-calls", "2×")
    press(page, "l")
    wait_api(lambda: ticket_status(live, tickets[0])["status"] == "no_show", "A001 skipped")
    wait_text(page, "#skipped", "A001")
    press(page, "k")
    page.wait_for_selector("#dlg-restore[open]")
    screenshot(page, "console-restore-1920x1080")
    press(page, "1")
    wait_api(lambda: waiting_codes(live, 1)[:1] == ["A001"], "A001 back at the front")
    press(page, " ")
    wait_api(lambda: (live.api.counter(1)["ticket"] or {}).get("code") == "A001",
             "A001 called again by Space")
    wait_text(page, "#current-code", "A001")
    press(page, "s")
    page.wait_for_selector("#dlg-done[open]")
    press(page, "1")
    wait_api(lambda: ticket_status(live, tickets[0]).get("outcome") == "completed", "A001 done")
    wait_text(page, "#current-code", "—")
    press(page, "Enter")
    wait_text(page, "#current-code", "A002")
    press(page, "a")
    page.wait_for_selector("#dlg-transfer[open]")
    screenshot(page, "console-transfer-1920x1080")
    number = page.locator('#dlg-transfer [data-service="D"] kbd').text_content()
    assert number and number.isdigit()
    press(page, number)
    wait_api(lambda: "A002" in waiting_codes(live, 1) and
             live.api.state()["waiting"]["D"] == 1, "A002 moved to D")
    wait_text(page, "#current-code", "—")
    press(page, "j")
    page.wait_for_selector("#dlg-pause[open]")
    press(page, "3")
    wait_api(lambda: live.api.counter(1)["status"] == "paused", "the pause")
    assert live.api.counter(1)["reason"] == "Rapat"
    wait_text(page, "[data-action=pause]", "Lanjut")
    press(page, "j")
    wait_api(lambda: live.api.counter(1)["status"] == "idle", "the resume")
    wait_text(page, "#status", "Siap")


def test_keys_do_nothing_in_a_text_field_or_a_dialog(live: Live, make_page: Any) -> None:
    """While the pause reason is typed, U, L, S, A, J, K and Space are letters of the reason and
    Enter submits it; in a dialog, Enter picks its focused button, not Panggil; Escape closes a
    dialog without acting."""
    live.api.ticket("A")
    live.api.ticket("A")
    page = make_page()
    sign_in(page, live, 1)
    press(page, "Enter")
    wait_text(page, "#current-code", "A001")
    press(page, "a")
    page.wait_for_selector("#dlg-transfer[open]")
    page.keyboard.press("l")
    page.keyboard.press("u")
    page.keyboard.press("Escape")
    page.wait_for_selector("#dlg-transfer", state="hidden")
    counter = live.api.counter(1)  # L and U in the dialog did nothing
    assert counter["status"] == "serving" and counter["ticket"]["calls"] == 1
    press(page, "s")
    page.wait_for_selector("#dlg-done[open]")
    page.keyboard.press("Enter")  # the focused first choice: Tuntas
    wait_text(page, "#current-code", "—")
    assert waiting_codes(live, 1) == ["A002"]  # Enter did not call A002
    press(page, "j")
    page.fill("#pause-text", "")
    page.focus("#pause-text")
    page.keyboard.type("Suls jak ua")
    assert live.api.counter(1)["status"] == "idle" and waiting_codes(live, 1) == ["A002"]
    page.keyboard.press("Enter")
    wait_api(lambda: live.api.counter(1)["status"] == "paused", "the pause")
    assert live.api.counter(1)["reason"] == "Suls jak ua"


def test_the_legend_is_the_terminals(live: Live, make_page: Any) -> None:
    """The console's key legend and the terminal client's are one layout
    (protocol.officer_keys): the same keys and names, the terminal adding only Q Keluar; the
    buttons show the same keys."""
    page = make_page()
    sign_in(page, live, 1)
    web = [(k.inner_text().strip(), n.inner_text().strip()) for k, n in zip(
        page.locator("#keys .c-key kbd").all(), page.locator("#keys .c-key-name").all(),
        strict=True)]
    terminal = load_keymap(None).legend()
    assert web == [entry for entry in terminal if entry != ("Q", t("action.quit"))]
    assert len(terminal) == len(web) + 1 and ("Q", t("action.quit")) in terminal
    assert ("Enter/Spasi", t("action.call_next")) in web and ("K", t("action.restore")) in web
    buttons = dict(zip(page.locator(".c-actions [data-action] kbd").all_inner_texts(),
                       page.locator(".c-actions [data-action] .c-btn-label").all_inner_texts(),
                       strict=True))
    assert buttons == {keys: name for keys, name in web if keys != t("key.escape")} | {
        "J": t("action.pause")}  # the J button names what it does now
    screenshot(page, "console-keys-1920x1080")


def test_transfer_dialog_groups_services_by_agency(live: Live, make_page: Any) -> None:
    """Alihkan lists the open services under their agency, the current one's service left
    out (and C, closed today: its agency Samsat has no other, so no heading either)."""
    live.api.ticket("A")
    page = make_page()
    sign_in(page, live, 1)
    press(page, "Enter")
    wait_text(page, "#current-code", "A001")
    press(page, "a")
    page.wait_for_selector("#dlg-transfer[open]")
    groups = page.evaluate("""() => Array.from(document.querySelectorAll('#dlg-transfer .c-group'))
        .filter((g) => !g.hidden).map((g) => [g.querySelector('h3').textContent,
        Array.from(g.querySelectorAll('[data-service]')).filter((b) => !b.hidden)
            .map((b) => b.dataset.service)])""")
    assert groups == [["Disdukcapil", ["B", "D"]]]
    numbers = page.locator("#dlg-transfer [data-service]:visible kbd").all_inner_texts()
    assert numbers == ["1", "2"]


def test_double_click_calls_one_ticket(live: Live, make_page: Any) -> None:
    """A double click on Panggil, and a second click right after the answer, call one visitor."""
    for _ in range(3):
        live.api.ticket("A")
    page = make_page()
    page.clock.install()
    sign_in(page, live, 1)
    page.dblclick("[data-action=call-next]")
    wait_text(page, "#current-code", "A001")
    with page.expect_response("**/actions/call-next"):
        page.click("[data-action=call-next]")
    assert text(page, "#current-code") == "A001"
    assert waiting_codes(live, 1) == ["A002", "A003"]
    page.clock.fast_forward(page.evaluate("REPEAT_MS") + 1)  # past the double-click window
    page.click("[data-action=call-next]")
    wait_text(page, "#current-code", "A002")
    assert waiting_codes(live, 1) == ["A003"]


def test_retry_after_a_lost_answer_calls_the_same_ticket(live: Live, make_page: Any) -> None:
    """A call whose answer is lost, retried later by the officer, is the same request: the
    server answers it again and does not call the next visitor."""
    for _ in range(2):
        live.api.ticket("A")
    page = make_page()
    page.clock.install()
    sign_in(page, live, 1)
    lost: list[str] = []

    def lose_first_answer(route: Route) -> None:
        if lost:
            route.continue_()
            return
        try:  # the server acts; its answer never reaches the page
            lost.append(route.fetch(timeout=20_000).json()["ticket"]["code"])
        finally:
            route.abort("connectionreset")

    page.route("**/actions/call-next", lose_first_answer)
    page.click("[data-action=call-next]")
    wait_text(page, "#notice", "Tidak dapat menghubungi server", timeout=25)
    assert lost == ["A001"]
    page.clock.fast_forward(page.evaluate("REPEAT_MS") + 1)  # later than a double click
    page.click("[data-action=call-next]")
    wait_text(page, "#current-code", "A001")
    assert waiting_codes(live, 1) == ["A002"]


def test_a_key_pressed_while_a_press_is_out_is_said_not_lost_unseen(
        live: Live, make_page: Any) -> None:
    """A key pressed while the previous press is still on its way is not run (never two
    actions from one slow answer) but said so, also after that answer arrives (which would
    otherwise cover the notice); pressed again it runs."""
    live.api.ticket("A")
    page = make_page()
    sign_in(page, live, 1)
    held: list[Route] = []
    def hold(route: Route) -> None:
        held.append(route)

    page.route("**/actions/call-next", hold)
    page.keyboard.press("Enter")
    for _ in range(200):  # until the call is out and held (a bound, not a timing requirement)
        if held:
            break
        page.wait_for_timeout(25)
    assert held and page.evaluate("state.busy")
    page.keyboard.press("u")
    dropped = t("console.key_dropped", label=t("action.recall"))
    wait_text(page, "#notice", dropped)
    held[0].continue_()
    wait_text(page, "#current-code", "A001")
    wait_text(page, "#notice", t("console.called_ticket", code="A001"))
    assert dropped in text(page, "#notice")
    assert live.api.counter(1)["ticket"]["calls"] == 1  # the U was not run behind its back
    press(page, "u")
    wait_api(lambda: live.api.counter(1)["ticket"]["calls"] == 2, "A001 called again")


def test_admin_needs_the_office_token(live: Live, make_page: Any) -> None:
    """/admin asks for the office token: a counter's token is refused, the right one opens it
    with an HttpOnly cookie for /admin only, and signing out closes it again."""
    page = make_page()
    page.goto(f"{live.url}/admin")
    assert page.locator("#counts").count() == 0
    page.fill("#token", live.api.token(1))
    page.click("button[type=submit]")
    wait_text(page, ".c-error", "Kode akses kantor salah")
    admin_sign_in(page, live)
    cookie = next(c for c in page.context.cookies() if c["name"] == "antrian_admin")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/admin"
    assert live.api.client.get("/admin").text.count('id="counts"') == 0
    page.click(".a-logout button")
    page.wait_for_selector("#token")
    page.goto(f"{live.url}/admin")
    assert page.locator("#counts").count() == 0
