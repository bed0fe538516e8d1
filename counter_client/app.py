"""The officer's full-screen terminal app (Textual): the current ticket and how long it has been
served, the waiting counts (live), the last actions and the state of the link to the server.

A press is sent once. While the server cannot be reached it stays pending, shown as such, and
is sent again with the same request id when the link is back — or the officer cancels it.
There is at most one press in flight: other presses meanwhile are refused, not queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception_type
from tenacity import wait_random_exponential as backoff
from textual import events
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from counter_client.client import Client
from counter_client.errors import CounterError, Unauthorized, Unavailable
from counter_client.keymap import ACTIONS, Keymap
from counter_client.models import Press, Snapshot
from counter_client.state import CounterView, Current
from protocol.counter_actions import OUTCOMES
from protocol.follower import Follower
from texts import N_, pause_reasons, t
from texts.formats import clock as short_clock
from texts.formats import clock_seconds

# catalogue keys of what the app shows for an action, a key binding, an outcome and a status
ACTION_LABELS = {
    "call-next": N_("action.call_next"), "call": N_("action.call"), "recall": N_("action.recall"),
    "skip": N_("action.skip"), "done": N_("action.done"), "transfer": N_("action.transfer"),
    "pause": N_("action.pause"), "resume": N_("action.resume"), "restore": N_("action.restore"),
}
OUTCOME_CHOICES = {"completed": N_("outcome.completed"),
                   "not_completed": N_("outcome.not_completed")}
STATUS = {"idle": N_("terminal.status.idle"), "serving": N_("terminal.status.serving"),
          "paused": N_("terminal.status.paused")}

LOG_LINES = 8


@dataclass
class Pending:
    """The press being sent; `problem` is set while it waits for the server."""

    press: Press
    worker: Worker[None] | None = None
    problem: str | None = None

    @property
    def label(self) -> str:
        return t(ACTION_LABELS[self.press.action])


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of numbered choices, keypad friendly: with up to nine a digit picks directly;
    with more, digits move to the choice of that number ("1", "2" → 12) and Enter picks it.
    ↑/↓ and Enter pick too; the cancel keys close it without choosing. `groups`, one per choice,
    puts a heading (not a choice) before each run of choices of the same group, e.g. the agency
    of a service; the numbers count choices only."""

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    #choice { width: 60; height: auto; border: thick $accent; background: $surface;
              padding: 1 2; }
    #choice-title { text-style: bold; margin-bottom: 1; }
    #choices { height: auto; max-height: 20; }
    #choice-hint { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, title: str, choices: list[tuple[str, str]], keymap: Keymap,
                 groups: list[str] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.keymap = keymap
        self.typed = ""
        self.options: list[Option] = []
        self.positions: list[int] = []  # the option index of each choice
        for i, (value, label) in enumerate(choices):
            group = groups[i] if groups else None
            if group is not None and (i == 0 or groups is None or groups[i - 1] != group):
                self.options.append(Option(group, disabled=True))
            self.positions.append(len(self.options))
            self.options.append(Option(f"{i + 1}. {label}", id=value))

    def compose(self) -> ComposeResult:
        with Vertical(id="choice"):
            yield Static(self.title_text, id="choice-title", markup=False)
            yield OptionList(*self.options, id="choices")
            hint = t("terminal.choice_hint", cancel=self.keymap.describe("cancel"))
            yield Static(hint, id="choice-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = self.positions[0] if self.positions else None

    def on_key(self, event: events.Key) -> None:
        if event.key.isdigit():
            event.stop()
            self.typed = self.typed[-1:] + event.key
            if not 1 <= int(self.typed) <= len(self.choices):
                self.typed = event.key
            number = int(self.typed)
            if not 1 <= number <= len(self.choices):
                return
            if len(self.choices) <= 9:
                self.dismiss(self.choices[number - 1][0])
            else:
                self.query_one(OptionList).highlighted = self.positions[number - 1]
        elif self.keymap.action(event.key) == "cancel":
            event.stop()
            self.dismiss(None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)


class CounterScreen(Screen[None]):
    """The one main screen; its keys go through the keymap (a modal on top gets them instead)."""

    def __init__(self, keymap: Keymap, on_action: Callable[[str], None],
                 on_ready: Callable[[], None]) -> None:
        super().__init__()
        self.keymap = keymap
        self.on_action = on_action
        self.on_ready = on_ready

    def on_mount(self) -> None:
        self.on_ready()

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static(id="title", markup=False)
            yield Static(id="clock", markup=False)
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield Static(id="ticket", markup=False)
                yield Static(id="served", markup=False)
                yield Static(id="status", markup=False)
            with Vertical(id="right"):
                yield Static(t("terminal.waiting_title"), classes="heading", markup=False)
                yield Static(id="waiting", markup=False)
                yield Static(t("terminal.log_title"), classes="heading", markup=False)
                yield Static(id="log", markup=False)
        yield Static(id="link", markup=False)
        yield Static(id="pending", markup=False)
        yield Static(id="keys", markup=False)

    def on_key(self, event: events.Key) -> None:
        action = self.keymap.action(event.key)
        if action is not None:
            event.stop()
            self.on_action(action)


class CounterApp(App[None]):
    """The counter client. `call_guard` seconds after a call, another Panggil is taken for a
    double press and ignored (0 turns this off). `max_backoff` caps the wait between tries to
    reach the server."""

    TITLE = "antrian"
    CSS = """
    #top { height: 1; background: $primary; }
    #title { width: 1fr; color: $text; text-style: bold; padding: 0 1; }
    #clock { width: auto; color: $text; text-style: bold; padding: 0 1; }
    #body { height: 1fr; }
    #left { width: 1fr; padding: 1 2; }
    #right { width: 1fr; padding: 1 2; border-left: solid $primary; }
    #ticket { text-style: bold; color: $warning; border: double $warning; height: 5;
              content-align: center middle; text-align: center; }
    #served, #status { text-align: center; margin-top: 1; }
    .heading { text-style: bold underline; }
    #waiting { margin-bottom: 1; }
    #link { padding: 0 1; background: $success-darken-2; }
    #link.down { background: $error; text-style: bold; }
    #pending { padding: 0 1; }
    #pending.waiting { background: $warning; color: $background; text-style: bold; }
    #keys { padding: 0 1; color: $text-muted; }
    """
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, client: Client, keymap: Keymap, *, call_guard: float = 1.0,
                 max_backoff: float = 5.0, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.client = client
        self.keymap = keymap
        self.call_guard = call_guard
        self.max_backoff = max_backoff
        self.clock = clock
        self.monotonic = monotonic
        self.view = CounterView(client.counter)
        self.pending: Pending | None = None
        self.link: bool | None = None  # None until the first connection attempt ends
        self.link_up = asyncio.Event()
        self.lines: deque[str] = deque(maxlen=LOG_LINES)
        self.last_call: tuple[float, str] | None = None
        self.quit_armed = False
        self.main = CounterScreen(keymap, self.dispatch, self._draw)

    def get_default_screen(self) -> Screen[Any]:
        return self.main

    def on_mount(self) -> None:
        follower = Follower(self.client.server, self._on_live_message, self._on_live_link,
                            max_backoff=self.max_backoff)
        self.run_worker(follower.run(), name="follower", group="follower")
        self.set_interval(1.0, self._draw)

    # keys

    def dispatch(self, action: str) -> None:
        """Run a keymap action (one of keymap.ACTIONS)."""
        assert action in ACTIONS, action
        if action != "quit":
            self.quit_armed = False
        getattr(self, f"_key_{action}")()

    def _key_call_next(self) -> None:
        if self.last_call is not None and self.pending is None:
            at, code = self.last_call
            if self.monotonic() - at < self.call_guard:
                self._note(t("terminal.double_press", code=code))
                return
        self.submit(Press("call-next"))

    def _key_recall(self) -> None:
        self.submit(Press("recall"))

    def _key_skip(self) -> None:
        self.submit(Press("skip"))

    def _key_restore(self) -> None:
        if self._refuse_busy():
            return
        if not self.view.skipped:
            self._note(t("terminal.no_skipped"))
            return
        choices = [(code, code) for code in self.view.skipped]
        self._choose(t("terminal.choose_skipped"), choices, "restore")

    def _key_done(self) -> None:
        current = self._ready_current()
        if current is None:
            return
        choices = [(o, t(OUTCOME_CHOICES[o])) for o in OUTCOMES]
        self._choose(t("terminal.choose_outcome", code=current.code), choices, "done")

    def _key_transfer(self) -> None:
        current = self._ready_current()
        if current is None:
            return
        view = self.view
        codes = [code for code in view.service_names
                 if code != current.service and code in view.open_services]
        if not codes:
            self._note(t("terminal.no_other_service"))
            return
        agencies = list(dict.fromkeys(view.tenant_names.values()))  # in the site's order
        codes.sort(key=lambda code: agencies.index(view.tenant_names.get(code, "")))
        choices = [(code, f"{code} — {view.service_names[code]}") for code in codes]
        groups = [view.tenant_names.get(code, "") for code in codes]
        self._choose(t("terminal.choose_service", code=current.code), choices, "transfer",
                     groups)

    def _key_pause(self) -> None:
        if self.view.status == "paused":
            self.submit(Press("resume"))
        elif self.view.current is not None:  # the server refuses it too (as the web console)
            self._note(t("error.ticket_in_progress"))
        elif not self._refuse_busy():
            choices = [(r, r) for r in pause_reasons()]
            self._choose(t("terminal.choose_reason"), choices, "pause")

    def _key_cancel(self) -> None:
        pending = self.pending
        if pending is None:
            self._note(t("terminal.nothing_to_cancel"))
            return
        if pending.worker is not None:
            pending.worker.cancel()
        self.pending = None
        self._note(t("terminal.cancelled", label=pending.label))

    def _key_quit(self) -> None:
        if self.pending is not None and not self.quit_armed:
            self.quit_armed = True
            self._note(t("terminal.quit_pending", label=self.pending.label,
                                                  key=self.keymap.describe("quit")))
            return
        self.exit()

    def _choose(self, title: str, choices: list[tuple[str, str]], action: str,
                groups: list[str] | None = None) -> None:
        def chosen(value: str | None) -> None:
            if value is not None:
                self.submit(Press(action, value))

        self.push_screen(ChoiceScreen(title, choices, self.keymap, groups), chosen)

    def _ready_current(self) -> Current | None:
        """The ticket being served, when nothing else is being sent (else None, said why)."""
        if self._refuse_busy():
            return None
        if self.view.current is None:
            self._note(t("terminal.need_ticket"))
        return self.view.current

    def _refuse_busy(self) -> bool:
        if self.pending is None:
            return False
        self._note(t("terminal.busy", label=self.pending.label,
                                      cancel=self.keymap.describe("cancel")))
        return True

    # sending

    def submit(self, press: Press) -> None:
        """Send a press, unless another one is still on its way."""
        if self.pending is not None and self.pending.press.action == press.action:
            self._note(t("terminal.same_press", label=self.pending.label))
            return
        if self._refuse_busy():
            return
        pending = Pending(press)
        self.pending = pending
        pending.worker = self.run_worker(self._deliver(pending), group="press")
        self._draw()

    async def _deliver(self, pending: Pending) -> None:
        """Send until the server answers, always with the press's own request id."""
        retrying = AsyncRetrying(retry=retry_if_exception_type(Unavailable),
                                 wait=backoff(multiplier=0.5, max=self.max_backoff),
                                 sleep=self._nap)
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        result = await self.client.send(pending.press)
                    except Unavailable as exc:
                        pending.problem = exc.message
                        self._draw()
                        raise
        except CounterError as exc:
            message = exc.message
            if isinstance(exc, Unauthorized) and self.client.officer is not None:
                message = t("terminal.session_ended", quit=self.keymap.describe("quit"))
            self._note(t("terminal.refused", label=pending.label, message=message))
        else:
            line = self.view.apply_result(pending.press, result, self.clock())
            if pending.press.action in ("call-next", "call") and result.ticket is not None:
                self.last_call = (self.monotonic(), result.ticket.code)
            self._note(line)
        if self.pending is pending:
            self.pending = None
        self._draw()

    async def _nap(self, seconds: float) -> None:
        """Wait before sending again: `seconds`, or less when the link comes back meanwhile."""
        if self.link_up.is_set():
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.link_up.wait(), seconds)

    # the live link

    def _on_live_link(self, up: bool) -> None:
        if up:
            self.link_up.set()
        else:
            self.link_up.clear()
        self.link = up
        self._draw()

    def _on_live_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "snapshot":
            self.view.apply_snapshot(Snapshot.parse(message), self.clock())
            if message.get("resync"):
                self._note(t("terminal.resynced"))
        elif kind not in ("heartbeat", "pong", "error"):
            self.view.apply_event(message, self.clock())
        self._draw()

    # drawing

    def _note(self, text: str) -> None:
        self.lines.appendleft(f"{clock_seconds(self.view.site_time(self.clock()))}  {text}")
        self._draw()

    def text(self, widget_id: str) -> str:
        """The text a widget of the main screen shows (for tests and screen readers)."""
        return str(self.main.query_one(f"#{widget_id}", Static).content)

    def _set(self, widget_id: str, text: str) -> None:
        self.main.query_one(f"#{widget_id}", Static).update(text)

    def _served_text(self) -> str:
        view = self.view
        seconds = view.served_seconds(self.clock())
        if seconds is None or view.current is None:
            return t("terminal.no_ticket_note")
        served = t("terminal.served_for", minutes=seconds // 60, seconds=seconds % 60)
        name = view.service_names.get(view.current.service, view.current.service)
        return f"{name} · {served}"

    def _draw(self) -> None:
        if not (self.is_running and self.main.is_mounted):  # closing removes widgets one by one
            return
        view = self.view
        officer = self.client.officer
        title = " · ".join(part for part in (
            t("terminal.title", number=view.number), officer.name if officer else "",
            view.site_name) if part)
        self._set("title", title)
        self._set("clock", short_clock(view.site_time(self.clock())))
        self._set("ticket", view.current.code if view.current else "—")
        self._set("served", self._served_text())
        self._set("status", t(STATUS[view.status], reason=view.reason or ""))
        self._set("waiting", "\n".join(
            t("terminal.waiting_row", code=s, name=view.service_names.get(s, s),
                                       count=view.waiting.get(s, 0))
            for s in view.services))
        self._set("log", "\n".join(self.lines))
        link = {None: N_("terminal.connecting"), True: N_("terminal.link_up"),
                False: N_("terminal.link_down")}
        self._set("link", t(link[self.link]))
        self.main.query_one("#link").set_class(self.link is False, "down")
        self._set("pending", self._pending_text())
        self.main.query_one("#pending").set_class(
            self.pending is not None and self.pending.problem is not None, "waiting")
        self._set("keys", "  ".join(f"{keys} {name}" for keys, name in self.keymap.legend()))

    def _pending_text(self) -> str:
        pending = self.pending
        if pending is None:
            return ""
        if pending.problem is None:
            return t("terminal.sending", label=pending.label)
        text = t("terminal.pending", label=pending.label, cancel=self.keymap.describe("cancel"))
        return f"{text} ({pending.problem})"
