"""Officer counter client: async API client and terminal app."""

from counter_client.client import Client
from counter_client.errors import (
    Conflict,
    CounterError,
    Forbidden,
    InvalidRequest,
    NotAntrian,
    NotFound,
    ServerError,
    Unauthorized,
    Unavailable,
)
from counter_client.models import ActionResult, Press, Snapshot, Ticket, WaitingTicket

__all__ = [
    "ActionResult",
    "Client",
    "Conflict",
    "CounterError",
    "Forbidden",
    "InvalidRequest",
    "NotAntrian",
    "NotFound",
    "Press",
    "ServerError",
    "Snapshot",
    "Ticket",
    "Unauthorized",
    "Unavailable",
    "WaitingTicket",
]
