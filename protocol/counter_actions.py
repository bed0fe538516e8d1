"""The counter actions of the wire contract (`POST /api/counters/{n}/{action}`): their names, the
body field that carries each one's argument, the outcomes of `done`, the ticket lists."""

from __future__ import annotations

CALL_NEXT = "call-next"
CALL = "call"
# what acts on the counter's current ticket or state (one Lua script applies them all)
STATE_ACTIONS = ("recall", "skip", "done", "transfer", "pause", "resume", "restore")
ACTIONS = (CALL_NEXT, CALL, *STATE_ACTIONS)
ARGUMENT_FIELDS = {"call": "ticket", "done": "outcome", "transfer": "service",
                   "pause": "reason", "restore": "ticket"}
REQUIRES_ARGUMENT = ("call", "transfer", "restore")
OUTCOMES = ("completed", "not_completed")  # the first is what `done` without one means
LISTS = ("waiting", "skipped")  # GET /api/counters/{n}/{list}: tickets to call, to put back
