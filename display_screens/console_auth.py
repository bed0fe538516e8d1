"""Officer console and /admin sign-in: a signed HttpOnly SameSite=Strict cookie per counter that
names a server-side session (display_screens.sessions), CSRF tokens bound to it, sign-out (one
session, or every one of the site), and the proxy that turns a signed-in request into a counter
API call."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from display_screens import sessions
from display_server import api, counters, officers
from display_server.bodies import Field, body, read_json
from display_server.errors import ApiError
from display_server.ratelimit import client_key
from display_server.tokens import same
from protocol.counter_actions import ACTIONS, LISTS
from texts import number, t

LOGIN_COOKIE = "antrian_masuk"
# what a device remembers (a year): the counter it signs in at, the officer who signed in last
LAST_COUNTER_COOKIE = "antrian_loket_terakhir"
LAST_OFFICER_COOKIE = "antrian_petugas_terakhir"
REMEMBER_SECONDS = 365 * 86_400


ADMIN = "admin"
RATING = "rating-"  # + counter number: the scope of a counter's survey tablet (/rating/{n})


def rating_scope(counter: int) -> str:
    """The session scope of counter `counter`'s survey tablet (signed in with its token)."""
    return f"{RATING}{counter}"


@dataclass(frozen=True)
class Session:
    counter: int | str  # the counter number, or ADMIN
    session_id: str
    csrf: str
    officer: str = ""   # the officer id of a PIN sign-in ("" for a token)
    bearer: bool = False  # carried in an Authorization header (the terminal client), no cookie


def _key(request: Request) -> bytes:
    """The signing key, derived from the site secret (same in every worker process)."""
    return api.ctx(request).tokens.signing_key("console-session")


def _sign(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:40]


def cookie_name(scope: int | str) -> str:
    """The session cookie of a counter's console, or of the office's /admin."""
    if isinstance(scope, str) and scope.startswith(RATING):
        return f"antrian_penilaian_{scope.removeprefix(RATING)}"
    return "antrian_admin" if scope == ADMIN else f"antrian_loket_{scope}"


def _home(scope: int | str) -> str:
    if isinstance(scope, str) and scope.startswith(RATING):
        return f"/rating/{scope.removeprefix(RATING)}"
    return "/admin" if scope == ADMIN else f"/counter/{scope}"


def _presented(request: Request, scope: int | str) -> tuple[str, bool]:
    """The signed session value a request carries, and whether it came as `Authorization:
    Bearer` (a counter's session only: the terminal client's PIN sign-in) instead of the
    cookie. A browser never adds that header by itself, so such a request needs no CSRF
    token."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if isinstance(scope, int) and scheme.lower() == "bearer" and value.strip():
        return value.strip(), True
    return request.cookies.get(cookie_name(scope), ""), False


async def session(request: Request, scope: int | str) -> Session | None:
    """The live session of a counter (or of ADMIN) whose cookie (or, for a counter, bearer
    header) the request carries: signed by this site, and its record still in Redis (not
    signed out, not expired)."""
    value, bearer = _presented(request, scope)
    owner, _, rest = value.partition(".")
    session_id, _, signature = rest.partition(".")
    key = _key(request)
    if owner != str(scope) or not same(signature, _sign(key, f"{owner}.{session_id}")):
        return None
    store = api.ctx(request).store
    officer = await sessions.lookup(store, session_id, owner)
    if officer is None or (officer and not await officers.is_active(store, officer)):
        return None  # signed out, expired, or its officer disabled since
    return Session(scope, session_id, _sign(key, f"csrf.{session_id}"), officer, bearer)


def _same_origin(request: Request) -> bool:
    """Browsers say where a request comes from; refuse anything another site started."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin.split("://", 1)[-1] == request.headers.get("host")


async def require(request: Request, counter: int | str, csrf: str | None) -> Session:
    """The session, after the CSRF checks for a state-changing request (401 / 403)."""
    found = await session(request, counter)
    if found is None:
        raise ApiError("unauthorized")
    if csrf is not None and not found.bearer and (
            not _same_origin(request) or not same(csrf, found.csrf)):
        raise ApiError("forbidden", "CSRF")
    return found


def login_nonce(request: Request) -> str:
    """The double-submit token of the sign-in form (kept in a short-lived cookie)."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_hex(16)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def remember_login_nonce(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict",
                        secure=_secure(request), path="/")


async def login(request: Request) -> Response:
    """POST /counter/{n}/login (form: token, csrf): sets the session cookie, back to the page."""
    counter = api.path_counter(request)
    return await _login(request, counter, lambda token: api.ctx(request).tokens.owner(token)
                        == counter)


async def rating_login(request: Request) -> Response:
    """POST /rating/{n}/login (form: token, csrf): the survey tablet's session, with the
    counter's token (its own cookie, on /rating/{n} only)."""
    counter = api.path_counter(request)
    return await _login(request, rating_scope(counter),
                        lambda token: api.ctx(request).tokens.owner(token) == counter)


async def admin_login(request: Request) -> Response:
    """POST /admin/login (form: token, csrf): the office's session, with the admin token."""
    tokens = api.ctx(request).tokens
    return await _login(request, ADMIN, lambda token: same(token, tokens.admin_token()))


async def _login(request: Request, scope: int | str, valid: Any) -> Response:
    form = await request.form(max_files=0, max_fields=4)
    token = str(form.get("token", "")).strip()
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    target = _home(scope)
    if (not nonce or not same(str(form.get("csrf", "")), nonce)
            or not _same_origin(request)):
        return RedirectResponse(target + "?salah=csrf", status_code=303)
    if len(token) > 200 or not valid(token):
        return RedirectResponse(target + "?salah=token", status_code=303)
    return await _start_session(request, scope)


async def _start_session(request: Request, scope: int | str, officer: str = "") -> Response:
    """The session cookie of a sign-in, back to the page; a console's device remembers its
    counter (and the officer who signed in) for `/counter` and the next sign-in."""
    target = _home(scope)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(cookie_name(scope), await _new_session(request, scope, officer),
                        max_age=sessions.SESSION_SECONDS, httponly=True, samesite="strict",
                        secure=_secure(request), path=target)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    if isinstance(scope, int):
        response.set_cookie(LAST_COUNTER_COOKIE, str(scope), max_age=REMEMBER_SECONDS,
                            httponly=True, samesite="strict", secure=_secure(request),
                            path="/counter")
        if officer:
            response.set_cookie(LAST_OFFICER_COOKIE, officer, max_age=REMEMBER_SECONDS,
                                httponly=True, samesite="strict", secure=_secure(request),
                                path=target)
    return response


async def _new_session(request: Request, scope: int | str, officer: str = "") -> str:
    """A new session's signed value: the cookie, or the terminal client's bearer value."""
    value = f"{scope}.{await sessions.create(api.ctx(request).store, str(scope), officer)}"
    return f"{value}.{_sign(_key(request), value)}"


async def officer_login(request: Request) -> Response:
    """POST /counter/{n}/login/pin (form: officer, pin, csrf): an officer's PIN sign-in at
    counter n. Wrong PINs count per officer id and per client; at ANTRIAN_PIN_ATTEMPTS both
    are locked for ANTRIAN_PIN_LOCK_SECONDS, the right PIN too. The session records the
    officer, and every action from it names them."""
    counter = api.path_counter(request)
    target = _home(counter)
    form = await request.form(max_files=0, max_fields=4)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if (not nonce or not same(str(form.get("csrf", "")), nonce)
            or not _same_origin(request)):
        return RedirectResponse(target + "?salah=csrf", status_code=303)
    c = api.ctx(request)
    client = client_key(request.client.host if request.client else "")
    result = await officers.sign_in(
        c.store, str(form.get("officer", "")), str(form.get("pin", "")), counter, client,
        attempts=c.settings.pin_attempts, lock_seconds=c.settings.pin_lock_s)
    if result.outcome == "ok" and result.officer is not None:
        return await _start_session(request, counter, result.officer.id)
    typed = str(form.get("officer", "")).strip().lower()
    again = f"&petugas={typed}" if officers.OFFICER_ID.fullmatch(typed) else ""
    return RedirectResponse(f"{target}?{_refusal_query(result)}{again}", status_code=303)


def _refusal_query(result: officers.SignIn) -> str:
    """The query (`salah=...`) that says why a PIN sign-in was refused: the console's redirect
    carries it, and the terminal's answer is worded from it (_sign_in_message)."""
    return {"wrong": f"salah=pin&sisa={result.remaining}",
            "locked": f"salah=kunci&detik={result.seconds}",
            "disabled": "salah=nonaktif", "not_allowed": "salah=bukan_loket"}[result.outcome]


SIGN_IN_BODY = {"officer": Field(str, required=True, max_length=40),
                "pin": Field(str, required=True, max_length=16)}


async def officer_session(request: Request) -> Response:
    """POST /counter/{n}/session (JSON `{"officer","pin"}`): the terminal client's PIN sign-in
    at counter n, with the console's rules and lock (the same counts per officer id and per
    client). 200 `{"session","officer":{"id","name"},"counter","expires_in"}`: `session` goes
    in `Authorization: Bearer` for the console's routes (`/counter/{n}/actions/…`,
    `/counter/{n}/tickets/…`, DELETE here to sign out), so each action names the officer.
    401 `wrong_pin`, 429 `pin_locked` (with Retry-After), 403 `officer_disabled` and
    `officer_not_allowed`, each message in Indonesian as the console says it."""
    counter = api.path_counter(request)
    data = await body(request, SIGN_IN_BODY)
    c = api.ctx(request)
    client = client_key(request.client.host if request.client else "")
    result = await officers.sign_in(
        c.store, data["officer"], data["pin"], counter, client,
        attempts=c.settings.pin_attempts, lock_seconds=c.settings.pin_lock_s)
    if result.outcome == "ok" and result.officer is not None:
        return JSONResponse({
            "session": await _new_session(request, counter, result.officer.id),
            "officer": {"id": result.officer.id, "name": result.officer.name},
            "counter": counter, "expires_in": sessions.SESSION_SECONDS})
    code = {"wrong": "wrong_pin", "locked": "pin_locked", "disabled": "officer_disabled",
            "not_allowed": "officer_not_allowed"}[result.outcome]
    error = ApiError(code)
    place = c.site.counter(counter)
    said = _sign_in_message(_refusal_query(result), place.name if place else str(counter))
    body_ = {"error": {"code": error.code, "message": said or error.message}}
    headers = {"Retry-After": str(result.seconds)} if result.outcome == "locked" else None
    return JSONResponse(body_, status_code=error.status, headers=headers)


async def end_officer_session(request: Request) -> Response:
    """DELETE /counter/{n}/session (the session as bearer, or cookie): sign this session out.
    With the cookie it is CSRF-checked like a console action (`X-CSRF-Token`, same origin)."""
    signed_in = await require(request, api.path_counter(request),
                              request.headers.get("x-csrf-token", ""))
    await sessions.end(api.ctx(request).store, signed_in.session_id)
    return JSONResponse({"signed_out": True})


def sign_in_error(request: Request, counter_name: str) -> str | None:
    """The message of a failed console sign-in, from the query the redirect carried."""
    return _sign_in_message(str(request.query_params), counter_name)


def _sign_in_message(query: str, counter_name: str) -> str | None:
    """The message of a failed sign-in whose query string (`salah=...`) says why."""
    params = QueryParams(query)
    reason = params.get("salah", "")
    if reason == "pin":
        left = params.get("sisa", "")
        return t("officer.login.wrong", left=number(int(left))) if left.isdigit() and len(
            left) < 4 else t("officer.login.wrong_short")
    if reason == "kunci":
        raw = params.get("detik", "")
        seconds = int(raw) if raw.isdigit() and len(raw) < 7 else 300
        wait = (t("officer.login.minutes", n=number(-(-seconds // 60))) if seconds >= 60
                else t("officer.login.seconds", n=number(seconds)))
        return t("officer.login.locked", wait=wait)
    if reason == "nonaktif":
        return t("officer.login.disabled")
    if reason == "bukan_loket":
        return t("officer.login.not_allowed", counter=counter_name)
    return None


def remembered_counter(request: Request) -> int | None:
    """The counter this device signed in at last (its long-lived cookie), if the site has it."""
    raw = request.cookies.get(LAST_COUNTER_COOKIE, "")
    if not raw.isdigit() or len(raw) > 4 or api.ctx(request).site.counter(int(raw)) is None:
        return None
    return int(raw)


def remembered_officer(request: Request) -> str:
    """The officer id the form starts with: the one just tried, else the device's last."""
    for raw in (request.query_params.get("petugas", ""),
                request.cookies.get(LAST_OFFICER_COOKIE, "")):
        if officers.OFFICER_ID.fullmatch(raw):
            return raw
    return ""


async def logout(request: Request) -> Response:
    """POST /counter/{n}/logout (form: csrf)."""
    return await _logout(request, api.path_counter(request))


async def admin_logout(request: Request) -> Response:
    """POST /admin/logout (form: csrf)."""
    return await _logout(request, ADMIN)


async def admin_logout_all(request: Request) -> Response:
    """POST /admin/logout-all (form: csrf): ends every console and /admin session of the site,
    this one too (a lost or copied cookie, an officer who left signed in)."""
    return await _logout(request, ADMIN, everywhere=True)


async def _logout(request: Request, scope: int | str, everywhere: bool = False) -> Response:
    form = await request.form(max_files=0, max_fields=2)
    signed_in = await require(request, scope, str(form.get("csrf", "")))
    store = api.ctx(request).store
    await (sessions.end_all(store) if everywhere else sessions.end(store, signed_in.session_id))
    response = RedirectResponse(_home(scope), status_code=303)
    response.delete_cookie(cookie_name(scope), path=_home(scope))
    return response


async def action(request: Request) -> Response:
    """POST /counter/{n}/actions/{action}: a console button, CSRF-checked, run by the counters
    service as the API runs it."""
    counter = api.path_counter(request)
    name = request.path_params["action"]
    if name not in ACTIONS:
        raise ApiError("not_found")
    signed_in = await require(request, counter, request.headers.get("x-csrf-token", ""))
    data = await read_json(request)
    return JSONResponse(await counters.perform(api.ctx(request).store, counter, name, data,
                                               officer=signed_in.officer))


async def tickets(request: Request) -> Response:
    """GET /counter/{n}/tickets/{kind}: the counter's `waiting` or `skipped` (restorable)
    tickets."""
    counter = api.path_counter(request)
    kind = request.path_params["kind"]
    if kind not in LISTS:
        raise ApiError("not_found")
    await require(request, counter, None)
    return JSONResponse(await counters.list_tickets(api.ctx(request).store, counter, kind))
