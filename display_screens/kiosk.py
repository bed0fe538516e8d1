"""Kiosk ticket issue with a per-client rate limit, waiting-time estimates, printing on the
server's printer when there is one, the ticket's QR code and the JSON behind the visitor's live
status page."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import math
from datetime import datetime
from typing import Any

import qrcode  # type: ignore[import-untyped]
import qrcode.image.svg  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from display_screens import printer
from display_server import api, ratelimit
from texts import clock, long_date, t

log = logging.getLogger("antrian.kiosk")

DEFAULT_SERVICE_MINUTES = 5.0
MIN_SERVICE_MINUTES = 2.0


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
    ticket["estimate_min"] = await estimate_minutes(request, ticket["service"], ticket["ahead"])
    path = ticket["status_url"]  # the API's: relative
    ticket["status_url"] = status_url(request, ticket["day"], ticket["code"])
    ticket["qr_url"] = f"{path}/qr.svg"
    ticket["print_url"] = f"/kiosk/tickets/{path.removeprefix('/t/')}/print"
    if api.ctx(request).settings.printer:
        ticket.update(await print_ticket(request, ticket))
    return JSONResponse(ticket, status_code=201)


def ticket_lines(ticket: dict[str, Any]) -> list[str]:
    """What a printed ticket says under its code: people ahead, estimate, date and time."""
    ahead, minutes = ticket.get("ahead") or 0, ticket.get("estimate_min") or 0
    issued = datetime.fromisoformat(ticket["issued_at"])
    return [
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
