"""The pages people look at: lobby TV, kiosk, officer console and ticket status (the office's
/admin is display_screens.dashboard), plus their static files. `routes` is what the app
assembly mounts (antrian.main)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from display_screens import console_auth, kiosk
from display_screens.script_texts import script_texts
from display_server import api, survey_questions
from display_server.bodies import DIGITS
from display_server.clock import local_now
from display_server.errors import ApiError
from display_server.state import services_view
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
    played reports), hold=<ms> a call keeps the card, mute=1, retry_max=<ms> reconnect backoff
    cap, watchdog=<ms> of silence that means a dead link."""
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
        "hold_ms": _int_param(request, "hold", 5000, 200, 60000),
        "mute": params.get("mute") == "1",
        "retry_max_ms": _int_param(request, "retry_max", 15000, 500, 120000),
        "watchdog_ms": _int_param(request, "watchdog", 25000, 2000, 120000),
        "version": version(),
        "max_age_s": int(c.site.announcement.max_age_seconds),
    }
    return render(request, "display.html", {
        "config": config, "screen_name": profile.name if profile else "",
    })


def _tenant_groups(request: Request) -> list[dict[str, Any]]:
    """The services of the site grouped by tenant, in the config's order."""
    c = api.ctx(request)
    views = services_view(c.site, c.clock, {})
    groups: list[dict[str, Any]] = []
    for tenant in c.site.tenants:
        services = [s for s in views if s["tenant"] == tenant.id]
        if services:
            groups.append({"id": tenant.id, "name": tenant.name, "services": services,
                           "open": any(s["open"] for s in services)})
    return groups


async def kiosk_page(request: Request) -> Response:
    """GET /kiosk[?paper=58]: the ticket machine."""
    c = api.ctx(request)
    paper = "58" if request.query_params.get("paper") == "58" else "80"
    return render(request, "kiosk.html", {
        "groups": _tenant_groups(request),
        "priorities": [{"id": p.id, "name": p.name} for p in c.site.priority_categories],
        "config": {"paper": paper, "print": request.query_params.get("print") != "0",
                   "server_printer": c.settings.printer is not None},
        "paper": paper,
    })


async def counter_page(request: Request) -> Response:
    """GET /counter/{n}: the officer console, or its sign-in form."""
    try:
        number = api.path_counter(request)
    except ApiError as exc:
        return error_page(request, exc)
    c = api.ctx(request)
    counter = c.site.counter(number)
    assert counter is not None
    signed_in = await console_auth.session(request, number)
    if signed_in is None:
        return sign_in_page(request, {
            "title": t("console.title"), "heading": counter.name,
            "action": f"/counter/{number}/login", "intro": t("console.login_intro"),
            "label": t("console.token"), "bad_token": t("console.bad_token")})
    names = {s.code: s.name for s in c.site.services}
    return render(request, "console.html", {
        "counter": counter,
        "csrf": signed_in.csrf,
        "config": {
            "counter": number,
            "services": list(counter.services),
            "names": names,
            "csrf": signed_in.csrf,
        },
        "all_services": [{"code": s.code, "name": s.name} for s in c.site.services],
    })


def sign_in_page(request: Request, words: dict[str, str]) -> Response:
    """The token sign-in form (console or /admin), with its CSRF double-submit cookie."""
    nonce = console_auth.login_nonce(request)
    error = {"token": words["bad_token"],
             "csrf": t("page.error.generic")}.get(request.query_params.get("salah", ""))
    response = render(request, "login.html", {**words, "csrf": nonce, "error": error})
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
    Route("/kiosk", kiosk_page),
    Route("/kiosk/tickets", kiosk.issue, methods=["POST"]),
    Route("/kiosk/tickets/{day}/{code}/{key}/print", kiosk.reprint, methods=["POST"]),
    Route("/counter/{n}", counter_page),
    Route("/counter/{n}/login", console_auth.login, methods=["POST"]),
    Route("/counter/{n}/logout", console_auth.logout, methods=["POST"]),
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
