"""The kiosk: its page's data (priority first, popular documents, search, agency tiles with
icons or logos), ticket issue with a per-client rate limit, waiting-time estimates, where the
service is served (agency, counters, floor), printing on the server's printer when there is
one, the ticket's QR code and the JSON behind the visitor's live status page."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import qrcode  # type: ignore[import-untyped]
import qrcode.image.svg  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from display_screens import printer
from display_server import api, ratelimit, wayfinding
from display_server.clock import local_now
from display_server.errors import ApiError
from display_server.hours import describe, is_open
from texts import clock, long_date, t

log = logging.getLogger("antrian.kiosk")

DEFAULT_SERVICE_MINUTES = 5.0
MIN_SERVICE_MINUTES = 2.0
IDLE_MS, TICKET_MS = 30_000, 20_000  # back to the first step after this long untouched


def _ms_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, "")
    return min(600_000, max(1000, int(raw))) if raw.isascii() and raw.isdigit() else default


def page_data(request: Request) -> dict[str, Any]:
    """What the kiosk page shows and its script searches: the priority categories, the popular
    buttons, the tenants (icon or logo) with their services, each with its keywords, opening
    state, the reason it is closed, and where it is served."""
    c = api.ctx(request)
    site = c.site
    now = local_now(c.clock, site.tz)
    services: list[dict[str, Any]] = []
    for s in site.services:
        open_now = is_open(s.hours, now, site.holidays)
        services.append({
            "code": s.code, "name": s.name, "tenant": s.tenant, "keywords": list(s.keywords),
            "open": open_now, "hours": describe(s.hours), "has_hours": s.hours is not None,
            "closed_reason": closed_reason(describe(s.hours) if s.hours else None),
            **wayfinding.place(site, s.code),
        })
    tenants = []
    for tenant in site.tenants:
        own = [s for s in services if s["tenant"] == tenant.id]
        if own:
            tenants.append({
                "id": tenant.id, "name": tenant.name, "icon": tenant.icon or "document",
                "logo": f"/kiosk/logo/{tenant.id}" if tenant.logo else None,
                "services": own, "open": sum(1 for s in own if s["open"]),
            })
    by_code = {s["code"]: s for s in services}
    popular = [{"id": str(i), "label": p.label, "icon": p.icon or "document",
                "services": [by_code[code] for code in p.services]}
               for i, p in enumerate(site.popular)]
    paper = "58" if request.query_params.get("paper") == "58" else "80"
    return {
        "tenants": tenants,
        "popular": popular,
        "priorities": [{"id": p.id, "name": p.name} for p in site.priority_categories],
        "paper": paper,
        "config": {
            "paper": paper, "print": request.query_params.get("print") != "0",
            "server_printer": c.settings.printer is not None,
            "idle_ms": _ms_param(request, "idle", IDLE_MS),
            "ticket_ms": _ms_param(request, "ticket_idle", TICKET_MS),
            "priorities": {p.id: p.name for p in site.priority_categories},
            "services": [{k: s[k] for k in ("code", "name", "tenant", "tenant_name",
                                            "keywords", "has_hours")} for s in services],
        },
    }


def closed_reason(hours: str | None) -> str:
    """Why a closed service takes no tickets: its opening hours, or closed today (a holiday)."""
    return t("kiosk.closed_hours", hours=hours) if hours else t("kiosk.closed_now")


async def logo(request: Request) -> Response:
    """GET /kiosk/logo/{tenant}: a tenant's logo image from the site config (`icon = "x.png"`)."""
    tenant = api.ctx(request).site.tenant(request.path_params["tenant"])
    if tenant is None or tenant.logo is None:
        raise ApiError("not_found")
    kind = wayfinding.LOGO_TYPES[Path(tenant.logo).suffix.lower()]
    return FileResponse(tenant.logo, media_type=kind,
                        headers={"Cache-Control": "public, max-age=3600"})


async def limit(request: Request) -> None:
    """The kiosk page's own per-client limit, `settings.kiosk_rate` (429 `rate_limited`)."""
    c = api.ctx(request)
    await ratelimit.enforce(request, c, "kiosk", c.settings.kiosk_rate)


async def estimate_minutes(request: Request, service: str, ahead: int) -> int:
    """Minutes until `ahead` people are served: today's mean service time of the service
    (5 minutes until one is known, never under 2), shared among the counters that serve it."""
    if ahead <= 0:
        return 0
    c = api.ctx(request)
    stats = await c.store.stats(c.store.today())
    served = stats.get(f"served:{service}", 0)
    mean = stats.get(f"service_ms:{service}", 0) / served / 60000 if served else 0.0
    mean = max(mean, MIN_SERVICE_MINUTES) if mean > 0 else DEFAULT_SERVICE_MINUTES
    counters = sum(1 for k in c.site.counters if service in k.services) or 1
    return max(1, math.ceil(ahead * mean / counters))


def status_url(request: Request, day: str, code: str) -> str:
    """The whole link of a ticket's status page, for its QR code and printed ticket: under
    ANTRIAN_PUBLIC_URL when set (a server behind a proxy), else the address the kiosk used."""
    c = api.ctx(request)
    base = c.settings.public_url or str(request.base_url)
    return base.rstrip("/") + api.status_path(c.tokens, day, code)


async def issue(request: Request) -> Response:
    """POST /kiosk/tickets: like POST /api/tickets, rate-limited, with estimate and links."""
    await limit(request)
    response = await api.new_ticket(request)
    if response.status_code != 201:
        return response
    ticket: dict[str, Any] = json.loads(bytes(response.body))
    service = api.ctx(request).site.service(ticket["service"])
    ticket["service_name"] = service.name if service else ticket["service"]
    ticket.update(wayfinding.place(api.ctx(request).site, ticket["service"]))
    ticket["estimate_min"] = await estimate_minutes(request, ticket["service"], ticket["ahead"])
    path = ticket["status_url"]  # the API's: relative
    ticket["status_url"] = status_url(request, ticket["day"], ticket["code"])
    ticket["qr_url"] = f"{path}/qr.svg"
    ticket["print_url"] = f"/kiosk/tickets/{path.removeprefix('/t/')}/print"
    if api.ctx(request).settings.printer:
        ticket.update(await print_ticket(request, ticket))
    return JSONResponse(ticket, status_code=201)


def ticket_lines(ticket: dict[str, Any]) -> list[str]:
    """What a printed ticket says under its code: the agency, counters and floor, people ahead,
    estimate, date and time."""
    ahead, minutes = ticket.get("ahead") or 0, ticket.get("estimate_min") or 0
    issued = datetime.fromisoformat(ticket["issued_at"])
    place = [ticket.get("tenant_name"), " · ".join(
        x for x in (ticket.get("counters_text"), ticket.get("where")) if x)]
    return [
        *(line for line in place if line),
        t("ticket.people_ahead", n=ahead) if ahead > 0 else t("ticket.nobody_ahead"),
        t("ticket.estimate", n=minutes) if minutes > 0 else t("ticket.estimate_soon"),
        f"{long_date(issued)} {clock(issued)}",
        t("kiosk.keep"),
    ]


async def print_ticket(request: Request, ticket: dict[str, Any]) -> dict[str, Any]:
    """Print on the server's printer: {"printed": true}, or false with the reason."""
    target = api.ctx(request).settings.printer
    assert target is not None
    try:
        data = printer.ticket_bytes(api.ctx(request).site.name, ticket, ticket_lines(ticket))
        await asyncio.to_thread(printer.send, target, data)
    except printer.PrintError as exc:
        log.warning("ticket %s not printed on %s: %s", ticket["code"], target, exc)
        return {"printed": False, "print_error": str(exc)[:200]}
    return {"printed": True}


async def reprint(request: Request) -> Response:
    """POST /kiosk/tickets/{day}/{code}/{key}/print: print an issued ticket again
    (rate-limited)."""
    await limit(request)
    if not api.ctx(request).settings.printer:
        return JSONResponse({"printed": False, "print_error": t("printer.none")})
    ticket = await ticket_view(request)
    ticket["status_url"] = status_url(request, ticket["day"], ticket["code"])
    return JSONResponse(await print_ticket(request, ticket))


async def ticket_view(request: Request) -> dict[str, Any]:
    """GET /api/tickets/{day}/{code}/{key} (404 as ApiError) with what its visitor reads too:
    the service and counter names, the estimated wait and the (relative) status_url."""
    c = api.ctx(request)
    response = await api.ticket_status(request)
    ticket: dict[str, Any] = json.loads(bytes(response.body))
    service = c.site.service(ticket["service"])
    ticket["service_name"] = service.name if service else ticket["service"]
    ticket.update(wayfinding.place(c.site, ticket["service"]))
    counter = c.site.counter(ticket["counter"]) if ticket.get("counter") else None
    ticket["counter_name"] = counter.name if counter else None
    ahead = ticket.get("ahead")
    ticket["estimate_min"] = (await estimate_minutes(request, ticket["service"], ahead)
                              if isinstance(ahead, int) else None)
    ticket["status_url"] = api.status_path(c.tokens, ticket["day"], ticket["code"])
    return ticket


async def status(request: Request) -> Response:
    """GET {status_url}/status: the JSON the live status page polls."""
    return JSONResponse(await ticket_view(request), headers={"Cache-Control": "no-store"})


def qr_svg(text: str) -> bytes:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2,
                        error_correction=qrcode.constants.ERROR_CORRECT_M)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


async def qr(request: Request) -> Response:
    """GET {status_url}/qr.svg: the QR code of an issued ticket's status page."""
    await api.ticket_status(request)  # 404 unless the link is right and the ticket exists
    day, code = request.path_params["day"], request.path_params["code"]
    return Response(qr_svg(status_url(request, day, code)), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400"})
