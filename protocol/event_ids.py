"""Ids of the site's events stream ("<ms>-<seq>", Redis stream ids): the pattern and the order."""

from __future__ import annotations

import re

EVENT_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")  # used with fullmatch


MAX_PART = 2**64 - 1  # Redis stream ids are two unsigned 64-bit integers


def is_event_id(value: object) -> bool:
    """True for "<ms>-<seq>" with both parts within what Redis can hold."""
    if not isinstance(value, str) or EVENT_ID.fullmatch(value) is None:
        return False
    ms, seq = value.split("-")
    return int(ms) <= MAX_PART and int(seq) <= MAX_PART


def event_key(event_id: str) -> tuple[int, int]:
    """Sort key of an event id; raises ValueError for anything that is not one."""
    if not is_event_id(event_id):
        raise ValueError(f"bad event id {event_id!r}: expected digits-digits")
    ms, seq = event_id.split("-")
    return int(ms), int(seq)
