"""HTTP API routes: services, tickets, state and the counter actions of docs/contract.md."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError, ResponseError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from display_server import counters, ratelimit
from display_server.archive.archiver import Archiver
from display_server.bodies import REQUEST_ID_FIELD, Field, body, read_json
from display_server.clock import Clock, local_now
from display_server.config import SiteConfig
from display_server.counters import TICKET_CODE
from display_server.errors import ApiError
from display_server.fanout import Fanout
from display_server.hours import is_open
from display_server.settings import Settings
from display_server.state import services_view, snapshot_view
from display_server.store import Store
from display_server.tokens import TokenBook
from protocol.counter_actions import ACTIONS, LISTS

DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # patterns are used with fullmatch
SCREEN_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
COUNTER_NUMBER = re.compile(r"[0-9]{1,6}")


@dataclass
class Context:
    """What every route needs, kept on `app.state.ctx`."""

    site: SiteConfig
    store: Store
    tokens: TokenBook
    clock: Clock
    settings: Settings
    fanout: Fanout
    data_dir: Path
    archiver: Archiver | None = None  # None: this app runs without an archive


def ctx(request: Request) -> Context:
    context: Context = request.app.state.ctx
    return context


def parse_services(site: SiteConfig, raw: str | None) -> frozenset[str] | None:
    """The `?services=A,B` (or `?profile=id`) filter; 400 for unknown codes."""
    if raw is None:
        return None
    codes = frozenset(c.strip() for c in raw.split(",") if c.strip())
    unknown = sorted(c for c in codes if site.service(c) is None)
    if unknown or not codes:
        raise ApiError("invalid_parameter", f"services: {', '.join(unknown)[:60]}")
    return codes


def screen_filter(site: SiteConfig, params: Any) -> frozenset[str] | None:
    profile = params.get("profile")
    if profile is not None:
        screen = site.screen(profile)
        if screen is None:
            raise ApiError("invalid_parameter", "profile")
        return frozenset(screen.services)
    return parse_services(site, params.get("services"))


LAG_LIMIT = 1000  # /api/health counts the follower's lag up to this


async def health(request: Request) -> JSONResponse:
    """200 `{"status": "ok", "redis": "ok", "fanout": {...}}` while Redis answers and this
    process's events follower follows (`lag`: events in the stream it has not yet sent, counted
    up to LAG_LIMIT); else 503 with the error body (the reason in its message) and the details."""
    c = ctx(request)
    fanout = c.fanout
    details = fanout.report()
    try:
        await c.store.redis.ping()
    except (RedisError, OSError) as exc:
        return _unhealthy(ApiError("redis_unavailable", type(exc).__name__), details)
    last, details["lag"] = details["last_event_id"], None
    with contextlib.suppress(ResponseError):  # a stream Redis cannot read: no lag to tell
        details["lag"] = None if last is None else await c.store.count_after(last, LAG_LIMIT)
    problem = fanout.problem()
    if problem is not None:
        return _unhealthy(ApiError("fanout_stopped", problem), details)
    answer = {"status": "ok", "redis": "ok", "fanout": details}
    if c.archiver is not None:
        answer["archive"] = await c.archiver.report()
    return JSONResponse(answer)


def _unhealthy(error: ApiError, fanout: dict[str, Any]) -> JSONResponse:
    return JSONResponse({**error.body(), "fanout": fanout}, status_code=error.status)


async def services(request: Request) -> JSONResponse:
    c = ctx(request)
    snap = await c.store.snapshot()
    return JSONResponse({"services": services_view(c.site, c.clock, snap["waiting"])})


async def state(request: Request) -> JSONResponse:
    c = ctx(request)
    wanted = screen_filter(c.site, request.query_params)
    view = snapshot_view(c.site, c.clock, await c.store.snapshot(), wanted)
    view["played"] = await c.store.played()
    return JSONResponse(view)


ISSUE_SCHEMA = {
    "service": Field(str, required=True, max_length=3),
    "priority": Field(str, max_length=64),
    "request_id": REQUEST_ID_FIELD,
}


async def issue_ticket(request: Request) -> JSONResponse:
    """POST /api/tickets: each anonymous client address gets `settings.ticket_rate` (429
    `rate_limited`); the kiosk token is exempt."""
    await ratelimit.enforce(request, ctx(request), "tickets", ctx(request).settings.ticket_rate)
    return await new_ticket(request)


async def new_ticket(request: Request) -> JSONResponse:
    """Issue the ticket of the request's body (no rate limit: callers apply theirs)."""
    c = ctx(request)
    data = await body(request, ISSUE_SCHEMA)
    service = c.site.service(data["service"])
    if service is None:
        raise ApiError("unknown_service", data["service"])
    priority = data.get("priority", "")
    if priority and priority not in {p.id for p in c.site.priority_categories}:
        raise ApiError("invalid_field", "priority")
    if not is_open(service.hours, local_now(c.clock, c.site.tz), c.site.holidays):
        raise ApiError("service_closed", service.name)
    ticket = await c.store.issue(service.code, priority=priority,
                                 request_id=data.get("request_id"))
    ticket["status_url"] = status_path(c.tokens, ticket["day"], ticket["code"])
    return JSONResponse(ticket, status_code=201)


def status_path(tokens: TokenBook, day: str, code: str) -> str:
    """A ticket's `status_url`: its day and code, then the key that makes the link unguessable.
    `GET /api/tickets/` + the same tail is the ticket's status JSON."""
    return f"/t/{day}/{code}/{tokens.ticket_key(day, code)}"


def ticket_link(request: Request) -> tuple[str, str]:
    """The day and code of a status link (path params day, code, key); a malformed link, a
    missing or wrong key is 404 `unknown_ticket`, the answer for a ticket that does not exist,
    so a guess learns nothing."""
    params = request.path_params
    day, code, key = params["day"], params["code"], params.get("key", "")
    if not (DAY.fullmatch(day) and TICKET_CODE.fullmatch(code)
            and ctx(request).tokens.ticket_key_ok(day, code, key)):
        raise ApiError("unknown_ticket")
    return day, code


async def ticket_status(request: Request) -> JSONResponse:
    """GET /api/tickets/{day}/{code}/{key}: the status of the ticket of that link, without its
    priority category (the visitor knows it; anyone else with the link need not)."""
    day, code = ticket_link(request)
    ticket = await ctx(request).store.ticket_status(day, code)
    if ticket is None:
        raise ApiError("unknown_ticket")
    ticket.pop("priority", None)
    return JSONResponse(ticket)


def path_counter(request: Request) -> int:
    """The counter number of the path (ASCII digits only); 404 when the site has no such one."""
    raw = request.path_params["n"]
    if not COUNTER_NUMBER.fullmatch(raw) or ctx(request).site.counter(int(raw)) is None:
        raise ApiError("unknown_counter", raw[:12])
    return int(raw)


def authorize(request: Request) -> int:
    """The counter of the path, after checking its bearer token (401 / 403 / 404)."""
    c = ctx(request)
    number = path_counter(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("unauthorized")
    owner = c.tokens.owner(token.strip())
    if owner is None:
        raise ApiError("unauthorized")
    if owner != number:
        raise ApiError("forbidden")
    return number


def counter_action(action: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    """POST /api/counters/{n}/{action}: the counter's bearer token, then the counters service."""

    async def endpoint(request: Request) -> JSONResponse:
        number = authorize(request)
        data = await read_json(request)
        return JSONResponse(await counters.perform(ctx(request).store, number, action, data))

    endpoint.__name__ = f"counter_{action}"
    return endpoint


def counter_tickets(kind: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    """GET /api/counters/{n}/{kind}: the tickets a console offers (counters.list_tickets)."""

    async def endpoint(request: Request) -> JSONResponse:
        number = authorize(request)
        return JSONResponse(await counters.list_tickets(ctx(request).store, number, kind))

    endpoint.__name__ = f"counter_{kind}"
    return endpoint


routes = [
    Route("/api/health", health),
    Route("/api/services", services),
    Route("/api/state", state),
    Route("/api/tickets", issue_ticket, methods=["POST"]),
    Route("/api/tickets/{day}/{code}", ticket_status),  # no key: 404, as a wrong key
    Route("/api/tickets/{day}/{code}/{key}", ticket_status),
    *(Route(f"/api/counters/{{n}}/{kind}", counter_tickets(kind)) for kind in LISTS),
    *(Route(f"/api/counters/{{n}}/{action}", counter_action(action), methods=["POST"])
      for action in ACTIONS),
]
