"""The lobby TV's signage: `GET /display/papan` (today's notices, the folder's images and videos,
the prayer times), the folder's files by name and the site's logo, served only when the site's
`[signage]` lists them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from display_server import api
from display_server.clock import local_now
from display_server.errors import ApiError
from display_server.signage import MEDIA_TYPES, PRAYERS, media, media_file, prayer_times
from texts import t
from texts.formats import clock

FILE_HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


def signage_view(request: Request) -> dict[str, Any]:
    """What a TV shows of the site's signage today (site-local day)."""
    c = api.ctx(request)
    signage = c.site.signage
    now = local_now(c.clock, c.site.tz)
    view: dict[str, Any] = {
        "day": now.date().isoformat(),
        "quiet_ms": signage.quiet_seconds * 1000,
        "slide_ms": signage.slide_seconds * 1000,
        "texts": [n.text for n in signage.texts if n.shown_on(now.date())],
        "media": [{"url": f"/display/papan/{name}", "kind": kind.split("/")[0]}
                  for name, kind in media(signage)],
        "prayer": None,
    }
    if signage.prayer is not None:
        times = prayer_times(signage.prayer, now.date(), c.site.tz)
        view["prayer"] = {
            "pause": signage.prayer.pause_announcements,
            "pause_ms": signage.prayer.pause_minutes * 60_000,
            "times": [{"id": key, "name": t(PRAYERS[key]), "at": _hhmm(times[key]),
                       "ms": int(times[key].timestamp() * 1000)} for key in PRAYERS],
        }
    return view


def _hhmm(moment: datetime) -> str:
    return clock(moment.replace(second=0, microsecond=0))


async def papan(request: Request) -> Response:
    """GET /display/papan: today's signage as JSON (the TV reloads it every few minutes)."""
    return JSONResponse(signage_view(request), headers={"Cache-Control": "no-store"})


async def papan_file(request: Request) -> Response:
    """GET /display/papan/{name}: one image or video of the signage folder; 404 for any name
    the folder does not list (no paths, no hidden files, no links out of it)."""
    c = api.ctx(request)
    found = media_file(c.site.signage, request.path_params["name"])
    if found is None:
        raise ApiError("not_found", request.path_params["name"][:40])
    path, kind = found
    return FileResponse(path, media_type=kind, headers=FILE_HEADERS)


async def logo(request: Request) -> Response:
    """GET /display/logo: the site's logo (`[signage] logo`); 404 when the site has none."""
    path = api.ctx(request).site.signage.logo
    if path is None or not path.is_file():
        raise ApiError("not_found", "logo")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix.lower()], headers=FILE_HEADERS)


routes: list[BaseRoute] = [
    Route("/display/papan", papan),
    Route("/display/papan/{name}", papan_file),
    Route("/display/logo", logo),
]
