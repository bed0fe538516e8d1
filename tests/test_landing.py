"""The landing page (/): it links every page the app serves and nothing it does not, every link
opens (a page, or its sign-in form), and it tells how to get the access codes."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conftest import Api, site_document
from test_pages_support import SCREENSHOTS, Live, admin_sign_in, screenshot

from display_screens.landing import PAGES, route_paths
from display_server.config import parse_config

LOGIN_FORM = re.compile(r'<form[^>]+method="post"[^>]*>.*?<input[^>]+name="(?:token|pin)"', re.S)


def hrefs(html: str) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]+)"', html)


def test_links_every_page_the_app_serves_and_each_opens(web: Api) -> None:
    page = web.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    links = [link.replace("&amp;", "&") for link in hrefs(page.text)]
    paths = {urlsplit(link).path for link in links}
    served = route_paths(web.client.app.routes)  # type: ignore[attr-defined]
    counters = [c.number for c in web.site.counters]
    for path, _, each in PAGES:
        wanted = ({path.replace("{n}", str(n)) for n in counters} if each else {path})
        if path in served:
            assert wanted <= paths, path
        else:
            assert not wanted & paths, f"{path} is linked but the app has no such page"
    assert {"/display", "/kiosk", "/admin", *(f"/counter/{n}" for n in counters)} <= paths
    for link in links:  # a visitor's browser: pages, or their sign-in form
        answer = web.client.get(link)
        office_page = link.startswith("/admin/")  # behind the sign-in of /admin
        assert (answer.status_code == 200 or LOGIN_FORM.search(answer.text)
                or (office_page and answer.status_code == 401)), (link, answer.status_code)


def test_explains_the_access_codes_in_indonesian(web: Api) -> None:
    text = web.client.get("/").text
    assert "antrian token --counter 1" in text
    assert "antrian token --admin" in text
    assert "Kode akses" in text and "--data-dir" in text
    assert "/t/" in text  # where a visitor's status link comes from
    assert "antrian officer add --id siti" in text  # officer accounts exist on this app
    # the terminal client signs the officer in by PIN, on this server
    assert "antrian counter --counter 1 --server http://testserver --officer siti" in text
    assert "<html lang=\"id\">" in text


def test_landing_page_in_chromium(live: Live, make_page: Any) -> None:
    """At 1920x1080 and on a phone: nothing wider than the window (screenshots for review);
    the office, signed in on /admin, opens each office page the landing page links."""
    for width, height, name in ((1920, 1080, "landing-1920x1080"), (390, 844, "landing-phone")):
        page = make_page(width, height)
        page.goto(live.url + "/")
        page.wait_for_selector(".home-list a")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, name)
    page.screenshot(path=str(SCREENSHOTS / "landing-phone-full.png"), full_page=True)
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    page.click("a.home-main:has-text(\"Mesin antrian\")")
    page.wait_for_url("**/kiosk")
    admin_sign_in(page, live)
    for link in links:
        if link.startswith("/admin"):
            answer = page.goto(live.url + link)
            assert answer is not None and answer.status == 200, link
            assert page.locator("input[name=token]").count() == 0, link


def test_links_each_screen_profile(redis_url: str, tmp_path: Path) -> None:
    """A site with [[screens]]: the TV's section links each profile by its name, and each
    opens that zone's TV."""
    from starlette.testclient import TestClient

    from antrian.main import build_app

    doc = site_document(f"landing-{uuid.uuid4().hex[:6]}")
    doc["screens"] = [{"id": "samsat", "name": "TV Samsat", "services": ["A"]},
                      {"id": "capil", "name": "TV Disdukcapil", "services": ["B", "D"]}]
    with TestClient(build_app(parse_config(doc), redis_url, tmp_path)) as client:
        page = client.get("/").text
        for profile, name in (("samsat", "TV Samsat"), ("capil", "TV Disdukcapil")):
            assert f'href="/display?profile={profile}" title="{name}">{name}</a>' in page
            assert client.get(f"/display?profile={profile}").status_code == 200
