"""The pages people look at: lobby TV, kiosk, officer console and ticket status (the office's
/admin is display_screens.dashboard), plus their static files. `routes` is what the app
assembly mounts (antrian.main)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from display_screens import console_auth, kiosk, notices
from display_screens.script_texts import script_texts
from display_server import api, officers, survey_questions
from display_server.bodies import DIGITS
from display_server.clock import local_now
from display_server.errors import ApiError
from protocol import officer_keys
from texts import long_date, number, pause_reasons, t

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@cache
def asset(name: str) -> str:
    """The URL of a static file, versioned by its content so a TV never runs stale code."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


@cache
def version() -> str:
    """One hash of every template and static file: a TV whose page is older reloads itself."""
    digest = hashlib.sha256()
    for path in sorted([*STATIC.iterdir(), *(HERE / "templates").iterdir()]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


async def version_json(request: Request) -> Response:
    """GET /display/version: what a running TV compares with the version it was loaded with."""
    return JSONResponse({"version": version()}, headers={"Cache-Control": "no-store"})


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(asset=asset, t=t, pause_reasons=pause_reasons)
templates.env.filters["number"] = number


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    c = api.ctx(request)
    now = local_now(c.clock, c.site.tz)
    base = {"site_name": c.site.name, "phrases": script_texts(),
            "today": long_date(now.date())}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status,
                                      headers=SECURITY_HEADERS)


def error_page(request: Request, exc: ApiError) -> Response:
    return render(request, "error.html", {"message": exc.message}, status=exc.status)


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name, "")
    return min(hi, max(lo, int(raw))) if DIGITS.fullmatch(raw) else default


async def display(request: Request) -> Response:
    """GET /display[?services=A,B|?profile=id]: the lobby TV. Tuning: screen=<id> (named in the
    played reports), mute=1, retry_max=<ms> reconnect backoff cap, watchdog=<ms> of silence that
    means a dead link. Its signage comes from /display/papan (display_screens.notices)."""
    c = api.ctx(request)
    try:
        api.screen_filter(c.site, request.query_params)
    except ApiError:
        return render(request, "error.html", {"message": t("page.error.bad_filter")}, status=400)
    params = request.query_params
    query = {k: params[k] for k in ("services", "profile") if k in params}
    profile = c.site.screen(params["profile"]) if "profile" in params else None
    screen = params.get("screen", "")
    config = {
        "query": query,
        "screen": screen if api.SCREEN_ID.fullmatch(screen) else "",
        "mute": params.get("mute") == "1",
        "retry_max_ms": _int_param(request, "retry_max", 15000, 500, 120000),
        "watchdog_ms": _int_param(request, "watchdog", 25000, 2000, 120000),
        "version": version(),
        "max_age_s": int(c.site.announcement.max_age_seconds),
        "merge_max": c.site.announcement.merge_max,
        "signage": notices.signage_view(request),
    }
    return render(request, "display.html", {
        "config": config, "screen_name": profile.name if profile else "",
        "logo": c.site.signage.logo is not None,
    })


async def kiosk_page(request: Request) -> Response:
    """GET /kiosk[?paper=58][&idle=ms]: the ticket machine (its data: kiosk.page_data)."""
    return render(request, "kiosk.html", kiosk.page_data(request))


async def counter_page(request: Request) -> Response:
    """GET /counter/{n}: the officer console, or its sign-in form."""
    try:
        number = api.path_counter(request)
    except ApiError as exc:  # the number as typed, in a sentence: "Loket 99 tidak ada ..."
        typed = request.path_params["n"][:12]
        return render(request, "error.html", {"message": t("page.error.no_counter", counter=typed)},
                      status=exc.status)
    c = api.ctx(request)
    counter = c.site.counter(number)
    assert counter is not None
    signed_in = await console_auth.session(request, number)
    if signed_in is None:
        return await counter_sign_in_page(request, number, counter.name)
    names = {s.code: s.name for s in c.site.services}
    officer = await officers.get(c.store, signed_in.officer) if signed_in.officer else None
    return render(request, "console.html", {
        "counter": counter,
        "officer": officer,
        "csrf": signed_in.csrf,
        "config": {
            "counter": number,
            "services": list(counter.services),
            "names": names,
            "csrf": signed_in.csrf,
            "keys": officer_keys.default_keys(terminal=False),
        },
        "officer_keys": [{"action": k.action, "shortcut": officer_keys.keys_text(k.keys, t),
                          "name": t(k.label), "button": WIRE_ACTIONS.get(k.action, k.action)}
                         for k in officer_keys.layout(terminal=False)],
        "transfer_groups": [{"name": tenant.name, "services": [
            {"code": s.code, "name": s.name} for s in c.site.services if s.tenant == tenant.id]}
            for tenant in c.site.tenants if any(s.tenant == tenant.id for s in c.site.services)],
    })


# the console's buttons are named by the wire's action (POST /counter/{n}/actions/call-next)
WIRE_ACTIONS = {"call_next": "call-next"}


async def counter_sign_in_page(request: Request, number: int, name: str) -> Response:
    """A console's sign-in: an officer's id and PIN when the site has officer accounts, and
    the counter's token (kode akses) for devices and integrations."""
    has_officers = bool(await officers.count(api.ctx(request).store))
    return sign_in_page(request, {
        "title": t("console.title"), "heading": name,
        "action": f"/counter/{number}/login", "intro": t("console.login_intro"),
        "label": t("console.token"), "bad_token": t("console.bad_token"),
        "pin_action": f"/counter/{number}/login/pin" if has_officers else "",
        "last_officer": console_auth.remembered_officer(request),
        "officer_error": console_auth.sign_in_error(request, name) or ""})


async def counter_home(request: Request) -> Response:
    """GET /counter: the sign-in of the counter this device used last (it remembers), else the
    list of the site's counters to choose from."""
    remembered = console_auth.remembered_counter(request)
    if remembered is not None:
        return RedirectResponse(f"/counter/{remembered}", status_code=303)
    return render(request, "counter_choose.html", {"counters": api.ctx(request).site.counters})


def sign_in_page(request: Request, words: dict[str, str]) -> Response:
    """The token sign-in form (console or /admin), with its CSRF double-submit cookie."""
    nonce = console_auth.login_nonce(request)
    reason = request.query_params.get("salah", "")
    error = words.get("officer_error") or {
        "token": words["bad_token"], "csrf": t("page.error.generic")}.get(reason)
    response = render(request, "login.html", {**words, "csrf": nonce, "error": error,
                                              "token_open": reason == "token"})
    console_auth.remember_login_nonce(request, response, nonce)
    return response


async def ticket_page(request: Request) -> Response:
    """GET /t/{day}/{code}/{key} (a ticket's status_url): a visitor's live ticket status,
    opened from the QR code; any other link is the page of an unknown ticket (404)."""
    try:
        ticket = await kiosk.ticket_view(request)
    except ApiError as exc:
        return error_page(request, exc)
    return render(request, "status.html", {"ticket": ticket, "config": {"ticket": ticket},
                                           "survey": survey_questions.questions()})


routes: list[BaseRoute] = [
    Route("/display", display),
    Route("/display/version", version_json),
    *notices.routes,
    Route("/kiosk", kiosk_page),
    Route("/kiosk/tickets", kiosk.issue, methods=["POST"]),
    Route("/kiosk/logo/{tenant}", kiosk.logo),
    Route("/kiosk/tickets/{day}/{code}/{key}/print", kiosk.reprint, methods=["POST"]),
    Route("/counter", counter_home),
    Route("/counter/{n}", counter_page),
    Route("/counter/{n}/login", console_auth.login, methods=["POST"]),
    Route("/counter/{n}/login/pin", console_auth.officer_login, methods=["POST"]),
    Route("/counter/{n}/logout", console_auth.logout, methods=["POST"]),
    Route("/counter/{n}/session", console_auth.officer_session, methods=["POST"]),
    Route("/counter/{n}/session", console_auth.end_officer_session, methods=["DELETE"]),
    Route("/counter/{n}/tickets/{kind}", console_auth.tickets),
    Route("/counter/{n}/actions/{action}", console_auth.action, methods=["POST"]),
    Route("/t/{day}/{code}", ticket_page),  # no key: the 404 page of a wrong key
    Route("/t/{day}/{code}/{key}", ticket_page),
    Route("/t/{day}/{code}/{key}/status", kiosk.status),
    Route("/t/{day}/{code}/{key}/qr.svg", kiosk.qr),
    Route("/admin/login", console_auth.admin_login, methods=["POST"]),
    Route("/admin/logout", console_auth.admin_logout, methods=["POST"]),
    Route("/admin/logout-all", console_auth.admin_logout_all, methods=["POST"]),
    Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
]
