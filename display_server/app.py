"""The Starlette application: routes, error bodies, the Redis pools and the per-process events
follower (supervised)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from redis.exceptions import (
    ClusterDownError,
    MasterDownError,
    ReadOnlyError,
    RedisError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from display_server import (
    action_log,
    api,
    complaints_api,
    instruments,
    live_config,
    metrics,
    screens,
    survey_api,
    ws,
)
from display_server.api import Context
from display_server.archive import db
from display_server.archive.archiver import Archiver
from display_server.clock import Clock, system_clock
from display_server.config import SiteConfig
from display_server.errors import ApiError
from display_server.fanout import Fanout
from display_server.reporting import months
from display_server.settings import Settings
from display_server.store import Store, connect
from display_server.tokens import TokenBook, load_secret

log = logging.getLogger("antrian.app")
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
START_WAIT_S = 3.0  # how long a start waits for the events follower's first read


def _answer(request: Request, error: ApiError) -> Response:
    """The contract's JSON body; a browser's page address (Accept: text/html, not /api/...)
    gets the error page instead, when the app has one (`app.state.error_page`)."""
    page = getattr(request.app.state, "error_page", None)
    if (page is not None and not request.url.path.startswith("/api/")
            and "text/html" in request.headers.get("accept", "")):
        with contextlib.suppress(Exception):  # no page (e.g. before start-up): the JSON
            answer: Response = page(request, error)
            return answer
    return error.response()


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _answer(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code)
    if code is None:
        body = {"error": {"code": f"http_{exc.status_code}", "message": str(exc.detail)}}
        return JSONResponse(body, status_code=exc.status_code)
    return _answer(request, ApiError(code))


async def _redis_down(request: Request, exc: Exception) -> Response:
    log.warning("Redis unavailable: %s", exc)
    instruments.of(request.app).redis_error("unavailable")
    return ApiError("redis_unavailable").response()


# Replies of a Redis in the middle of a failover: the node this process reached is a replica
# now, or its primary is not serving yet. The request can be sent again (same request_id) in
# a moment, so the answer is 503 redis_unavailable, as for a Redis that is down, not a 500.
FAILOVER_ERRORS = (ReadOnlyError, MasterDownError, ClusterDownError, TryAgainError)
# (redis-py takes a reply's ERR off its message: WAIT on a replica is "WAIT cannot be used ...")
# redis-py drops the "ERR " of a generic error reply, so these start the message as it is seen
FAILOVER_REPLIES = ("MASTERDOWN", "UNBLOCKED", "NOREPLICAS", "WAIT cannot be used with replica")


def in_failover(exc: BaseException) -> bool:
    """True when `exc` is a Redis reply that a failover in progress explains."""
    return isinstance(exc, FAILOVER_ERRORS) or str(exc).startswith(FAILOVER_REPLIES)


async def _redis_error(request: Request, exc: Exception) -> Response:
    if in_failover(exc):
        return await _redis_down(request, exc)
    log.error("Redis error on %s: %s", request.url.path, exc)
    instruments.of(request.app).redis_error("error")
    return ApiError("internal").response()


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return ApiError("internal").response()


def create_app(site: SiteConfig, redis_url: str, data_dir: Path, *,
               clock: Clock = system_clock, extra_routes: Sequence[BaseRoute] = (),
               on_close: Sequence[Callable[[], None]] = (),
               settings: Settings | None = None, database_url: str | None = None) -> Starlette:
    """Build the app for one site, with `extra_routes` of the packages above the core and
    `on_close` called when it stops. Redis is connected lazily: the app starts (and answers 503)
    while Redis is down, and recovers by itself when it is back. With `database_url` (migrated
    already), the process also runs the archiver of the events stream."""
    secret = load_secret(data_dir, site.secret)
    tokens = TokenBook(secret, site.id, [c.number for c in site.counters])
    settings = settings or Settings()
    measured = instruments.Instruments()  # this process's own figures for GET /metrics

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        redis = connect(redis_url, pool_size=settings.redis_pool_size,
                        pool_timeout=settings.redis_pool_timeout_s)
        # the follower blocks on XREAD: its own client, one connection (two while reconnecting)
        follower = connect(redis_url, pool_size=2, pool_timeout=settings.redis_pool_timeout_s,
                           retries=-1)
        store = Store(redis, site, clock, settings.stream_maxlen)
        fanout = Fanout(Store(follower, site, clock, settings.stream_maxlen), site, clock,
                        heartbeat_s=settings.heartbeat_s,
                        max_buffer=settings.fanout_buffer_bytes)
        fanout.on_call = measured.call_broadcast
        archive = None if database_url is None else db.engine(database_url)
        # the archiver blocks on XREADGROUP too: its own client
        reader = connect(redis_url, pool_size=2, pool_timeout=settings.redis_pool_timeout_s,
                         retries=-1)
        archiver = None if archive is None else Archiver(reader, site, archive, clock,
                                                          after_close=months.store_closed)
        app.state.ctx = Context(site, store, tokens, clock, settings, fanout, data_dir,
                                archiver)
        live = app.state.live = live_config.Live(site)  # the office's settings, over the TOML
        fanout.on_settings = lambda: live.reload(app.state.ctx)
        with contextlib.suppress(RedisError, OSError):  # Redis down: the follower loads them
            await live.reload(app.state.ctx)
        tasks = [asyncio.create_task(fanout.supervise()), asyncio.create_task(fanout.beat()),
                 asyncio.create_task(metrics.publish_forever(app))]
        if archiver is not None:
            tasks.append(asyncio.create_task(archiver.run()))
        # serve once this process follows the events stream, so that its screens miss nothing
        # and its first health check says "ok"; a Redis that is down does not hold the start
        await fanout.wait_following(START_WAIT_S)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for close in on_close:
                close()
            await redis.aclose()
            await follower.aclose()
            await reader.aclose()
            if archive is not None:
                archive.dispose()

    app = Starlette(
        routes=[*api.routes, *survey_api.routes, *screens.routes, *ws.routes,
                *complaints_api.routes, *metrics.routes, *live_config.routes, *extra_routes],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            RedisConnectionError: _redis_down,
            RedisTimeoutError: _redis_down,
            RedisError: _redis_error,
            Exception: _crash,
        },
        lifespan=lifespan,
    )
    app.state.instruments = measured
    app.add_middleware(action_log.ActionLog)  # a log line per counter action, X-Request-ID
    return app
