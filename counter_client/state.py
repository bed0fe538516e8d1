"""What the officer's screen shows, as pure state: built from the snapshot, the display events and
the answers to the officer's presses. No I/O here; the app feeds it and draws it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from counter_client.models import ActionResult, Press, Snapshot
from protocol.event_ids import event_key
from texts import N_, pause_reasons, t

OUTCOME_LOG = {"completed": N_("terminal.outcome.completed"),
               "not_completed": N_("terminal.outcome.not_completed")}

LEAVES = ("skip", "done", "transfer")  # actions after which the counter serves nobody
SKIPPED_KEPT = 9  # the skipped tickets offered for restoring: one keypad digit each


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _zone(name: str) -> tzinfo | None:
    """The site's zone, or None (this machine's) when the server names none or an unknown one."""
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass
class Current:
    """The ticket being served: its code, service, how often it was called, and since when
    (local clock, seconds since the epoch)."""

    code: str
    service: str
    calls: int
    since: float


@dataclass
class CounterView:
    number: int
    site_name: str = ""
    services: tuple[str, ...] = ()
    service_names: dict[str, str] = field(default_factory=dict)
    tenant_names: dict[str, str] = field(default_factory=dict)  # service code → its agency
    zone: tzinfo | None = None  # the site's time zone (None: this machine's)
    open_services: frozenset[str] = frozenset()
    status: str = "idle"
    reason: str | None = None
    current: Current | None = None
    waiting: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # this session's no-shows, newest first
    skew: float = 0.0  # the server's clock minus ours, in seconds
    last_id: str | None = None  # the newest event already reflected in the counter's state

    def apply_snapshot(self, snap: Snapshot, local_now: float) -> None:
        """Replace everything with the server's snapshot."""
        self.site_name = snap.site_name
        self.service_names = {s.code: s.name for s in snap.services}
        self.tenant_names = {s.code: s.tenant_name for s in snap.services}
        self.zone = _zone(snap.timezone)
        self.open_services = frozenset(s.code for s in snap.services if s.open)
        self.waiting = dict(snap.waiting)
        self.skew = _epoch(snap.now) - local_now
        self.last_id = snap.event_id
        info = snap.counter(self.number)
        if info is None:
            return
        self.services = info.services
        self.status, self.reason = info.status, info.reason
        ticket = info.ticket
        if ticket is None:
            self.current = None
        else:
            called = ticket.get("called_ms")
            since = called / 1000 - self.skew if called else local_now
            self.current = Current(ticket["code"], ticket["service"],
                                   int(ticket.get("calls") or 1), since)

    def apply_event(self, event: dict[str, Any], local_now: float) -> None:
        """Apply one display event (any counter's: waiting counts are shared)."""
        waiting = event.get("waiting")
        if isinstance(waiting, dict):
            self.waiting.update({str(k): int(v) for k, v in waiting.items()})
        if event.get("counter") != self.number or not self._newer(event.get("event_id")):
            return
        kind = event.get("type")
        at = event.get("at")
        when = _epoch(at) - self.skew if isinstance(at, str) else local_now
        if kind == "call":
            self.status = "serving"
            self.current = Current(event["ticket"], event["service"], 1, when)
        elif kind == "recall" and self.current is not None:
            self.current.calls = int(event.get("calls") or self.current.calls + 1)
        elif kind in LEAVES and self.current is not None and self.current.code == event["ticket"]:
            self.status, self.current = "idle", None
            if kind == "skip":
                self._skipped(event["ticket"])
        elif kind == "restore":
            self._skipped(event["ticket"], keep=False)
        elif kind == "pause":
            self.status, self.reason = "paused", event.get("reason")
        elif kind == "resume":
            self.status, self.reason = "idle", None

    def apply_result(self, press: Press, result: ActionResult, local_now: float) -> str:
        """Apply the answer to one of our presses; return the line for the actions log."""
        line = describe(press, result)
        if result.event_id is not None and not self._newer(result.event_id):
            return line  # the display events already told us this, or something newer
        t = result.ticket
        if press.action in ("call-next", "call"):
            if t is None:
                self.status, self.current = "idle", None
            else:
                self.status = "serving"
                self.current = Current(t.code, t.service, t.calls or 1, local_now)
        elif press.action == "recall" and t is not None and self.current is not None:
            self.current.calls = t.calls
        elif press.action in LEAVES:
            self.status, self.current = "idle", None
            if press.action == "skip" and t is not None:
                self._skipped(t.code)
        elif press.action == "restore" and press.argument:
            self._skipped(press.argument, keep=False)
        elif press.action == "pause":
            self.status, self.reason = "paused", press.argument or pause_reasons()[0]
        elif press.action == "resume":
            self.status, self.reason = "idle", None
        return line

    def site_time(self, local_now: float) -> datetime:
        """The site's local time now: the server's clock (ours corrected by the skew) in the
        site's zone."""
        return datetime.fromtimestamp(local_now + self.skew, self.zone).astimezone(self.zone)

    def served_seconds(self, local_now: float) -> int | None:
        if self.current is None:
            return None
        return max(0, int(local_now - self.current.since))

    def _skipped(self, code: str, keep: bool = True) -> None:
        """Remember a no-show (newest first), or forget it once restored."""
        if code in self.skipped:
            self.skipped.remove(code)
        if keep:
            self.skipped.insert(0, code)
            del self.skipped[SKIPPED_KEPT:]

    def _newer(self, event_id: Any) -> bool:
        """Whether `event_id` is newer than what the counter's state reflects (and remember it)."""
        if not isinstance(event_id, str):
            return True
        if self.last_id is not None and event_key(event_id) <= event_key(self.last_id):
            return False
        self.last_id = event_id
        return True


def describe(press: Press, result: ActionResult) -> str:
    """The log line of a press the server accepted."""
    ticket = result.ticket
    code = ticket.code if ticket else ""
    if press.action in ("call-next", "call"):
        return t("terminal.called", code=code) if ticket else t("terminal.nobody_waiting")
    if press.action == "recall":
        return t("terminal.recalled", code=code, calls=ticket.calls if ticket else "?")
    if press.action == "skip":
        return t("terminal.skipped", code=code)
    if press.action == "done":
        outcome = t(OUTCOME_LOG[press.argument or "completed"])
        return t("terminal.done", code=code, outcome=outcome)
    if press.action == "transfer":
        return t("terminal.transferred", code=code, service=press.argument)
    if press.action == "pause":
        return t("terminal.paused", reason=press.argument or pause_reasons()[0])
    if press.action == "resume":
        return t("terminal.resumed")
    return t("terminal.restored", code=code)
