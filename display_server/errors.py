"""The contract's error body, the status of each error code and the catalogue key of its text."""

from __future__ import annotations

from starlette.responses import JSONResponse

from texts import N_, t

# code -> (HTTP status, key of its message in the text catalogue)
ERRORS: dict[str, tuple[int, str]] = {
    "invalid_json": (400, N_("error.invalid_json")),
    "invalid_body": (400, N_("error.invalid_body")),
    "unknown_field": (400, N_("error.unknown_field")),
    "missing_field": (400, N_("error.missing_field")),
    "invalid_field": (400, N_("error.invalid_field")),
    "invalid_parameter": (400, N_("error.invalid_parameter")),
    "unauthorized": (401, N_("error.unauthorized")),
    "forbidden": (403, N_("error.forbidden")),
    "wrong_pin": (401, N_("officer.login.wrong_short")),
    "pin_locked": (429, N_("error.pin_locked")),
    "officer_disabled": (403, N_("officer.login.disabled")),
    "officer_not_allowed": (403, N_("error.officer_not_allowed")),
    "not_found": (404, N_("error.not_found")),
    "unknown_service": (404, N_("error.unknown_service")),
    "unknown_counter": (404, N_("error.unknown_counter")),
    "unknown_ticket": (404, N_("error.unknown_ticket")),
    "unknown_event": (404, N_("error.unknown_event")),
    "unknown_screen": (404, N_("error.unknown_screen")),
    "unknown_complaint": (404, N_("error.unknown_complaint")),
    "complaint_closed": (409, N_("error.complaint_closed")),
    "method_not_allowed": (405, N_("error.method_not_allowed")),
    "service_closed": (409, N_("error.service_closed")),
    "request_id_reused": (409, N_("error.request_id_reused")),
    "quota_reached": (409, N_("error.quota_reached")),
    "counter_paused": (409, N_("error.counter_paused")),
    "counter_not_paused": (409, N_("error.counter_not_paused")),
    "no_current_ticket": (409, N_("error.no_current_ticket")),
    "ticket_in_progress": (409, N_("error.ticket_in_progress")),
    "ticket_not_waiting": (409, N_("error.ticket_not_waiting")),
    "ticket_not_skipped": (409, N_("error.ticket_not_skipped")),
    "grace_expired": (409, N_("error.grace_expired")),
    "same_service": (409, N_("error.same_service")),
    "service_not_served": (409, N_("error.service_not_served")),
    "not_served": (409, N_("error.not_served")),
    "already_rated": (409, N_("error.already_rated")),
    "survey_expired": (409, N_("error.survey_expired")),
    "payload_too_large": (413, N_("error.payload_too_large")),
    "unsupported_media_type": (415, N_("error.unsupported_media_type")),
    "too_many_screens": (409, N_("error.too_many_screens")),
    "settings_conflict": (409, N_("error.settings_conflict")),
    "rate_limited": (429, N_("error.rate_limited")),
    "too_many_connections": (429, N_("error.too_many_connections")),
    "request_timeout": (408, N_("error.request_timeout")),
    "headers_too_large": (431, N_("error.headers_too_large")),
    # the voice studio (/admin/suara): a refused recording or pack file says why
    "recording_silent": (422, N_("studio.silent")),
    "recording_too_long": (422, N_("studio.too_long")),
    "recording_clipped": (422, N_("studio.clipped")),
    "not_audio": (422, N_("studio.not_audio")),
    "voice_pack_refused": (422, N_("studio.bad_pack")),
    "empty_draft": (409, N_("studio.empty_draft")),
    "unknown_version": (404, N_("studio.unknown_version")),
    "unknown_clip": (404, N_("studio.unknown_clip")),
    "no_voice_pack": (404, N_("studio.no_pack")),
    "internal": (500, N_("error.internal")),
    "redis_unavailable": (503, N_("error.redis_unavailable")),
    "fanout_stopped": (503, N_("error.fanout_stopped")),
}


class ApiError(Exception):
    """An error answered with the contract's body: {"error": {"code", "message"}}."""

    def __init__(self, code: str, detail: str = "", *, message: str = "") -> None:
        """`detail` follows the code's own message in brackets; `message` (a whole sentence
        for a visitor) stands instead of both, where the code's message would mislead."""
        if code not in ERRORS:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.status, key = ERRORS[code]
        base = t(key)
        self.message = message or (f"{base} ({detail})" if detail else base)
        super().__init__(self.message)

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)
