"""Ids of the site's events stream ("<ms>-<seq>", Redis stream ids): the pattern and the order."""

from __future__ import annotations

import re

EVENT_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")  # used with fullmatch


def is_event_id(value: object) -> bool:
    return isinstance(value, str) and EVENT_ID.fullmatch(value) is not None


def event_key(event_id: str) -> tuple[int, int]:
    """Sort key of an event id; raises ValueError for anything that is not one."""
    if not is_event_id(event_id):
        raise ValueError(f"bad event id {event_id!r}: expected digits-digits")
    ms, seq = event_id.split("-")
    return int(ms), int(seq)
