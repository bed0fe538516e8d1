"""HTTP API of the suggestion and complaint desk (display_server.complaints).

Visitors: `POST /api/complaints` (multipart form: category, text, contact?, photo?, ticket?) and
`GET /api/complaints/{tracking}`. The office, with its bearer token: the inbox
`GET /api/complaints`, one entry `GET /api/complaints/{tracking}/office` and its photo, and
`POST /api/complaints/{tracking}/assign|answer|close`.
"""

from __future__ import annotations

import asyncio
import weakref
from datetime import date
from typing import Any

from sqlalchemy import Engine
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from display_server import complaints, ratelimit
from display_server.api import DAY, Context, ctx
from display_server.bodies import Field, body
from display_server.clock import local_now
from display_server.counters import TICKET_CODE
from display_server.errors import ApiError
from display_server.screens import authorize_office
from display_server.settings import Rate
from texts import t

FORM_FIELDS = ("category", "text", "contact", "photo", "ticket")
FORM_OVERHEAD = 64 * 1024  # the form's text fields and multipart framing, past the photo
LOOKUP_RATE = Rate(60, 60)  # visitor lookups per client a minute
ASSIGN_SCHEMA = {"tenant": Field(str, required=True, max_length=64)}
ANSWER_SCHEMA = {"answer": Field(str, required=True, max_length=complaints.ANSWER_MAX + 100)}
# one photo decoded and re-encoded at a time per process (per event loop): a 40-megapixel
# PNG or WebP of a few hundred KB takes 300-600 MB while it is re-encoded
_PHOTO_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary())


def photo_gate() -> asyncio.Semaphore:
    """The running loop's gate of photo re-encoding (one at a time)."""
    loop = asyncio.get_running_loop()
    gate = _PHOTO_GATES.get(loop)
    if gate is None:
        gate = _PHOTO_GATES[loop] = asyncio.Semaphore(1)
    return gate


def archive(c: Context) -> Engine:
    """The archive the desk writes to (404 when this process runs without one)."""
    if c.archiver is None:
        raise ApiError("not_found", t("admin.no_archive"))
    return c.archiver.db


def today(c: Context) -> date:
    return local_now(c.clock, c.site.tz).date()


def tracking_of(request: Request) -> str:
    """The path's tracking code in its stored form; 404 `unknown_complaint` for anything that
    cannot be one (the same answer as a code nobody was given)."""
    found = complaints.parse_tracking(request.path_params["tracking"])
    if found is None:
        raise ApiError("unknown_complaint")
    return found


async def read_form(request: Request, photo_limit: int) -> dict[str, Any]:
    """The complaint form, its size capped before it is parsed: 413 past the photo's cap and
    the text fields, 415 for a body that is not a form, 400 for a broken one or other fields."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise ApiError("unsupported_media_type", "multipart/form-data")
    limit = photo_limit + FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isascii() or not declared.isdigit()):
        raise ApiError("invalid_parameter", "Content-Length")
    if declared is not None and int(declared) > limit:
        raise ApiError("payload_too_large", t("error.detail.max_kb", kb=photo_limit // 1024))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError("payload_too_large", t("error.detail.max_kb", kb=photo_limit // 1024))
        chunks.append(chunk)
    raw = b"".join(chunks)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        form = await Request(request.scope, receive).form(
            max_files=1, max_fields=len(FORM_FIELDS), max_part_size=FORM_OVERHEAD)
    except HTTPException:
        raise ApiError("invalid_body") from None
    out: dict[str, Any] = {}
    for name, value in form.multi_items():
        if name not in FORM_FIELDS:
            raise ApiError("unknown_field", name[:40])
        if name in out:
            raise ApiError("invalid_field", name)
        if (name == "photo") != isinstance(value, UploadFile):
            raise ApiError("invalid_field", name)
        if isinstance(value, UploadFile):
            data = await value.read()
            await value.close()
            if data:  # a browser sends an empty part when no photo was chosen
                out[name] = data
        elif value.strip():
            out[name] = value
    return out


def ticket_ref(c: Context, raw: str) -> tuple[str, str]:
    """The visit a complaint was sent from: the tail `day/code/key` of its status link, whose
    key must be right (400 `invalid_field` otherwise)."""
    parts = raw.strip().removeprefix("/t/").split("/")
    if len(parts) != 3:
        raise ApiError("invalid_field", "ticket")
    day, code, key = parts
    if not (DAY.fullmatch(day) and TICKET_CODE.fullmatch(code)
            and c.tokens.ticket_key_ok(day, code, key)):
        raise ApiError("invalid_field", "ticket")
    return day, code


async def submit(request: Request) -> JSONResponse:
    """POST /api/complaints → 201 {"tracking", "url"}; per-client rate `[complaints] rate`
    (429 `rate_limited`), the kiosk token exempt."""
    c = ctx(request)
    rules = c.site.complaints
    await ratelimit.enforce(request, c, "complaints", rules.rate)
    db = archive(c)
    data = await read_form(request, rules.max_photo_kb * 1024)
    if "category" not in data:
        raise ApiError("missing_field", "category")
    if rules.category(data["category"]) is None:
        raise ApiError("invalid_field", t("error.detail.choose", field="category", choices=", "
                                          .join(k.id for k in rules.categories)))
    if "text" not in data:
        raise ApiError("missing_field", "text")
    text = complaints.clean_text(data["text"], "text", complaints.TEXT_MIN, complaints.TEXT_MAX)
    contact = None
    if "contact" in data:
        contact = complaints.clean_text(data["contact"], "contact", 1, complaints.CONTACT_MAX)
    ticket_day = ticket_code = None
    if "ticket" in data:
        ticket_day, ticket_code = ticket_ref(c, data["ticket"])
    photo = data.get("photo")
    kind = None
    if photo is not None:  # its metadata (EXIF, GPS) is not kept
        async with photo_gate():
            photo, kind = await asyncio.to_thread(complaints.clean_photo, photo,
                                                  rules.max_photo_kb * 1024)
    new = complaints.NewComplaint(data["category"], text, contact, photo, kind, ticket_day,
                                  ticket_code)
    tracking = await asyncio.to_thread(complaints.create, db, c.site, new, c.clock())
    code = complaints.shown(tracking)
    return JSONResponse({"tracking": code, "url": f"/pengaduan/{code}"}, status_code=201)


async def lookup(request: Request) -> JSONResponse:
    """GET /api/complaints/{tracking}: the visitor's view (404 `unknown_complaint`)."""
    c = ctx(request)
    await ratelimit.enforce(request, c, "complaint-lookup", LOOKUP_RATE)
    tracking = tracking_of(request)
    found = await asyncio.to_thread(complaints.visitor_view, archive(c), c.site, tracking)
    if found is None:
        raise ApiError("unknown_complaint")
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


async def inbox(request: Request) -> JSONResponse:
    """GET /api/complaints?status=&tenant=&overdue=1&page=N (office): newest first, PAGE_SIZE
    a page, with the filters' `total`, the `page` and the number of `pages`."""
    c = authorize_office(request)
    filters = complaints.parse_filters(c.site, request.query_params)
    found = await asyncio.to_thread(complaints.office_list, archive(c), c.site, filters,
                                    today(c))
    return JSONResponse({"complaints": found.rows, "total": found.total, "page": found.page,
                         "pages": found.pages, "page_size": complaints.PAGE_SIZE})


async def office_entry(request: Request) -> JSONResponse:
    """GET /api/complaints/{tracking}/office: everything of one complaint, with its notes."""
    c = authorize_office(request)
    tracking = tracking_of(request)
    found = await asyncio.to_thread(complaints.office_detail, archive(c), c.site, tracking,
                                    today(c))
    if found is None:
        raise ApiError("unknown_complaint")
    if found["has_photo"]:
        found["photo_url"] = f"/api/complaints/{found['tracking']}/photo"
    return JSONResponse(found)


async def photo_response(c: Context, tracking: str) -> Response:
    """A complaint's photo as stored (its type read from its content on the way in)."""
    found = await asyncio.to_thread(complaints.photo, archive(c), c.site, tracking)
    if found is None:
        raise ApiError("not_found")
    media_type, data = found
    return Response(data, media_type=media_type, headers={
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


async def office_photo(request: Request) -> Response:
    """GET /api/complaints/{tracking}/photo (office)."""
    c = authorize_office(request)
    return await photo_response(c, tracking_of(request))


async def act(c: Context, tracking: str, action: str, data: dict[str, Any]) -> None:
    """One office action on a complaint (shared with the /admin/pengaduan pages)."""
    db, now = archive(c), c.clock()
    if action == "assign":
        await asyncio.to_thread(complaints.assign, db, c.site, tracking, data["tenant"], now)
    elif action == "answer":
        text = complaints.clean_text(data["answer"], "answer", complaints.ANSWER_MIN,
                                     complaints.ANSWER_MAX)
        await asyncio.to_thread(complaints.answer, db, c.site, tracking, text, now)
    else:
        await asyncio.to_thread(complaints.close, db, c.site, tracking, now)


SCHEMAS: dict[str, dict[str, Field]] = {"assign": ASSIGN_SCHEMA, "answer": ANSWER_SCHEMA,
                                        "close": {}}


def office_action(action: str) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        c = authorize_office(request)
        tracking = tracking_of(request)
        data = await body(request, SCHEMAS[action])
        await act(c, tracking, action, data)
        found = await asyncio.to_thread(complaints.office_detail, archive(c), c.site, tracking,
                                        today(c))
        return JSONResponse(found)

    endpoint.__name__ = f"complaint_{action}"
    return endpoint


routes = [
    Route("/api/complaints", submit, methods=["POST"]),
    Route("/api/complaints", inbox),
    Route("/api/complaints/{tracking}", lookup),
    Route("/api/complaints/{tracking}/office", office_entry),
    Route("/api/complaints/{tracking}/photo", office_photo),
    *(Route(f"/api/complaints/{{tracking}}/{action}", office_action(action), methods=["POST"])
      for action in SCHEMAS),
]
