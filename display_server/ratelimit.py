"""Per-client request limits: a fixed-window counter in Redis, shared by every worker process,
that the kiosk token skips.

A small counter rather than a library (`limits` has an async Redis storage): it runs on the
app's own bounded, retrying connection pool and under the site's `{site}` hash tag, in one
MULTI/EXEC round trip (INCR + EXPIRE), where `limits` would open a second pool of its own.
"""

from __future__ import annotations

import ipaddress
import math
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import JSONResponse

from display_server.errors import ApiError
from display_server.keys import SiteKeys
from display_server.settings import Rate
from texts import t

if TYPE_CHECKING:
    from display_server.api import Context


class RateLimited(ApiError):
    """429 `rate_limited`, answered with `Retry-After` (whole seconds)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("rate_limited", f"tunggu {retry_after} detik")
        self.retry_after = retry_after

    def response(self) -> JSONResponse:
        response = super().response()
        response.headers["Retry-After"] = str(self.retry_after)
        return response


def client_key(host: str) -> str:
    """Whom a request counts against: its address, or the /64 network of an IPv6 address (one
    IPv6 client usually holds a whole /64)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


async def count(redis: Redis, keys: SiteKeys, scope: str, client: str, rate: Rate,
                now: float) -> int:
    """Count one request of `client` in the current window of `scope`: the seconds until the
    next window when this one is past `rate`, else 0."""
    window = int(now // rate.seconds)
    window_key = keys("ratelimit", scope, client, window)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(window_key)
        pipe.expire(window_key, rate.seconds + 1)
        used, _ = await pipe.execute()
    if int(used) <= rate.count:
        return 0
    return max(1, math.ceil((window + 1) * rate.seconds - now))


async def enforce(request: Request, c: Context, scope: str, rate: Rate) -> None:
    """Let the request through if it carries the kiosk token or its client is within `rate` for
    `scope`; another bearer token is 401 `unauthorized`, a client past the limit 429."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and c.tokens.is_kiosk(token.strip()):
            return
        raise ApiError("unauthorized", t("error.detail.kiosk_token"))
    client = client_key(request.client.host if request.client else "")
    retry = await count(c.store.redis, c.store.keys, scope, client, rate, c.clock().timestamp())
    if retry:
        raise RateLimited(retry)
