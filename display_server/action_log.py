"""One log line per counter action (API and console): the counter, the ticket, the action, the
request id (the `X-Request-ID` header, or one made here and sent back), the status and the
duration. `antrian serve --log-format json` writes every log record as one JSON object a line
(`JsonFormatter`, `json_log_config`); text is the default."""

from __future__ import annotations

import copy
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from protocol.counter_actions import ACTIONS

log = logging.getLogger("antrian.actions")

ACTION_PATH = re.compile(
    r"/(?:api/counters/(\d{1,6})/([a-z-]+)|counter/(\d{1,6})/actions/([a-z-]+))")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
BODY_CAP = 64 * 1024  # the bodies of actions are capped at 64 KB anyway
LOG_FORMATS = ("text", "json")


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's `X-Request-ID` when it is a plain token of at most 128 characters, else a new
    one (a hostile header never reaches the log as it came)."""
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


def ticket_of(response: bytes, request: bytes) -> str | None:
    """The ticket the action concerned: the answer's `ticket` (its code), else the request's."""
    for body in (response, request):
        try:
            data = json.loads(body) if body else None
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(data, dict):
            continue
        ticket = data.get("ticket")
        if isinstance(ticket, dict):
            ticket = ticket.get("code")
        if isinstance(ticket, str) and ticket:
            return ticket[:16]
    return None


class ActionLog:
    """ASGI middleware: logs each `POST /api/counters/{n}/{action}` and
    `POST /counter/{n}/actions/{action}` once it has answered, and sends `X-Request-ID` back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = ACTION_PATH.fullmatch(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        counter = match.group(1) or match.group(3)
        action = match.group(2) or match.group(4)
        if action not in ACTIONS:
            await self.app(scope, receive, send)
            return
        rid = request_id(scope["headers"])
        started = time.perf_counter()
        status = 500
        request_body = bytearray()
        response_body = bytearray()

        async def receive_copy() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request_body) < BODY_CAP:
                request_body.extend(message.get("body", b"")[:BODY_CAP])
            return message

        async def send_copy(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-request-id", rid.encode())]}
            elif message["type"] == "http.response.body" and len(response_body) < BODY_CAP:
                response_body.extend(message.get("body", b"")[:BODY_CAP])
            await send(message)

        try:
            await self.app(scope, receive_copy, send_copy)
        finally:
            duration = round((time.perf_counter() - started) * 1000, 1)
            fields = {"counter": int(counter), "ticket": ticket_of(bytes(response_body),
                                                                  bytes(request_body)),
                      "action": action, "request_id": rid, "status": status,
                      "duration_ms": duration}
            log.info("counter %s %s ticket=%s status=%d %.1f ms request_id=%s", counter, action,
                     fields["ticket"] or "-", status, duration, rid, extra={"fields": fields})


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time (UTC, ISO 8601), level, logger, message, and the
    record's `fields` (a counter action's) at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def json_log_config(base: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's `log_config` `base` for `--log-format json`: each of its formatters replaced by
    `JsonFormatter` (its filters kept), and the root logger (antrian's records) on stderr in
    JSON too, in the main process and in every worker."""
    config = copy.deepcopy(base)
    config["formatters"] = {name: {"()": JsonFormatter} for name in config["formatters"]}
    config["formatters"]["antrian_json"] = {"()": JsonFormatter}
    config["handlers"]["antrian_json"] = {"class": "logging.StreamHandler",
                                          "formatter": "antrian_json",
                                          "stream": "ext://sys.stderr"}
    config["root"] = {"handlers": ["antrian_json"], "level": "INFO"}
    return config
