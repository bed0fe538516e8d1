"""Request bodies: size cap, JSON parsing and a small field schema, each failure an ApiError."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from display_server.errors import ApiError
from texts import t

MAX_BODY = 64 * 1024
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # used with fullmatch
DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII digits only: str.isdigit() also takes "²" and "①"
MAX_INT_DIGITS = 18  # JSON integers past this are refused before Python converts them


@dataclass(frozen=True)
class Field:
    """One accepted body field: its type, whether it is required, its allowed values/pattern."""

    kind: type
    required: bool = False
    choices: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    max_length: int = 200
    check: Callable[[str], bool] | None = None  # a further test of a string value


REQUEST_ID_FIELD = Field(str, pattern=REQUEST_ID, max_length=128)


async def read_json(request: Request, limit: int = MAX_BODY) -> Any:
    """The parsed JSON body (None when empty); 413 past `limit`, 400 when not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not DIGITS.fullmatch(declared):
            raise ApiError("invalid_parameter", "Content-Length")
        if int(declared) > limit:
            raise ApiError("payload_too_large", t("error.detail.max_kb", kb=limit // 1024))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError("payload_too_large", t("error.detail.max_kb", kb=limit // 1024))
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return None
    content_type = request.headers.get("content-type", "application/json")
    if "json" not in content_type:
        raise ApiError("unsupported_media_type")
    return parse_json(raw)


def parse_json(raw: str | bytes) -> Any:
    """JSON text parsed, or ApiError("invalid_json"): also for integers past MAX_INT_DIGITS,
    NaN/Infinity and strings with lone surrogates ("\\ud800"), which no one can store or show."""
    try:
        data = json.loads(raw, parse_int=_bounded_int, parse_constant=_no_constant)
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError):
        raise ApiError("invalid_json") from None
    return data


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("integer too long")
    return int(text)


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not JSON")


def validate(data: Any, schema: dict[str, Field]) -> dict[str, Any]:
    """Check a parsed body against `schema`; unknown, missing or wrongly typed fields are 400."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ApiError("invalid_body")
    for name in data:
        if name not in schema:
            raise ApiError("unknown_field", str(name)[:40])
    out: dict[str, Any] = {}
    for name, spec in schema.items():
        if name not in data or data[name] is None:
            if spec.required:
                raise ApiError("missing_field", name)
            continue
        value = data[name]
        if (isinstance(value, bool) and spec.kind is not bool) or not isinstance(value, spec.kind):
            raise ApiError("invalid_field",
                           t("error.detail.must_be", field=name, kind=spec.kind.__name__))
        if isinstance(value, str):
            if not value.strip() or len(value) > spec.max_length:
                raise ApiError("invalid_field", t("error.detail.bad_length", field=name))
            if spec.choices and value not in spec.choices:
                raise ApiError("invalid_field", t("error.detail.choose", field=name,
                                                  choices=", ".join(spec.choices)))
            if spec.pattern is not None and not spec.pattern.fullmatch(value):
                raise ApiError("invalid_field", name)
            if spec.check is not None and not spec.check(value):
                raise ApiError("invalid_field", name)
        out[name] = value
    return out


async def body(request: Request, schema: dict[str, Field]) -> dict[str, Any]:
    """Read and validate a JSON body in one step."""
    return validate(await read_json(request), schema)
