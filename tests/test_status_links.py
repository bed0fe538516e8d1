"""A ticket's status link carries a key only the server can make: the ticket code alone, or any
guessed key, opens nothing (the same 404 as a ticket that does not exist), guessing changes
nothing in Redis, and what the link shows leaves out the visitor's priority category."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx
from conftest import Api, site_keys
from starlette.testclient import TestClient

from antrian.main import build_app
from display_screens import kiosk
from display_server.config import SiteConfig
from display_server.settings import Settings
from display_server.tokens import load_secret, ticket_key

DAY = "2026-11-25"
LINK = re.compile(r"/t/2026-11-25/(A00[0-9])/([0-9a-f]{24})")
PHRASES = re.compile(r'<script type="application/json" id="phrases">.*?</script>', re.S)


def views(client: TestClient, link: str) -> dict[str, httpx.Response]:
    """Everything a status link opens: the page, its JSON, its QR code, and the API's JSON."""
    return {
        "page": client.get(link),
        "status": client.get(f"{link}/status"),
        "qr": client.get(f"{link}/qr.svg"),
        "api": client.get("/api/tickets/" + link.removeprefix("/t/")),
    }


def test_the_right_link_opens_the_ticket_without_its_priority_category(web: Api) -> None:
    """POST /api/tickets gives a relative status_url with a 96-bit key; the page, its JSON, the
    QR code and the API answer it, and none of them says "lansia"."""
    web.issue("A")
    ticket = web.issue("A", priority="lansia").json()
    match = LINK.fullmatch(ticket["status_url"])
    assert match is not None and match[1] == "A002"
    opened = views(web.client, ticket["status_url"])
    assert {name: r.status_code for name, r in opened.items()} == dict.fromkeys(opened, 200)
    assert opened["status"].json()["ahead"] == 0  # priority still goes first
    assert "A002" in opened["page"].text and "Perpanjangan STNK" in opened["page"].text
    assert opened["qr"].headers["content-type"].startswith("image/svg+xml")
    page = PHRASES.sub("", opened["page"].text)  # the site's texts, the same on every page
    for text in (page, opened["status"].text, opened["api"].text):
        assert "lansia" not in text.lower()
    assert "priority" not in opened["status"].json() and "priority" not in opened["api"].json()


def test_the_code_alone_or_a_wrong_key_is_the_404_of_an_unknown_ticket(web: Api,
                                                                        tmp_path: Path) -> None:
    """The bare /t/{day}/{code}, a key changed in one digit, another ticket's key, a non-ASCII
    key: page, JSON, QR and API all answer exactly as for a ticket that was never issued."""
    first = web.issue("A").json()["status_url"]
    second = web.issue("A").json()["status_url"]
    key = first.rsplit("/", 1)[1]
    flipped = key[:-1] + ("0" if key[-1] != "0" else "1")
    unknown_key = ticket_key(load_secret(tmp_path), web.site.id, DAY, "A009")
    unknown = views(web.client, f"/t/{DAY}/A009/{unknown_key}")
    assert {r.status_code for r in unknown.values()} == {404}
    bare = views(web.client, f"/t/{DAY}/A001")
    assert {r.status_code for r in bare.values()} == {404}
    assert bare["page"].text == unknown["page"].text
    assert bare["api"].json() == unknown["api"].json()
    wrong_links = [
        f"/t/{DAY}/A001/{flipped}",
        f"/t/{DAY}/A001/{second.rsplit('/', 1)[1]}",
        f"/t/{DAY}/A001/{key.upper()}",
        f"/t/{DAY}/A001/{key}0",
        f"/t/{DAY}/A001/%C3%A9{key[1:]}",
        f"/t/2026-11-26/A001/{key}",
    ]
    for link in wrong_links:
        for name, r in views(web.client, link).items():
            assert r.status_code == 404, (link, name)
            assert r.content == unknown[name].content, (link, name)
    assert web.client.get(first).status_code == 200  # the right one still works


def test_a_thousand_guessed_links_all_404_and_change_nothing(web: Api, redis_url: str) -> None:
    """An enumeration of every code of the day with random keys learns nothing and leaves every
    Redis key of the site as it was."""
    for _ in range(5):
        web.issue("A")
    web.issue("B", priority="lansia")
    before = site_keys(redis_url, web.site.id)
    answers = set()
    for n in range(1000):
        code = f"{'AB'[n % 2]}{n % 500 + 1:03d}"
        link = f"/t/{DAY}/{code}/{secrets.token_hex(12)}"
        path = (link, f"{link}/status", "/api/tickets/" + link.removeprefix("/t/"))[n % 3]
        answers.add(web.client.get(path).status_code)
    assert answers == {404}
    assert site_keys(redis_url, web.site.id) == before


def test_kiosk_answer_qr_and_print_use_the_same_link(site: SiteConfig, redis_url: str,
                                                     tmp_path: Path) -> None:
    """The kiosk's ticket: status_url is the API's link under ANTRIAN_PUBLIC_URL, its QR code
    encodes that whole link, and its reprint address is under the same key."""
    settings = Settings(public_url="https://antrian.serangkab.example")
    app = build_app(site, redis_url, tmp_path, settings=settings)
    with TestClient(app) as client:
        ticket = client.post("/kiosk/tickets", json={"service": "A"}).json()
        path = ticket["status_url"].removeprefix(settings.public_url)
        day = ticket["day"]
        assert ticket["status_url"].startswith(f"https://antrian.serangkab.example/t/{day}/A001/")
        assert re.fullmatch(rf"/t/{day}/A001/[0-9a-f]{{24}}", path)
        assert ticket["qr_url"] == f"{path}/qr.svg"
        assert ticket["print_url"] == f"/kiosk/tickets/{day}/A001/{path.rsplit('/', 1)[1]}/print"
        assert client.get(ticket["qr_url"]).content == kiosk.qr_svg(ticket["status_url"])
        assert client.get(path).status_code == 200
        assert client.post(f"/kiosk/tickets/{day}/A001/print", json={}).status_code == 404
        assert client.post(ticket["print_url"], json={}).json()["printed"] is False  # no printer
