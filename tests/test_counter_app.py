"""The counter terminal app driven headless (Textual pilot) against a real server and Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from test_counter_client import Site, start_site
from textual.app import App
from textual.pilot import Pilot

from counter_client.app import ChoiceScreen, CounterApp
from counter_client.keymap import load_keymap
from protocol.officer_keys import legend
from texts import t
from texts.formats import clock as short_clock

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
SCREEN_PARTS = ("title", "clock", "ticket", "served", "status", "waiting", "log", "link", "pending")


@pytest.fixture
def site(server_factory: Any) -> Site:
    return start_site(server_factory)


@asynccontextmanager
async def running(site: Site, counter: int = 1, keymap: Path | None = None,
                  **options: Any) -> AsyncIterator[tuple[CounterApp, Pilot[None]]]:
    """The app of `counter`, linked to the server (the first snapshot shown)."""
    options.setdefault("call_guard", 0)
    options.setdefault("max_backoff", 0.3)
    client = site.client(counter, attempts=2, timeout=2.0)
    app = CounterApp(client, load_keymap(keymap), **options)
    try:
        async with app.run_test(size=(110, 32)) as pilot:
            await until(pilot, lambda: app.text("link") == t("terminal.link_up"), "the link")
            # and its first snapshot (the site's zone): the link is up a moment before it
            await until(pilot, lambda: app.view.zone is not None, "the first snapshot")
            yield app, pilot
    finally:
        await client.aclose()


def screen(app: CounterApp) -> str:
    return "\n".join(f"[{part}] {app.text(part)}" for part in SCREEN_PARTS)


async def until(pilot: Pilot[None], check: Callable[[], bool], what: str) -> None:
    """Let the app run until `check()` holds (a generous bound, not a timing requirement)."""
    for _ in range(600):
        if check():
            return
        await pilot.pause(0.05)
    app = pilot.app
    shown = screen(app) if isinstance(app, CounterApp) else ""
    raise AssertionError(f"the screen never showed {what}:\n{shown}")


async def shows(pilot: Pilot[None], part: str, text: str) -> None:
    app = pilot.app
    assert isinstance(app, CounterApp)
    await until(pilot, lambda: text in app.text(part), f"{text!r} in #{part}")


async def choose(pilot: Pilot[None], key: str, what: str, *picks: str) -> None:
    """Press `key`, wait for the choice it opens (`what`), then press `picks` in it."""
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen), what)
    await pilot.press(*picks)


async def press_while_down(site: Site, pilot: Pilot[None]) -> None:
    """Kill the server, then press Panggil: the link shows as lost, the press as pending."""
    site.server.kill()
    await shows(pilot, "link", "KONEKSI TERPUTUS")
    await pilot.press("enter")
    await shows(pilot, "pending", "TERTUNDA: Panggil")


async def test_enter_calls_the_next_visitor_and_shows_the_ticket(site: Site) -> None:
    """Enter = Panggil: the screen shows A001, the action in the log, the new waiting count."""
    site.api.ticket("A")
    site.api.ticket("A")
    async with running(site) as (app, pilot):
        await shows(pilot, "waiting", "Perpanjangan STNK: 2 orang")
        await pilot.press("enter")
        await shows(pilot, "ticket", "A001")
        await shows(pilot, "log", "Memanggil A001")
        await shows(pilot, "waiting", "Perpanjangan STNK: 1 orang")
        await shows(pilot, "served", "dilayani 00:")
        assert app.text("status") == "Melayani"
        await pilot.press("space")
        await shows(pilot, "ticket", "A002")
    assert site.api.counter(1)["ticket"]["code"] == "A002"


async def test_letter_keys_recall_skip_done_transfer_pause(site: Site) -> None:
    """SPEC's layout: U Panggil ulang, L Lewati, S Selesai (outcome), A Alihkan (service),
    J Jeda (reason) / J again Lanjut; each reaches the server, checked there."""
    first = site.api.ticket("A")
    second = site.api.ticket("A")
    site.api.ticket("A")
    async with running(site) as (_app, pilot):
        await pilot.press("space")
        await shows(pilot, "ticket", "A001")
        await pilot.press("u")
        await shows(pilot, "log", "Memanggil ulang A001 (ke-2)")
        assert site.api.counter(1)["ticket"]["calls"] == 2
        await pilot.press("l")
        await shows(pilot, "log", "A001 dilewati")
        await shows(pilot, "ticket", "—")
        assert site.api.client.get(first["status_url"] + "/status").json()["status"] == "no_show"

        await pilot.press("enter")
        await shows(pilot, "ticket", "A002")
        await choose(pilot, "s", "the outcome choice", "2")
        outcome = t("terminal.outcome.not_completed")
        await shows(pilot, "log", t("terminal.done", code="A002", outcome=outcome))
        status = site.api.client.get(second["status_url"] + "/status").json()
        assert status["status"] == "served" and status["outcome"] == "not_completed"

        await pilot.press("enter")
        await shows(pilot, "ticket", "A003")
        await pilot.press("j")  # no pause while serving: said, no reason asked
        await shows(pilot, "log", t("error.ticket_in_progress"))
        assert not isinstance(pilot.app.screen, ChoiceScreen)
        # the open services other than A (C opens Monday mornings only): D by its number
        await choose(pilot, "a", "the service choice")
        offered = [value for value, _ in pilot.app.screen.choices]  # type: ignore[attr-defined]
        assert "A" not in offered and {"B", "D"} <= set(offered)
        await pilot.press(str(offered.index("D") + 1))
        await shows(pilot, "log", "A003 dialihkan ke layanan D")
        assert site.api.state()["waiting"]["D"] == 1

        await choose(pilot, "j", "the reason choice", "3")
        await shows(pilot, "status", "JEDA: Rapat")
        assert site.api.counter(1)["reason"] == "Rapat"
        await pilot.press("j")
        await shows(pilot, "status", "Siap melayani")
    assert site.api.counter(1)["status"] == "idle"


async def test_the_legend_is_the_one_layout_with_quit(site: Site) -> None:
    """The bottom line names each key of protocol.officer_keys as the web console does, plus
    Q Keluar; with the default keys every one of SPEC's keys is there."""
    async with running(site) as (app, _pilot):
        shown = app.text("keys")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        app.save_screenshot("counter-terminal-110x32.svg", str(SCREENSHOTS))
    assert shown == "  ".join(f"{keys} {name}" for keys, name in legend(t, terminal=True))
    for part in ("Enter/Spasi " + t("action.call_next"), "U " + t("action.recall"),
                 "L " + t("action.skip"), "S " + t("action.done"), "A " + t("action.transfer"),
                 "J " + t("action.pause_resume"), "K " + t("action.restore"),
                 "Q " + t("action.quit")):
        assert part in shown


async def test_the_clock_shows_the_sites_local_time(site: Site,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The test site is in Asia/Jakarta (UTC+7) and this process in UTC: the top bar's clock
    and the log's times are the site's (either side of a minute turning meanwhile)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    zone = ZoneInfo("Asia/Jakarta")
    try:
        async with running(site) as (app, pilot):
            before = datetime.now(zone)
            shown = app.text("clock")
            after = datetime.now(zone)
            assert shown in {short_clock(before), short_clock(after)}
            assert shown not in {short_clock(before.astimezone(UTC)),
                                 short_clock(after.astimezone(UTC))}
            await pilot.press("l")  # refused (nobody called): a log line with its time
            await shows(pilot, "log", t("action.skip"))
            stamp = app.text("log").split()[0]
            assert stamp[:5] in {short_clock(before), short_clock(datetime.now(zone))}
    finally:
        monkeypatch.undo()
        time.tzset()


async def test_the_transfer_choice_is_grouped_by_agency(site: Site) -> None:
    """A Alihkan lists the other open services under their agency's name (a heading, not a
    choice); the numbers count services only, and the chosen one is where the ticket goes."""
    site.api.ticket("A")
    async with running(site) as (app, pilot):
        await pilot.press("enter")
        await shows(pilot, "ticket", "A001")
        await choose(pilot, "a", "the service choice")
        choice = app.screen
        assert isinstance(choice, ChoiceScreen)
        rows = [(str(o.prompt), o.disabled) for o in choice.options]
        capil = rows.index(("Disdukcapil", True))
        assert rows[capil + 1][0].endswith("B — KTP-el") and rows[capil + 2][0].endswith("D — Akta")
        assert all(not disabled for _, disabled in rows[capil + 1:capil + 3])
        headings = [prompt for prompt, disabled in rows if disabled]
        assert len(headings) == len(set(headings))  # one heading per agency
        app.save_screenshot("counter-terminal-transfer-110x32.svg", str(SCREENSHOTS))
        number = [value for value, _ in choice.choices].index("D") + 1
        assert rows[capil + 2][0] == f"{number}. D — Akta"
        await pilot.press(str(number))
        await shows(pilot, "log", "A001 dialihkan ke layanan D")
    assert site.api.state()["waiting"]["D"] == 1


async def test_k_restores_a_skipped_ticket_to_the_front(site: Site) -> None:
    """L then K: the skipped ticket goes back to the queue and is the next one called."""
    site.api.ticket("A")
    site.api.ticket("A")
    async with running(site) as (app, pilot):
        await pilot.press("k")
        await shows(pilot, "log", t("terminal.no_skipped"))
        await pilot.press("enter")
        await shows(pilot, "ticket", "A001")
        await pilot.press("l")
        await shows(pilot, "log", "A001 dilewati")
        await choose(pilot, "k", "the skipped choice", "1")
        await shows(pilot, "log", "A001 dikembalikan ke antrian")
        await shows(pilot, "waiting", "Perpanjangan STNK: 2 orang")
        assert app.view.skipped == []
        await pilot.press("enter")
        await shows(pilot, "ticket", "A001")


async def test_a_refused_action_shows_the_servers_message(site: Site) -> None:
    """L with nobody called: the server's 409 message is shown, the app keeps running."""
    async with running(site) as (_app, pilot):
        await pilot.press("l")
        await shows(pilot, "log", "ditolak: Belum ada nomor yang dipanggil di loket ini.")
        await pilot.press("s")
        await shows(pilot, "log", t("terminal.need_ticket"))


async def test_cancel_key_closes_a_choice_without_acting(site: Site) -> None:
    """Esc in the outcome choice sends nothing: the ticket is still being served."""
    site.api.ticket("A")
    async with running(site) as (app, pilot):
        await pilot.press("enter")
        await shows(pilot, "ticket", "A001")
        await choose(pilot, "s", "the outcome choice", "escape")
        await until(pilot, lambda: not isinstance(app.screen, ChoiceScreen), "the choice closed")
        assert app.pending is None
    assert site.api.counter(1)["status"] == "serving"


async def test_keypad_map_drives_the_app(site: Site, tmp_path: Path) -> None:
    """A TOML keypad map: + calls, - recalls, / asks the outcome, 1 picks it, 0 cancels."""
    keypad = tmp_path / "keypad.toml"
    keypad.write_text('[keys]\n"+" = "call_next"\n"-" = "recall"\n"*" = "skip"\n'
                      '"/" = "done"\n"0" = "cancel"\n')
    site.api.ticket("B")
    site.api.ticket("B")
    async with running(site, counter=2, keymap=keypad) as (app, pilot):
        assert "+" in app.text("keys")
        await pilot.press("plus")
        await shows(pilot, "ticket", "B001")
        await pilot.press("minus")
        await shows(pilot, "log", "Memanggil ulang B001 (ke-2)")
        # a keypad key that means nothing in the choice is ignored, then 1 picks
        await choose(pilot, "slash", "the outcome choice", "plus", "1")
        outcome = t("terminal.outcome.completed")
        await shows(pilot, "log", t("terminal.done", code="B001", outcome=outcome))
        await pilot.press("plus")
        await shows(pilot, "ticket", "B002")
        await pilot.press("asterisk")
        await shows(pilot, "log", "B002 dilewati")
    assert site.api.state()["waiting"]["B"] == 0


async def test_a_double_press_of_panggil_calls_one_visitor(site: Site) -> None:
    """A second Panggil right after a call is taken for a double press and ignored."""
    site.api.ticket("A")
    site.api.ticket("A")
    async with running(site, call_guard=3600) as (app, pilot):
        await pilot.press("enter")
        await shows(pilot, "ticket", "A001")
        await pilot.press("enter")
        await shows(pilot, "log", "Panggil diabaikan: A001 baru saja dipanggil")
        assert app.text("ticket") == "A001"
    assert site.api.state()["waiting"]["A"] == 1


async def test_a_call_from_another_console_shows_live(site: Site) -> None:
    """The web console calls for this counter: the app shows it from the WebSocket."""
    site.api.ticket("A")
    async with running(site, counter=5) as (_app, pilot):
        site.api.call(5)
        await shows(pilot, "ticket", "A001")
        await shows(pilot, "status", "Melayani")


async def test_server_killed_press_restart_calls_exactly_one(site: Site,
                                                              server_factory: Any) -> None:
    """Kill the server, press Panggil: shown as pending and the link as lost; restart the
    server: the press is sent once and exactly one visitor is called."""
    site.api.ticket("A")
    site.api.ticket("A")
    async with running(site) as (app, pilot):
        await press_while_down(site, pilot)
        await pilot.press("enter", "u")  # more presses meanwhile are refused, not queued
        await shows(pilot, "log", "Panggil sedang dikirim; tekanan kedua diabaikan.")
        await shows(pilot, "log", "Tunggu: Panggil belum terkirim")
        site.server = await asyncio.to_thread(server_factory, port=site.server.port)
        await shows(pilot, "ticket", "A001")
        await until(pilot, lambda: app.pending is None, "the pending press cleared")
        await shows(pilot, "link", t("terminal.link_up"))
    state = site.api.state()
    assert state["waiting"]["A"] == 1
    assert [r["ticket"] for r in state["recent"]] == ["A001"]


async def test_live_updates_while_the_app_closes_do_not_crash_it(site: Site) -> None:
    """The link or an event may change while the app closes and removes its widgets one by
    one: drawing then is skipped, not a NoMatches '#title' (the race behind a flaky test)."""
    errors: list[Exception] = []

    async def keep_updating(app: CounterApp) -> None:
        while True:
            try:
                app._on_live_link(True)  # what the follower calls
            except Exception as exc:  # any error fails the test below
                errors.append(exc)
                return
            await asyncio.sleep(0)

    async with running(site) as (app, _pilot):
        updating = asyncio.create_task(keep_updating(app))
    updating.cancel()
    assert errors == []


async def test_a_pending_press_can_be_cancelled(site: Site, server_factory: Any) -> None:
    """Esc cancels the pending Panggil: after the restart it is never sent; the next Panggil
    then calls A001 (not A002)."""
    site.api.ticket("A")
    site.api.ticket("A")
    async with running(site) as (app, pilot):
        await press_while_down(site, pilot)
        await pilot.press("escape")
        await shows(pilot, "log", "Panggil dibatalkan")
        assert app.text("pending") == ""
        site.server = await asyncio.to_thread(server_factory, port=site.server.port)
        await shows(pilot, "link", t("terminal.link_up"))
        assert site.api.state()["waiting"]["A"] == 2
        await pilot.press("enter")
        await shows(pilot, "ticket", "A001")
    assert site.api.state()["waiting"]["A"] == 1


async def test_quit_with_a_pending_press_asks_twice(site: Site) -> None:
    """Q with a press pending warns first; Q again quits."""
    async with running(site) as (app, pilot):
        await press_while_down(site, pilot)
        await pilot.press("q")
        await shows(pilot, "log", "Tekan Q sekali lagi")
        assert app.is_running
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "the app quit")


class ChoiceHost(App[None]):
    """A bare app that shows one ChoiceScreen and keeps what was chosen."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.chosen: list[str | None] = []

    def on_mount(self) -> None:
        choices = [(f"S{i}", f"Layanan {i}") for i in range(1, self.count + 1)]
        self.push_screen(ChoiceScreen("Pilih", choices, load_keymap(None)), self.chosen.append)


@pytest.mark.parametrize(("count", "keys", "chosen"), [
    (4, ["7", "3"], "S3"),             # a digit with no choice is ignored, the next picks
    (12, ["1", "2", "enter"], "S12"),  # two digits, then Enter
    (12, ["1", "5", "enter"], "S5"),   # 15 does not exist: the last digit counts
    (12, ["down", "down", "enter"], "S3"),
])
async def test_choices_by_digits_and_arrows(count: int, keys: list[str], chosen: str) -> None:
    """Keypad digits pick a choice, with up to nine at once, with more followed by Enter."""
    app = ChoiceHost(count)
    async with app.run_test() as pilot:
        await pilot.press(*keys)
        await until(pilot, lambda: app.chosen == [chosen], f"{chosen} chosen")
