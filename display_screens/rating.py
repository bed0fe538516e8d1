"""The counter's survey tablet, `/rating/{n}`, facing the visitor: signed in with the counter's
token into its own session (console_auth.rating_scope), it offers the survey (static/survey.js,
static/rating.js) for the ticket the counter just finished, and resets itself after a timeout.
Its two JSON routes run the counter survey API's rules behind the tablet's session (and CSRF for
the answer)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from display_screens import console_auth
from display_screens.pages import error_page, render, sign_in_page
from display_server import api, survey_api, survey_questions
from display_server.bodies import read_json
from display_server.errors import ApiError
from texts import t

# seconds, as `?idle=` and `?thanks=` may set them (a test, a slower or quicker venue):
# (default, lowest, highest)
IDLE_SECONDS = (60.0, 1.0, 600.0)  # back to idle without a touch
THANKS_SECONDS = (8.0, 0.5, 60.0)  # after the thank-you
SECONDS = re.compile(r"[0-9]{1,4}(\.[0-9]{1,2})?")
POLL_MS = 5000


def _seconds(request: Request, name: str, bounds: tuple[float, float, float]) -> float:
    """A timeout from the query string in seconds (e.g. 0.5), kept within its bounds."""
    default, low, high = bounds
    raw = request.query_params.get(name, "")
    return min(high, max(low, float(raw))) if SECONDS.fullmatch(raw) else default


def _timeouts(request: Request) -> str:
    """The request's well-formed `idle` and `thanks` as a query string ("" without them): kept
    across the sign-in, so a tablet set up with `/rating/5?idle=30` stays so."""
    keep = {name: value for name in ("idle", "thanks")
            if SECONDS.fullmatch(value := request.query_params.get(name, ""))}
    return urlencode(keep)


async def login(request: Request) -> Response:
    """POST /rating/{n}/login[?idle=&thanks=] (form: token, csrf): console_auth.rating_login,
    back to the tablet with its timeouts."""
    response = await console_auth.rating_login(request)
    location, keep = response.headers.get("location", ""), _timeouts(request)
    if response.status_code == 303 and keep and "?" not in location:
        response.headers["location"] = f"{location}?{keep}"
    return response


async def rating_page(request: Request) -> Response:
    """GET /rating/{n}[?idle=60&thanks=8]: the tablet, or its sign-in form (counter token)."""
    try:
        number = api.path_counter(request)
    except ApiError as exc:
        return error_page(request, exc)
    c = api.ctx(request)
    counter = c.site.counter(number)
    assert counter is not None
    signed_in = await console_auth.session(request, console_auth.rating_scope(number))
    if signed_in is None:
        return sign_in_page(request, {
            "title": t("rating.title"), "heading": counter.name,
            "action": f"/rating/{number}/login" + (f"?{keep}" if (keep := _timeouts(request))
                                                   else ""),
            "intro": t("rating.login_intro"),
            "label": t("console.token"), "bad_token": t("console.bad_token")})
    return render(request, "rating.html", {
        "counter": counter,
        "survey": survey_questions.questions(),
        "config": {
            "counter": number,
            "services": list(counter.services),
            "csrf": signed_in.csrf,
            "idle_ms": int(_seconds(request, "idle", IDLE_SECONDS) * 1000),
            "thanks_ms": int(_seconds(request, "thanks", THANKS_SECONDS) * 1000),
            "poll_ms": POLL_MS,
        },
    })


async def pending(request: Request) -> Response:
    """GET /rating/{n}/survey: as `GET /api/counters/{n}/survey` (`"ticket"`: the one the
    counter finished last and not yet rated, or null), behind the tablet's session."""
    number = api.path_counter(request)
    await console_auth.require(request, console_auth.rating_scope(number), None)
    return JSONResponse(await survey_api.pending(api.ctx(request), number),
                        headers={"Cache-Control": "no-store"})


async def answer(request: Request) -> Response:
    """POST /rating/{n}/survey `{"ticket", "answers", "profile"}`: the visitor's answers, as
    `POST /api/counters/{n}/survey` takes them (the tablet's session and CSRF token)."""
    number = api.path_counter(request)
    await console_auth.require(request, console_auth.rating_scope(number),
                               request.headers.get("x-csrf-token", ""))
    data = await read_json(request, survey_api.MAX_SURVEY_BODY)
    result = await survey_api.answer_at_counter(api.ctx(request), number, data)
    return JSONResponse(result, status_code=201)


routes: list[BaseRoute] = [
    Route("/rating/{n}", rating_page),
    Route("/rating/{n}/login", login, methods=["POST"]),
    Route("/rating/{n}/survey", pending),
    Route("/rating/{n}/survey", answer, methods=["POST"]),
]
