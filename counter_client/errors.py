"""Typed errors of the counter API: one class per kind of answer, each with the server's code
and message (in Bahasa Indonesia, ready to show the officer)."""

from __future__ import annotations


class CounterError(Exception):
    """An action or query the server refused, or could not be asked.

    `code` is the contract's error code (e.g. `no_current_ticket`), `message` the text the
    server wrote for people, `status` the HTTP status (None when no answer came).
    """

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        self.code = code
        self.message = message
        self.status = status
        super().__init__(message)


class InvalidRequest(CounterError):
    """400 / 413 / 415: the request itself was wrong (a bug of the caller or bad input)."""


class Unauthorized(CounterError):
    """401: no token, or a token of no counter of this site."""


class Forbidden(CounterError):
    """403: the token belongs to another counter."""


class NotFound(CounterError):
    """404: unknown counter, service or ticket."""


class Conflict(CounterError):
    """409: the action does not fit the counter's state (e.g. done with nothing called)."""


class ServerError(CounterError):
    """500 and other unexpected answers of an antrian server; not retried."""


class Unavailable(CounterError):
    """No answer (connection refused, timeout, link lost) or 429/502/503/504, still so after the
    client's retries. The action may or may not have been applied: send it again with the same
    `request_id` to find out — the server applies it at most once."""


class NotAntrian(CounterError):
    """The answer does not follow the antrian contract: the URL is not an antrian server."""


BY_STATUS: dict[int, type[CounterError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: InvalidRequest,
    415: InvalidRequest,
    429: Unavailable,
    500: ServerError,
    502: Unavailable,
    503: Unavailable,
    504: Unavailable,
}
