"""Shared by the page tests (imported by them; no tests here): Debian's headless Chromium through
Playwright and a server process of a fresh 29-counter site (its API helpers: `live.api`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import ROOT, ServerProcess
from conftest import wait_until as until  # noqa: F401  (the page tests import it from here)
from playwright.sync_api import Browser, BrowserType, ConsoleMessage, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DAY_NAMES = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")


def launch(browser_type: BrowserType, autoplay: bool = True,
           extra: tuple[str, ...] = ()) -> Browser:
    args = CHROMIUM_ARGS if autoplay else CHROMIUM_ARGS[:-1]
    return browser_type.launch(executable_path=CHROMIUM, args=[*args, *extra])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright.chromium)
        yield browser
        browser.close()


Live = ServerProcess  # a running server of a fresh test site, with its API (`live.api`)


def close_service_today(config: Path) -> None:
    """Service C closed today: a config that opens it on Mondays (site_document's) opens it on
    a day that is not today instead. write_site already does so; kept for configs written
    otherwise."""
    today = datetime.now(ZoneInfo("Asia/Jakarta")).weekday()
    other = DAY_NAMES[(today + 3) % 7]
    config.write_text(config.read_text().replace('days = ["senin"]', f'days = ["{other}"]'))


@pytest.fixture
def live(server_factory: Any) -> Iterator[Live]:
    close_service_today(server_factory.config)
    yield server_factory()


@pytest.fixture
def make_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """New 1920x1080 pages; any uncaught script error fails the test."""
    contexts = []
    errors: list[str] = []

    def make(width: int = 1920, height: int = 1080) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        def console(message: ConsoleMessage) -> None:
            network = ("Failed to load resource", "WebSocket connection to")
            if message.type == "error" and not message.text.startswith(network):
                errors.append(message.text)

        page.on("console", console)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors


def admin_sign_in(page: Page, live: Live) -> None:
    """Open /admin and sign in with the office's token."""
    page.goto(f"{live.url}/admin")
    page.fill("#token", live.api.admin_token())
    page.click("button[type=submit]")
    page.wait_for_selector("#counts")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def wait_text(page: Page, selector: str, text: str, timeout: float = 5.0) -> None:
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel)?.textContent.includes(text)",
        arg=[selector, text], timeout=timeout * 1000)


def text(page: Page, selector: str) -> str:
    return str(page.eval_on_selector(selector, "n => n.textContent"))
