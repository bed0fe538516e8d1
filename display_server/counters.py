"""The counters' service: each action of protocol.counter_actions with its body checked and
applied in Redis, and the ticket lists a console offers. The HTTP API and the officer console
both call it, after their own check of who is asking."""

from __future__ import annotations

import re
from typing import Any

from display_server.bodies import REQUEST_ID_FIELD, Field, validate
from display_server.errors import ApiError
from display_server.store import Store
from protocol.counter_actions import ACTIONS, ARGUMENT_FIELDS, CALL, CALL_NEXT, LISTS, OUTCOMES
from texts import pause_reasons

TICKET_CODE = re.compile(r"[A-Z]{1,3}[0-9]{3,4}")  # used with fullmatch

ARGUMENTS = {  # how each argument field of ARGUMENT_FIELDS is checked
    "ticket": Field(str, required=True, pattern=TICKET_CODE, max_length=8),
    "outcome": Field(str, choices=OUTCOMES),
    "service": Field(str, required=True, max_length=3),
    "reason": Field(str, max_length=100),
}
SCHEMAS = {
    action: {"request_id": REQUEST_ID_FIELD,
             **({name: ARGUMENTS[name]} if (name := ARGUMENT_FIELDS.get(action)) else {})}
    for action in ACTIONS
}


def _default(field: str) -> str:
    """The argument an action gets when its optional field is left out."""
    return OUTCOMES[0] if field == "outcome" else pause_reasons()[0]


async def perform(store: Store, counter: int, action: str, data: Any,
                  officer: str = "") -> dict[str, Any]:
    """Run `action` at `counter` with the request body `data` (parsed JSON, checked here: 400
    for a bad field, 404 `not_found` for an unknown action, 409 for the wrong state) and return
    the answer; the same `request_id` again returns the first answer. `officer`: the id of the
    signed-in officer (a PIN session), recorded on the event and the ticket."""
    schema = SCHEMAS.get(action)
    if schema is None:
        raise ApiError("not_found")
    fields = validate(data, schema)
    request_id = fields.get("request_id")
    if action in (CALL_NEXT, CALL):
        return await store.call(counter, ticket=fields.get("ticket", ""), request_id=request_id,
                                officer=officer)
    name = ARGUMENT_FIELDS.get(action)
    argument = "" if name is None else fields.get(name) or _default(name)
    if action == "transfer" and store.site.service(argument) is None:
        raise ApiError("unknown_service", argument)
    return await store.act(counter, action, argument, request_id=request_id, officer=officer)


async def list_tickets(store: Store, counter: int, kind: str) -> dict[str, Any]:
    """The tickets a console offers at `counter`: `waiting` (to call, oldest first) or
    `skipped` (no-shows it can still put back, newest first), of its services."""
    if kind not in LISTS:
        raise ApiError("not_found")
    found = store.site.counter(counter)
    if found is None:
        raise ApiError("unknown_counter", str(counter))
    fetch = store.waiting_tickets if kind == "waiting" else store.skipped_tickets
    return {"counter": counter, "tickets": await fetch(found.services)}
