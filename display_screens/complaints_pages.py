"""The suggestion and complaint desk's pages: the visitor's form `/pengaduan` (kiosk and phone,
optionally tied to the visit of a ticket's status link), the lookup `/pengaduan/{kode}`, and the
office's inbox `/admin/pengaduan` with one entry per page, where the office assigns a tenant,
answers and closes (plain form posts with the /admin session's CSRF token). What visitors wrote is
rendered as text only (Jinja's autoescape; the scripts use textContent)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from display_screens import console_auth
from display_screens.pages import _int_param, error_page, render
from display_server import api, complaints, complaints_api, ratelimit
from display_server.errors import ApiError
from texts import clock, long_date, number, t

Handler = Callable[[Request], Awaitable[Response]]
ACTIONS = ("assign", "answer", "close")
KIOSK_IDLE_MS = 120_000


def _when(iso: str | None) -> str:
    """'Senin, 30 November 2026 10.30' of an ISO time ('' for none)."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso)
    return f"{long_date(moment.date())} {clock(moment)}"


def readable(entry: dict[str, Any]) -> dict[str, Any]:
    """A complaint's times and due day as people read them (`*_text`)."""
    out = {**entry, "due_text": long_date(date.fromisoformat(entry["due"]))}
    for name in ("created_at", "answered_at", "closed_at"):
        out[name.removesuffix("_at") + "_text"] = _when(entry.get(name))
    if "notes" in entry:
        out["notes"] = [{**note, "at_text": _when(note["at"])} for note in entry["notes"]]
    return out


def _ticket(request: Request) -> dict[str, str] | None:
    """The visit a complaint form was opened from (`?tiket=day/code/key` of its status link),
    or None for none or a link whose key is wrong."""
    raw = request.query_params.get("tiket", "")
    if not raw:
        return None
    try:
        day, code = complaints_api.ticket_ref(api.ctx(request), raw)
    except ApiError:
        return None
    return {"link": raw, "day": day, "code": code}


async def form_page(request: Request) -> Response:
    """GET /pengaduan[?tiket=…][&dari=kiosk[&idle=ms]]: the form; on the kiosk a way back to
    it, and back by itself after `idle` ms (default 2 minutes) without a touch or key, or that
    long after the code was shown, so the next visitor sees neither."""
    c = api.ctx(request)
    rules = c.site.complaints
    ticket = _ticket(request)
    kiosk = request.query_params.get("dari") == "kiosk"
    return render(request, "complaint.html", {
        "categories": rules.categories, "ticket": ticket, "kiosk": kiosk,
        "max_photo_mb": number(round(rules.max_photo_kb / 1024, 2)),  # "2", "1,5"
        "config": {"ticket": ticket["link"] if ticket else None, "kiosk": kiosk,
                   "idle_ms": _int_param(request, "idle", KIOSK_IDLE_MS, 1000, 3_600_000),
                   "max_photo_bytes": rules.max_photo_kb * 1024,
                   "text_min": complaints.TEXT_MIN, "text_max": complaints.TEXT_MAX}})


async def find(request: Request) -> Response:
    """GET /pengaduan/cari?kode=…: to the lookup page of a typed code."""
    raw = request.query_params.get("kode", "")
    tracking = complaints.parse_tracking(raw)
    if tracking is None:
        return _lookup_page(request, None, raw[:40], 404 if raw else 200)
    return RedirectResponse(f"/pengaduan/{complaints.shown(tracking)}", status_code=303)


async def lookup_page(request: Request) -> Response:
    """GET /pengaduan/{kode}: the status and the office's answer, with a form for another
    code; an unknown code is the same page with "not found" (404)."""
    c = api.ctx(request)
    raw = request.path_params["tracking"]
    try:
        await ratelimit.enforce(request, c, "complaint-lookup", complaints_api.LOOKUP_RATE)
        tracking = complaints.parse_tracking(raw)
        found = None if tracking is None else await asyncio.to_thread(
            complaints.visitor_view, complaints_api.archive(c), c.site, tracking)
    except ApiError as exc:
        return error_page(request, exc)
    return _lookup_page(request, found, raw[:40], 200 if found else 404)


def _lookup_page(request: Request, found: dict[str, Any] | None, typed: str,
                 status: int) -> Response:
    return render(request, "complaint_lookup.html",
                  {"complaint": readable(found) if found else None, "typed": typed,
                   "not_found": status == 404},
                  status=status)


def _office(handler: Handler) -> Handler:
    """Only for the office's /admin session (else a 401 page); ApiErrors as the error page."""
    async def endpoint(request: Request) -> Response:
        if await console_auth.session(request, console_auth.ADMIN) is None:
            return error_page(request, ApiError("unauthorized", t("error.detail.office_token")))
        try:
            return await handler(request)
        except ApiError as exc:
            return error_page(request, exc)
    return endpoint


async def inbox_page(request: Request) -> Response:
    """GET /admin/pengaduan[?status=&tenant=&overdue=1&page=N]: the inbox, newest first, a
    page at a time, with links to the page before and after (the same filters)."""
    c = api.ctx(request)
    filters = complaints.parse_filters(c.site, request.query_params)
    found = await asyncio.to_thread(complaints.office_list, complaints_api.archive(c), c.site,
                                    filters, complaints_api.today(c))
    first = (found.page - 1) * complaints.PAGE_SIZE + 1

    def page_url(page: int) -> str | None:
        if not 1 <= page <= found.pages or page == found.page:
            return None
        query = {"status": filters.status or "", "tenant": filters.tenant or "",
                 "overdue": "1" if filters.overdue else "", "page": str(page)}
        return "/admin/pengaduan?" + urlencode({k: v for k, v in query.items() if v})

    return render(request, "admin_complaints.html", {
        "rows": [readable(row) for row in found.rows], "filters": filters,
        "statuses": complaints.STATUS_NAMES, "tenants": c.site.tenants,
        "paging": {"first": number(first), "last": number(first + len(found.rows) - 1),
                   "total": number(found.total), "page": number(found.page),
                   "pages": number(found.pages),
                   "previous": page_url(min(found.page - 1, found.pages)),
                   "next": page_url(found.page + 1)}})


async def entry_page(request: Request) -> Response:
    """GET /admin/pengaduan/{kode}: one complaint, its photo and notes, and the actions."""
    c = api.ctx(request)
    signed_in = await console_auth.session(request, console_auth.ADMIN)
    assert signed_in is not None
    tracking = complaints_api.tracking_of(request)
    found = await asyncio.to_thread(complaints.office_detail, complaints_api.archive(c), c.site,
                                    tracking, complaints_api.today(c))
    if found is None:
        raise ApiError("unknown_complaint")
    return render(request, "admin_complaint.html", {
        "c": readable(found), "csrf": signed_in.csrf, "tenants": c.site.tenants,
        "done": request.query_params.get("ok", "") in ACTIONS})


async def photo(request: Request) -> Response:
    """GET /admin/pengaduan/{kode}/foto."""
    return await complaints_api.photo_response(api.ctx(request),
                                               complaints_api.tracking_of(request))


async def action(request: Request) -> Response:
    """POST /admin/pengaduan/{kode}/{assign|answer|close} (form: csrf, tenant | answer): back
    to the entry."""
    name = request.path_params["action"]
    if name not in ACTIONS:
        raise ApiError("not_found")
    tracking = complaints_api.tracking_of(request)
    form = await request.form(max_files=0, max_fields=3)
    await console_auth.require(request, console_auth.ADMIN, str(form.get("csrf", "")))
    field = {"assign": "tenant", "answer": "answer"}.get(name)
    data: dict[str, Any] = {}
    if field is not None:
        value = form.get(field)
        if not isinstance(value, str) or not value.strip():
            raise ApiError("missing_field", field)
        data[field] = value
    await complaints_api.act(api.ctx(request), tracking, name, data)
    shown = quote(complaints.shown(tracking))
    return RedirectResponse(f"/admin/pengaduan/{shown}?ok={name}", status_code=303)


async def overdue_count(request: Request) -> int | None:
    """The dashboard's flag: open complaints past their due day (None without an archive)."""
    c = api.ctx(request)
    if c.archiver is None:
        return None
    return await asyncio.to_thread(complaints.overdue_count, c.archiver.db, c.site,
                                   complaints_api.today(c))


routes: list[BaseRoute] = [
    Route("/pengaduan", form_page),
    Route("/pengaduan/cari", find),
    Route("/pengaduan/{tracking}", lookup_page),
    Route("/admin/pengaduan", _office(inbox_page)),
    Route("/admin/pengaduan/{tracking}", _office(entry_page)),
    Route("/admin/pengaduan/{tracking}/foto", _office(photo)),
    Route("/admin/pengaduan/{tracking}/{action}", _office(action), methods=["POST"]),
]
