"""The office's officer accounts on `/admin/petugas` (behind the office session): the list, add
an officer, change the counters, a new PIN, disable or enable. A PIN is never shown back; every
form carries the session's CSRF token and answers with a redirect (or the page with the error,
400)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from display_screens import console_auth
from display_screens.pages import error_page, render
from display_server import api, officers
from display_server.errors import ApiError
from texts import N_, t

PAGE = "/admin/petugas"
DONE = {"ditambah": N_("officer.admin.added"), "pin": N_("officer.admin.pin_reset"),
        "nonaktif": N_("officer.admin.disabled"), "aktif": N_("officer.admin.enabled"),
        "loket": N_("officer.admin.counters_changed")}
Handler = Callable[[Request, console_auth.Session], Awaitable[Response]]


def _office(handler: Handler, post: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Only for the office's session; a POST also needs its CSRF token (the form's `csrf`)."""
    async def endpoint(request: Request) -> Response:
        try:
            if post:
                form = await request.form(max_files=0, max_fields=8)
                signed_in = await console_auth.require(request, console_auth.ADMIN,
                                                       str(form.get("csrf", "")))
            else:
                found = await console_auth.session(request, console_auth.ADMIN)
                if found is None:
                    return RedirectResponse("/admin", status_code=303)
                signed_in = found
            return await handler(request, signed_in)
        except ApiError as exc:
            return error_page(request, exc)
    return endpoint


async def _page(request: Request, signed_in: console_auth.Session, *, error: str = "",
                values: dict[str, str] | None = None, status: int = 200) -> Response:
    c = api.ctx(request)
    done = request.query_params.get("selesai", "")
    who = request.query_params.get("id", "")
    message = t(DONE[done], officer=who[:40]) if done in DONE and not error else ""
    tenants = {x.id: x.name for x in c.site.tenants}
    return render(request, "officers.html", {
        "csrf": signed_in.csrf, "officers": await officers.all_officers(c.store),
        "tenants": tenants, "counters": c.site.counters, "message": message, "error": error,
        "values": values or {}}, status=status)


async def page(request: Request, signed_in: console_auth.Session) -> Response:
    """GET /admin/petugas."""
    return await _page(request, signed_in)


def _done(what: str, officer_id: str) -> Response:
    return RedirectResponse(f"{PAGE}?selesai={what}&id={quote(officer_id)}", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=8)
    return {k: str(v)[:200] for k, v in form.items() if isinstance(v, str)}


async def add(request: Request, signed_in: console_auth.Session) -> Response:
    """POST /admin/petugas (form: id, name, tenant, counters, pin, csrf)."""
    form = await _form(request)
    try:
        officer = await officers.add(api.ctx(request).store, form.get("id", ""),
                                     form.get("name", ""), form.get("tenant", ""),
                                     form.get("counters", ""), form.get("pin", ""))
    except officers.OfficerError as exc:
        kept = {k: form.get(k, "") for k in ("id", "name", "tenant", "counters")}  # not the PIN
        return await _page(request, signed_in, error=str(exc), values=kept, status=400)
    return _done("ditambah", officer.id)


async def reset_pin(request: Request, signed_in: console_auth.Session) -> Response:
    """POST /admin/petugas/{officer}/pin (form: pin, csrf)."""
    form = await _form(request)
    officer_id = request.path_params["officer"]
    try:
        await officers.reset_pin(api.ctx(request).store, officer_id, form.get("pin", ""))
    except officers.OfficerError as exc:
        return await _page(request, signed_in, error=str(exc), status=400)
    return _done("pin", officer_id)


async def change_counters(request: Request, signed_in: console_auth.Session) -> Response:
    """POST /admin/petugas/{officer}/loket (form: counters, csrf): the counters from now on."""
    form = await _form(request)
    officer_id = request.path_params["officer"]
    try:
        await officers.update(api.ctx(request).store, officer_id,
                              counters=form.get("counters", ""))
    except officers.OfficerError as exc:
        return await _page(request, signed_in, error=str(exc), status=400)
    return _done("loket", officer_id)


async def set_active(request: Request, signed_in: console_auth.Session) -> Response:
    """POST /admin/petugas/{officer}/aktif (form: aktif = 1 | 0, csrf): enable or disable."""
    form = await _form(request)
    officer_id = request.path_params["officer"]
    active = form.get("aktif") == "1"
    try:
        await officers.set_active(api.ctx(request).store, officer_id, active)
    except officers.OfficerError as exc:
        return await _page(request, signed_in, error=str(exc), status=400)
    return _done("aktif" if active else "nonaktif", officer_id)


routes: list[BaseRoute] = [
    Route(PAGE, _office(page)),
    Route(PAGE, _office(add, post=True), methods=["POST"]),
    Route(PAGE + "/{officer}/pin", _office(reset_pin, post=True), methods=["POST"]),
    Route(PAGE + "/{officer}/aktif", _office(set_active, post=True), methods=["POST"]),
    Route(PAGE + "/{officer}/loket", _office(change_counters, post=True), methods=["POST"]),
]
