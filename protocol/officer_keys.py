"""The officer's keys, one layout for the web console and the terminal client (SPEC.md): Enter or
Space Panggil, U Panggil ulang, L Lewati, S Selesai, A Alihkan, J Jeda/Lanjut, K Kembalikan; Esc
closes a choice (and cancels a press still waiting to be sent); Q Keluar in the terminal only.

Keys are named as Textual names them ("enter", "space", "escape", "u"); the web console maps a
browser's KeyboardEvent.key to the same names. Actions are the names a keypad map uses. Labels
are catalogue keys (texts/): this layer does not import texts, the clients translate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def N_(key: str) -> str:
    """Marks a catalogue key for extraction (as texts.N_ does) without importing texts."""
    return key


@dataclass(frozen=True)
class OfficerKey:
    """One action: the keys that start it, the catalogue key of its name, and whether only the
    terminal client has it."""

    action: str
    keys: tuple[str, ...]
    label: str
    terminal_only: bool = False


LAYOUT: tuple[OfficerKey, ...] = (
    OfficerKey("call_next", ("enter", "space"), N_("action.call_next")),
    OfficerKey("recall", ("u",), N_("action.recall")),
    OfficerKey("skip", ("l",), N_("action.skip")),
    OfficerKey("done", ("s",), N_("action.done")),
    OfficerKey("transfer", ("a",), N_("action.transfer")),
    OfficerKey("pause", ("j",), N_("action.pause_resume")),
    OfficerKey("restore", ("k",), N_("action.restore")),
    OfficerKey("cancel", ("escape",), N_("action.cancel")),
    OfficerKey("quit", ("q",), N_("action.quit"), terminal_only=True),
)
ACTIONS = tuple(k.action for k in LAYOUT)
LABELS = {k.action: k.label for k in LAYOUT}

# catalogue keys of the keys shown by name; any other key is shown as its character, upper case
KEY_LABELS = {
    "enter": N_("key.enter"), "space": N_("key.space"), "escape": N_("key.escape"),
    "backspace": N_("key.backspace"), "plus": N_("key.plus"), "minus": N_("key.minus"),
    "asterisk": N_("key.asterisk"), "slash": N_("key.slash"), "full_stop": N_("key.full_stop"),
}


def layout(terminal: bool) -> tuple[OfficerKey, ...]:
    """The keys of the terminal client (terminal=True) or of the web console."""
    return tuple(k for k in LAYOUT if terminal or not k.terminal_only)


def default_keys(terminal: bool = True) -> dict[str, str]:
    """Key name → action."""
    return {key: k.action for k in layout(terminal) for key in k.keys}


def key_text(key: str, translate: Callable[[str], str]) -> str:
    """A key as the officer reads it: "Enter", "Spasi", "U", "+"."""
    return translate(KEY_LABELS[key]) if key in KEY_LABELS else key.upper()


def keys_text(keys: list[str] | tuple[str, ...], translate: Callable[[str], str]) -> str:
    """Several keys of one action: "Enter/Spasi"."""
    return "/".join(key_text(k, translate) for k in keys)


def legend(translate: Callable[[str], str], terminal: bool) -> list[tuple[str, str]]:
    """(keys, name) of every action of the default layout, in order: what both clients show."""
    return [(keys_text(k.keys, translate), translate(k.label)) for k in layout(terminal)]
