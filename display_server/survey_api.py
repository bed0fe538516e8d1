"""HTTP routes of the satisfaction survey (SKM): a visitor answers through the ticket's status
link (`POST {status_url}/survey`, also under `/api/tickets/...`), the counter's tablet asks for the
ticket just finished there and answers for it (`/api/counters/{n}/survey`, the counter's token).
One answer per served ticket, kept by survey.lua; the answers are checked here."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from display_server import ratelimit
from display_server.api import DAY, Context, authorize, ctx, ticket_link
from display_server.bodies import Field, read_json, validate
from display_server.counters import TICKET_CODE
from display_server.errors import ApiError
from display_server.survey_questions import ANSWERS, ELEMENTS, PROFILE, profile_values, questions
from texts import t

MAX_SURVEY_BODY = 4 * 1024  # nine digits and a profile fit in far less; larger is 413
VIA_STATUS, VIA_COUNTER = "status", "counter"

SCHEMA = {
    "answers": Field(list, required=True),
    "profile": Field(dict),
}
COUNTER_SCHEMA = {
    "ticket": Field(str, required=True, pattern=TICKET_CODE, max_length=8),
    "day": Field(str, pattern=DAY, max_length=10),  # the ticket's day (default today)
    **SCHEMA,
}


def check_answers(value: Any) -> list[int]:
    """Exactly nine integers 1..4 (not booleans, not floats, not strings): else 400."""
    if (not isinstance(value, list) or len(value) != ELEMENTS
            or not all(type(a) is int and a in ANSWERS for a in value)):
        raise ApiError("invalid_field", t("error.detail.survey_answers"))
    return list(value)


def check_profile(value: Any) -> dict[str, str] | None:
    """The optional respondent profile: only its known fields, each one of its choices; empty
    or left-out fields are no answer. None when nothing is given."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError("invalid_field", t("error.detail.survey_profile", field="profile"))
    out: dict[str, str] = {}
    for name, choice in value.items():
        if name not in PROFILE:
            raise ApiError("unknown_field", f"profile.{str(name)[:40]}")
        if choice is None or choice == "":
            continue
        if not isinstance(choice, str) or choice not in profile_values(name):
            where = "profile." + name
            raise ApiError("invalid_field", t("error.detail.survey_profile", field=where))
        out[name] = choice
    return out or None


async def survey_body(request: Request, schema: dict[str, Field]) -> dict[str, Any]:
    """The request's survey body, checked: `answers` (nine 1..4), `profile` (optional)."""
    data = validate(await read_json(request, MAX_SURVEY_BODY), schema)
    data["answers"] = check_answers(data["answers"])
    data["profile"] = check_profile(data.get("profile"))
    return data


async def answer_by_link(request: Request) -> JSONResponse:
    """POST {status_url}/survey and /api/tickets/{day}/{code}/{key}/survey: 201
    `{"ok": true, "ticket", "day", "event_id"}`. Per client rate-limited (429); a wrong link or
    unknown ticket 404 `unknown_ticket` (as the status page); a ticket not served 409
    `not_served`; a second answer 409 `already_rated`; a bad body 400 (413 when too large)."""
    c = ctx(request)
    await ratelimit.enforce(request, c, "survey", c.settings.survey_rate)
    day, code = ticket_link(request)
    data = await survey_body(request, SCHEMA)
    saved = await c.store.rate(day, code, data["answers"], data["profile"], via=VIA_STATUS)
    return JSONResponse({"ok": True, **saved}, status_code=201)


async def pending(c: Context, counter: int) -> dict[str, Any]:
    """What the counter's tablet offers: `{"counter", "ticket": {"code", "day", "service",
    "service_name", "finished_ms"} | null, "window_minutes"}` - the ticket that counter finished
    last, if no one answered its survey yet and it finished within the window."""
    found = await c.store.survey_pending(counter, c.settings.survey_minutes * 60_000)
    if found is not None:
        service = c.site.service(found["service"])
        found["service_name"] = service.name if service else found["service"]
    return {"counter": counter, "ticket": found, "window_minutes": c.settings.survey_minutes}


async def answer_at_counter(c: Context, counter: int, data: Any) -> dict[str, Any]:
    """Record the answers `data` (parsed JSON: `ticket`, `day`?, `answers`, `profile`) for
    the ticket (of today, or of `day`: the one `pending` named, just before midnight) that
    `counter` finished within the window: `{"ok": true, ...}`; 409 `not_served` for
    a ticket not finished there, `survey_expired` past the window, `already_rated`."""
    fields = validate(data, COUNTER_SCHEMA)
    answers = check_answers(fields["answers"])
    profile = check_profile(fields.get("profile"))
    saved = await c.store.rate(fields.get("day") or c.store.today(), fields["ticket"], answers,
                               profile,
                               via=VIA_COUNTER, counter=counter,
                               window_ms=c.settings.survey_minutes * 60_000)
    return {"ok": True, **saved}


async def counter_pending(request: Request) -> JSONResponse:
    """GET /api/counters/{n}/survey (the counter's token): see `pending`."""
    number = authorize(request)
    return JSONResponse(await pending(ctx(request), number),
                        headers={"Cache-Control": "no-store"})


async def counter_answer(request: Request) -> JSONResponse:
    """POST /api/counters/{n}/survey (the counter's token): see `answer_at_counter`; 201."""
    number = authorize(request)
    data = await read_json(request, MAX_SURVEY_BODY)
    return JSONResponse(await answer_at_counter(ctx(request), number, data), status_code=201)


async def survey_questions(request: Request) -> JSONResponse:
    """GET /api/survey: the questions, their answers and the profile's choices."""
    return JSONResponse(questions(), headers={"Cache-Control": "public, max-age=300"})


routes = [
    Route("/api/survey", survey_questions),
    Route("/t/{day}/{code}/{key}/survey", answer_by_link, methods=["POST"]),
    Route("/api/tickets/{day}/{code}/{key}/survey", answer_by_link, methods=["POST"]),
    Route("/api/counters/{n}/survey", counter_pending, methods=["GET"]),
    Route("/api/counters/{n}/survey", counter_answer, methods=["POST"]),
]
