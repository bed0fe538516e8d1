"""Async client of the counter API (httpx): one method per action, typed results and errors.

Every action carries a request id. Timeouts, lost connections and 429/502/503/504 answers are
retried with exponential backoff and jitter (tenacity), always with the same request id, so the
server applies a press at most once however often it is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt
from tenacity import wait_random_exponential as backoff

from counter_client.errors import BY_STATUS, NotAntrian, ServerError, Unavailable
from counter_client.models import ActionResult, OfficerSession, Press, Snapshot, WaitingTicket
from texts import t

T = TypeVar("T")


def check_server_url(url: str) -> str:
    """The server's base URL without a trailing slash; ValueError (Indonesian) when it is not
    an http(s) URL with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(t("terminal.bad_server_url", url=url))
    return url.strip().rstrip("/")


class Client:
    """The counter API of one counter, authenticated with its bearer token, or (after
    `sign_in`) with an officer's PIN session: then every action goes through the console's
    routes (`/counter/{n}/actions/…`), which record the officer on the event and the ticket.

    `attempts` bounds the tries of one call (the first included); when they are used up the
    call raises Unavailable and the caller may send the same Press again later.
    """

    def __init__(self, server: str, counter: int, token: str | None = None, *,
                 timeout: float = 5.0, attempts: int = 4, max_backoff: float = 2.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.server = check_server_url(server)
        self.counter = counter
        self.attempts = attempts
        self.max_backoff = max_backoff
        self.officer: OfficerSession | None = None
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(base_url=self.server, timeout=timeout,
                                       transport=transport, trust_env=False, headers=headers)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def sign_in(self, officer: str, pin: str) -> OfficerSession:
        """Sign in as an officer with a PIN (POST /counter/{n}/session), once: a wrong PIN is
        Unauthorized (`wrong_pin`), a lock Unavailable (`pin_locked`, never retried: each try
        counts), a disabled account or another counter Forbidden; each message Indonesian."""
        data = await self._once("POST", f"/counter/{self.counter}/session",
                                {"officer": officer, "pin": pin})
        signed_in = _parsed(lambda: OfficerSession.parse(data))
        self._http.headers["Authorization"] = f"Bearer {data['session']}"
        self.officer = signed_in
        return signed_in

    async def sign_out(self) -> None:
        """End the officer's session (DELETE /counter/{n}/session); nothing without one."""
        if self.officer is None:
            return
        await self._once("DELETE", f"/counter/{self.counter}/session", None)
        self.officer = None
        del self._http.headers["Authorization"]

    def _path(self, name: str, kind: str) -> str:
        """An action's or a list's path: the console's routes in an officer's session."""
        if self.officer is not None:
            return f"/counter/{self.counter}/{kind}/{name}"
        return f"/api/counters/{self.counter}/{name}"

    async def send(self, press: Press) -> ActionResult:
        """Send one press (again, if it was sent before: the server answers as the first time)."""
        data = await self._request("POST", self._path(press.action, "actions"), press.body())
        return _parsed(lambda: ActionResult.parse(data, press.request_id))

    async def call_next(self, *, request_id: str | None = None) -> ActionResult:
        """Call the next waiting visitor (closing the current ticket as completed, if any)."""
        return await self.send(_press("call-next", None, request_id))

    async def call(self, ticket: str, *, request_id: str | None = None) -> ActionResult:
        """Call a given waiting ticket of this counter's services."""
        return await self.send(_press("call", ticket, request_id))

    async def recall(self, *, request_id: str | None = None) -> ActionResult:
        return await self.send(_press("recall", None, request_id))

    async def skip(self, *, request_id: str | None = None) -> ActionResult:
        """The visitor did not come: the current ticket becomes a no-show."""
        return await self.send(_press("skip", None, request_id))

    async def done(self, outcome: str = "completed", *,
                   request_id: str | None = None) -> ActionResult:
        """Close the current ticket as served, `completed` or `not_completed`."""
        return await self.send(_press("done", outcome, request_id))

    async def transfer(self, service: str, *, request_id: str | None = None) -> ActionResult:
        """Move the current ticket to the queue of `service`, keeping its arrival time."""
        return await self.send(_press("transfer", service, request_id))

    async def pause(self, reason: str | None = None, *,
                    request_id: str | None = None) -> ActionResult:
        return await self.send(_press("pause", reason, request_id))

    async def resume(self, *, request_id: str | None = None) -> ActionResult:
        return await self.send(_press("resume", None, request_id))

    async def restore(self, ticket: str, *, request_id: str | None = None) -> ActionResult:
        """Put a skipped ticket back at the front of its queue (within the grace window)."""
        return await self.send(_press("restore", ticket, request_id))

    async def waiting(self) -> list[WaitingTicket]:
        """The waiting tickets of this counter's services, in calling order. Also the cheapest
        check that the counter exists and the token is its own (404 / 401 / 403)."""
        data = await self._request("GET", self._path("waiting", "tickets"))
        return _parsed(lambda: [WaitingTicket.parse(t) for t in data["tickets"]])

    async def state(self) -> Snapshot:
        data = await self._request("GET", "/api/state")
        return _parsed(lambda: Snapshot.parse(data))

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(Unavailable),
            wait=backoff(multiplier=0.1, max=self.max_backoff),
            stop=stop_after_attempt(self.attempts),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(method, path, body)
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def _once(self, method: str, path: str, body: Any) -> Any:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.TimeoutException as exc:
            raise Unavailable("timeout", t("terminal.timeout", server=self.server)) from exc
        except httpx.TransportError as exc:
            raise Unavailable("unreachable",
                              t("terminal.unreachable", server=self.server)) from exc
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if response.is_success and isinstance(data, dict):
            return data
        error = data.get("error") if isinstance(data, dict) else None
        kind = BY_STATUS.get(response.status_code, ServerError)
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            raise kind(error["code"], str(error.get("message") or error["code"]),
                       response.status_code)
        if kind is Unavailable:  # e.g. a reverse proxy's 502 page while the server restarts
            raise Unavailable(f"http_{response.status_code}",
                              t("terminal.unreachable", server=self.server), response.status_code)
        raise NotAntrian("not_antrian", t("terminal.not_antrian", server=self.server),
                         response.status_code)


def _press(action: str, argument: str | None, request_id: str | None) -> Press:
    return Press(action, argument) if request_id is None else Press(action, argument, request_id)


def _parsed(parse: Callable[[], T]) -> T:
    """Run a model parser; an answer of the wrong shape means the server is not antrian."""
    try:
        return parse()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise NotAntrian("not_antrian", t("terminal.not_antrian_shape")) from exc
