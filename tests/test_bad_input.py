"""Malformed and hostile input: each gets a 4xx with the contract's error body, and the queue's
state does not change."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api, site_keys

JSON = {"Content-Type": "application/json"}

# (method, path, raw body or None, counter whose token to send or None, status, error code)
CASES: list[tuple[str, str, Any, int | None, int, str]] = [
    ("POST", "/api/tickets", b"{not json", None, 400, "invalid_json"),
    ("POST", "/api/tickets", b"\xff\xfe\x00", None, 400, "invalid_json"),
    ("POST", "/api/tickets", b"[1, 2]", None, 400, "invalid_body"),
    ("POST", "/api/tickets", b'"A"', None, 400, "invalid_body"),
    ("POST", "/api/tickets", b"{}", None, 400, "missing_field"),
    ("POST", "/api/tickets", b'{"service": 1}', None, 400, "invalid_field"),
    ("POST", "/api/tickets", b'{"service": true}', None, 400, "invalid_field"),
    ("POST", "/api/tickets", b'{"service": ["A"]}', None, 400, "invalid_field"),
    ("POST", "/api/tickets", b'{"service": "A", "admin": true}', None, 400, "unknown_field"),
    ("POST", "/api/tickets", b'{"service": "AAAAAAAA"}', None, 400, "invalid_field"),
    ("POST", "/api/tickets", b'{"service": "X"}', None, 404, "unknown_service"),
    ("POST", "/api/tickets", b'{"service": "<script>"}', None, 400, "invalid_field"),
    ("POST", "/api/tickets", b'{"service": "A", "request_id": "a b"}', None, 400,
     "invalid_field"),
    ("POST", "/api/tickets", b'{"service": "A", "request_id": ""}', None, 400, "invalid_field"),
    ("POST", "/api/tickets", b'{"service": "A", "request_id": "r1\\n"}', None, 400,
     "invalid_field"),
    ("POST", "/api/tickets", b'{"service": "A", "priority": "raja"}', None, 400,
     "invalid_field"),
    ("POST", "/api/tickets", b"[" * 100_000 + b"]" * 100_000, None, 413, "payload_too_large"),
    ("POST", "/api/tickets", b'{"service": "A", "x": "' + b"a" * 70_000 + b'"}', None, 413,
     "payload_too_large"),
    ("POST", "/api/tickets", b"[" * 5000 + b"]" * 5000, None, 400, "invalid_json"),
    ("GET", "/api/tickets", None, None, 405, "method_not_allowed"),
    ("GET", "/api/nothing-here", None, None, 404, "not_found"),
    ("POST", "/api/counters/1/call-next", None, None, 401, "unauthorized"),
    ("POST", "/api/counters/1/call-next", None, 2, 403, "forbidden"),
    ("POST", "/api/counters/99/call-next", None, 1, 404, "unknown_counter"),
    ("POST", "/api/counters/-1/call-next", None, 1, 404, "unknown_counter"),
    ("POST", "/api/counters/abc/call-next", None, 1, 404, "unknown_counter"),
    ("POST", "/api/counters/99999999999999999999/call-next", None, 1, 404, "unknown_counter"),
    ("POST", "/api/counters/1/call-next", b'{"request_id": 5}', 1, 400, "invalid_field"),
    ("POST", "/api/counters/1/call-next", b'{"request_id": "' + b"r" * 200 + b'"}', 1, 400,
     "invalid_field"),
    ("POST", "/api/counters/1/call-next", b'{"force": true}', 1, 400, "unknown_field"),
    ("POST", "/api/counters/1/done", None, 1, 409, "no_current_ticket"),
    ("POST", "/api/counters/1/done", b'{"outcome": "great"}', 1, 400, "invalid_field"),
    ("POST", "/api/counters/1/skip", None, 1, 409, "no_current_ticket"),
    ("POST", "/api/counters/1/recall", None, 1, 409, "no_current_ticket"),
    ("POST", "/api/counters/1/transfer", b'{"service": "B"}', 1, 409, "no_current_ticket"),
    ("POST", "/api/counters/1/transfer", b"{}", 1, 400, "missing_field"),
    ("POST", "/api/counters/1/transfer", b'{"service": "Q"}', 1, 404, "unknown_service"),
    ("POST", "/api/counters/1/resume", None, 1, 409, "counter_not_paused"),
    ("POST", "/api/counters/1/restore", b'{"ticket": "A005"}', 1, 404, "unknown_ticket"),
    ("POST", "/api/counters/1/restore", b'{"ticket": "A001"}', 1, 409, "ticket_not_skipped"),
    ("POST", "/api/counters/1/restore", b'{"ticket": "DROP TABLE"}', 1, 400, "invalid_field"),
    ("POST", "/api/counters/1/call", b'{"ticket": "A999"}', 1, 404, "unknown_ticket"),
    ("POST", "/api/counters/1/call", b'{"ticket": -1}', 1, 400, "invalid_field"),
    ("POST", "/api/counters/1/call", b'{"ticket": "A001\\n"}', 1, 400, "invalid_field"),
    ("POST", "/api/counters/1/pause", b'{"reason": 12}', 1, 400, "invalid_field"),
    ("GET", "/api/tickets/2026-13-45/A001/" + "0" * 24, None, None, 404, "unknown_ticket"),
    ("GET", "/api/tickets/2026-11-25/a001/\u00e9", None, None, 404, "unknown_ticket"),
    ("GET", "/api/state?services=A,NOPE", None, None, 400, "invalid_parameter"),
    ("GET", "/api/state?profile=nope", None, None, 400, "invalid_parameter"),
    # crafted input: Unicode digits, huge integers, lone surrogates, ids Redis cannot hold
    ("POST", "/api/counters/\u00b2/call-next", None, 1, 404, "unknown_counter"),
    ("POST", "/api/counters/\u2460/call-next", None, 1, 404, "unknown_counter"),
    ("POST", "/api/counters/\uff11/call-next", None, 1, 404, "unknown_counter"),
    ("POST", "/api/tickets", b'{"service": "A", "n": ' + b"9" * 5000 + b"}", None, 400,
     "invalid_json"),
    ("POST", "/api/tickets", b'{"service": ' + b"1" * 5000 + b"}", None, 400, "invalid_json"),
    ("POST", "/api/tickets", b'{"service": NaN}', None, 400, "invalid_json"),
    ("POST", "/api/tickets", b'{"service": "A\\ud800"}', None, 400, "invalid_json"),
    ("POST", "/api/tickets", b'{"\\udfff": "A"}', None, 400, "invalid_json"),
    ("POST", "/api/counters/1/pause", b'{"reason": "\\ud83d"}', 1, 400, "invalid_json"),
    ("POST", "/api/played", b'{"event_id": "18446744073709551616-0", "screen": "tv"}', None,
     400, "invalid_field"),
    ("POST", "/api/played", b'{"event_id": "1-99999999999999999999", "screen": "tv"}', None,
     400, "invalid_field"),
    ("GET", "/audio/calls/99999999999999999999-0.wav", None, None, 400, "invalid_parameter"),
    ("POST", "/api/played", b'{"event_id": "x", "screen": "tv"}', None, 400, "invalid_field"),
    ("POST", "/api/played", b'{"event_id": "1-0", "screen": "<b>"}', None, 400,
     "invalid_field"),
]


def state_of(api: Api, redis_url: str) -> dict[str, Any]:
    return site_keys(redis_url, api.site.id)


@pytest.mark.parametrize(("method", "path", "raw", "counter", "status", "code"), CASES,
                         ids=[f"{c[0]} {c[1][:40]} {str(c[2])[:30]}" for c in CASES])
def test_bad_request_is_a_4xx_with_error_body_and_changes_nothing(
    api: Api, redis_url: str, method: str, path: str, raw: Any, counter: int | None,
    status: int, code: str
) -> None:
    """Each malformed request is answered with its status and error code; Redis is unchanged."""
    api.issue("A")
    before = state_of(api, redis_url)
    headers = dict(JSON)
    if counter is not None:
        headers.update(api.auth(counter))
    r = api.client.request(method, path, content=raw, headers=headers)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["message"]
    assert "Traceback" not in r.text
    assert state_of(api, redis_url) == before


def test_unicode_digits_in_content_length_are_a_4xx(api: Api) -> None:
    """A Content-Length written with a superscript digit is refused, not a 500."""
    r = api.client.post("/api/tickets", content=b'{"service": "A"}',
                        headers={**JSON, "Content-Length": "\u00b2".encode("latin-1")})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_parameter"


def test_wrong_content_type_is_415(api: Api) -> None:
    """A form-encoded body is refused with 415."""
    r = api.client.post("/api/tickets", content=b"service=A",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"


def test_chunked_body_past_the_cap_is_413(api: Api) -> None:
    """A body without Content-Length is still cut at 64 KB."""

    def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1024

    r = api.client.post("/api/tickets", content=chunks(), headers=JSON)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
