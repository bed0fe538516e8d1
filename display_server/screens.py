"""Screens the site knows (declared in the config or registered by the office) and their played
acknowledgements: POST /api/played, and the office's /api/screens register."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from display_server import instruments
from display_server.api import SCREEN_ID, Context, ctx
from display_server.bodies import Field, body
from display_server.errors import ApiError
from display_server.tokens import same
from protocol.event_ids import is_event_id
from texts import t

PLAYED_SCHEMA = {
    "event_id": Field(str, required=True, max_length=41, check=is_event_id),
    "screen": Field(str, required=True, pattern=SCREEN_ID, max_length=64),
    "dropped": Field(bool),  # not spoken: its counter had moved on (or salat): still handled
}
SCREEN_SCHEMA = {
    "id": Field(str, required=True, pattern=SCREEN_ID, max_length=64),
    "name": Field(str, max_length=100),
}


async def acknowledge(c: Context, screen: str, event_id: str, dropped: bool = False) -> None:
    """Record that a known screen played the call or recall `event_id`, or with `dropped` that
    it handled it without speaking it (its counter had moved on); ApiError otherwise."""
    await c.store.record_played(screen, event_id, c.settings.max_screens, dropped)


async def played(request: Request) -> JSONResponse:
    """POST /api/played: a TV or announcer reports that it played a call's announcement."""
    data = await body(request, PLAYED_SCHEMA)
    await acknowledge(ctx(request), data["screen"], data["event_id"], data.get("dropped", False))
    instruments.of(request.app).played(data.get("dropped", False))
    return JSONResponse({"ok": True})


def authorize_office(request: Request) -> Context:
    """The context, after checking the office's bearer token (`antrian token --admin`): 401."""
    c = ctx(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not same(token.strip(), c.tokens.admin_token()):
        raise ApiError("unauthorized", t("error.detail.office_token"))
    return c


async def known_screens(c: Context) -> list[dict[str, Any]]:
    """Every screen whose plays are accepted, by id: `source` "config" or "office", with
    today's last acknowledgement (`played`, or None)."""
    played_today = await c.store.played()
    rows = {s.id: {"id": s.id, "name": s.name, "source": "config"} for s in c.site.screens}
    for sid, entry in (await c.store.registered_screens()).items():
        rows.setdefault(sid, {"id": sid, "name": entry["name"], "source": "office"})
    return [{**row, "played": played_today.get(sid)} for sid, row in sorted(rows.items())]


async def list_screens(request: Request) -> JSONResponse:
    """GET /api/screens (office): the known screens and what each played last today."""
    return JSONResponse({"screens": await known_screens(authorize_office(request))})


async def register(request: Request) -> JSONResponse:
    """POST /api/screens {"id","name"} (office): 201 for a new screen, 200 for a renamed one;
    409 too_many_screens past the cap."""
    c = authorize_office(request)
    data = await body(request, SCREEN_SCHEMA)
    name = data.get("name", data["id"])
    created = await c.store.register_screen(data["id"], name, c.settings.max_screens)
    return JSONResponse({"id": data["id"], "name": name}, status_code=201 if created else 200)


async def unregister(request: Request) -> JSONResponse:
    """DELETE /api/screens/{id} (office): its plays are refused from now on; 404 unknown_screen
    when the office had not registered it."""
    c = authorize_office(request)
    screen = request.path_params["id"]
    if not SCREEN_ID.fullmatch(screen) or not await c.store.unregister_screen(screen):
        raise ApiError("unknown_screen", screen[:64])
    return JSONResponse({"id": screen})


routes = [
    Route("/api/played", played, methods=["POST"]),
    Route("/api/screens", list_screens),
    Route("/api/screens", register, methods=["POST"]),
    Route("/api/screens/{id}", unregister, methods=["DELETE"]),
]
