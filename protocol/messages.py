"""The type names of the display WebSocket's messages (`{"type": ...}`), both ways."""

from __future__ import annotations

# server → client
SNAPSHOT = "snapshot"  # the whole state; with "resync": true when missed events were too old
HEARTBEAT = "heartbeat"  # every few seconds; "event_id" of the last event sent on this link
PONG = "pong"  # the answer to a ping
ERROR = "error"  # {"error": {"code", "message"}} about something the client sent
EVENTS = frozenset({"ticket", "call", "recall", "skip", "restore", "done", "transfer", "pause",
                    "resume", "settings"})  # one per change, each with "event_id" and "at"

# client → server
PING = "ping"
PLAYED = "played"  # {"event_id", "screen"}: an announcement this screen played
