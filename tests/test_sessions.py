"""Console and /admin sessions live in Redis: signing out ends the session for every copy of its
cookie, the office's "sign out everywhere" ends all of them, and CSRF values of any characters
are refused with a 4xx."""

from __future__ import annotations

import re

import redis
from conftest import Api, token

from display_server.keys import SiteKeys
from display_server.tokens import admin_token, load_secret

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
CONSOLE_CSRF = re.compile(r'"csrf": ?"([0-9a-f]+)"')


def sign_in(web: Api, scope: int | str) -> tuple[str, str]:
    """Sign in a fresh browser (counter N or "admin"): its session cookie and CSRF token."""
    home = "/admin" if scope == "admin" else f"/counter/{scope}"
    secret = load_secret(web.data_dir, web.site.secret)
    presented = (admin_token(secret, web.site.id) if scope == "admin"
                 else token(web.data_dir, web.site, int(scope)))
    browser = web.client  # its cookie jar is emptied after: each sign-in is a new browser
    form = CSRF_FIELD.search(browser.get(home).text)
    assert form is not None
    r = browser.post(f"{home}/login", data={"token": presented, "csrf": form[1]},
                     follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == home
    cookie_name = "antrian_admin" if scope == "admin" else f"antrian_loket_{scope}"
    cookie = f"{cookie_name}={browser.cookies[cookie_name]}"
    page = browser.get(home).text
    browser.cookies.clear()
    found = (CSRF_FIELD if scope == "admin" else CONSOLE_CSRF).search(page)
    assert found is not None, page[:500]
    return cookie, found[1]


def waiting(web: Api, counter: int, cookie: str) -> int:
    """What the console's waiting list answers to a request that carries `cookie`."""
    r = web.client.get(f"/counter/{counter}/tickets/waiting", headers={"Cookie": cookie})
    return int(r.status_code)


def test_sign_out_ends_the_session_for_a_copied_cookie(web: Api, redis_url: str) -> None:
    """The session is a Redis record with the session's lifetime; after sign-out the same cookie
    (copied before) opens neither the console, its lists, nor its buttons."""
    web.issue("A")
    cookie, csrf = sign_in(web, 1)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    records = list(client.scan_iter(match=SiteKeys(web.site.id)("session", "*")))
    assert len(records) == 1 and 11 * 3600 < client.ttl(records[0]) <= 12 * 3600
    assert waiting(web, 1, cookie) == 200
    assert "Panggil" in web.client.get("/counter/1", headers={"Cookie": cookie}).text
    out = web.client.post("/counter/1/logout", data={"csrf": csrf}, headers={"Cookie": cookie},
                          follow_redirects=False)
    assert out.status_code == 303
    assert client.exists(records[0]) == 0
    assert waiting(web, 1, cookie) == 401
    press = web.client.post("/counter/1/actions/call-next", json={},
                            headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert press.status_code == 401
    assert 'id="token"' in web.client.get("/counter/1", headers={"Cookie": cookie}).text
    assert web.client.get("/api/state").json()["waiting"]["A"] == 1


def test_sign_out_everywhere_ends_every_console_and_admin_session(web: Api) -> None:
    """The office's button ends the sessions of other counters and of other /admin browsers;
    it needs the office's session and its CSRF token; signing in again works at once."""
    one, _ = sign_in(web, 1)
    two, _ = sign_in(web, 2)
    office, office_csrf = sign_in(web, "admin")
    other_office, _ = sign_in(web, "admin")
    assert 'action="/admin/logout-all"' in web.client.get("/admin",
                                                         headers={"Cookie": office}).text
    forged = web.client.post("/admin/logout-all", data={"csrf": "0" * 40},
                             headers={"Cookie": office}, follow_redirects=False)
    by_counter = web.client.post("/admin/logout-all", data={"csrf": office_csrf},
                                 headers={"Cookie": one}, follow_redirects=False)
    assert (forged.status_code, by_counter.status_code) == (403, 401)
    assert waiting(web, 1, one) == 200 and waiting(web, 2, two) == 200
    ended = web.client.post("/admin/logout-all", data={"csrf": office_csrf},
                            headers={"Cookie": office}, follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"] == "/admin"
    assert waiting(web, 1, one) == 401 and waiting(web, 2, two) == 401
    for cookie in (office, other_office):
        assert 'id="token"' in web.client.get("/admin", headers={"Cookie": cookie}).text
    again, _ = sign_in(web, 1)
    assert waiting(web, 1, again) == 200


def test_csrf_and_cookies_of_any_characters_are_refused_not_500(web: Api) -> None:
    """Non-ASCII CSRF tokens and cookie signatures are a 4xx (or the sign-in form's error), never
    a server error, and change nothing."""
    web.issue("A")
    cookie, csrf = sign_in(web, 1)
    office, _ = sign_in(web, "admin")
    accented = "\u00e9".encode("latin-1")
    press = web.client.post("/counter/1/actions/call-next", json={},
                            headers={"Cookie": cookie, "X-CSRF-Token": accented})
    assert press.status_code == 403 and press.json()["error"]["code"] == "forbidden"
    for path, session in (("/counter/1/logout", cookie), ("/admin/logout-all", office)):
        r = web.client.post(path, data={"csrf": "\u00e9" + csrf[1:]},
                            headers={"Cookie": session}, follow_redirects=False)
        assert r.status_code == 403, path
    login = web.client.post("/counter/1/login", data={"token": "x", "csrf": "\u00e9"},
                            headers={"Cookie": "antrian_masuk=abc"}, follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"].endswith("?salah=csrf")
    forged_cookie = (cookie[:-1] + "\u00e9").encode("latin-1")
    r = web.client.get("/counter/1/tickets/waiting", headers={"Cookie": forged_cookie})
    assert r.status_code == 401
    assert waiting(web, 1, cookie) == 200
    assert web.client.get("/api/state").json()["waiting"]["A"] == 1
