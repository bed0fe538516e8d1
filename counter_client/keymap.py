"""Which key does what: the default keys plus a small TOML file for numeric keypads.

    [keys]
    "+" = "call_next"
    "-" = "recall"
    "*" = "skip"
    "/" = "done"

Keys are single characters or Textual key names ("enter", "escape", "f1"); actions are
call_next, recall, skip, restore (a skipped ticket), done, transfer, pause (pause / resume),
cancel, quit.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from textual.keys import Keys

from texts import N_, t

# catalogue keys of the keys shown by name; any other key is shown as its character
KEY_NAMES = {
    "enter": N_("key.enter"), "space": N_("key.space"), "escape": N_("key.escape"),
    "backspace": N_("key.backspace"), "plus": N_("key.plus"), "minus": N_("key.minus"),
    "asterisk": N_("key.asterisk"), "slash": N_("key.slash"), "full_stop": N_("key.full_stop"),
}


ACTIONS = ("call_next", "recall", "skip", "restore", "done", "transfer", "pause", "cancel",
           "quit")
DEFAULT_KEYS = {
    "enter": "call_next", "space": "call_next", "r": "recall", "s": "skip", "k": "restore",
    "d": "done", "t": "transfer", "p": "pause", "escape": "cancel", "backspace": "cancel",
    "q": "quit",
}
_NAMED = {k.value for k in Keys}
# Textual's names of characters whose Unicode names it shortens
_SHORT = {"solidus": "slash", "reverse_solidus": "backslash", "commercial_at": "at",
          "hyphen_minus": "minus", "plus_sign": "plus", "low_line": "underscore"}


class KeymapError(ValueError):
    """A keypad file that cannot be used; the message (Indonesian) names the file and the key."""


def key_name(key: str) -> str | None:
    """The name Textual gives a key ("+" → "plus", "Enter" → "enter"), or None if unknown."""
    if len(key) == 1:
        if key.isalnum():
            return key
        if not key.isprintable():
            return None
        name = unicodedata.name(key, "").lower().replace("-", "_").replace(" ", "_")
        return _SHORT.get(name, name) or None
    name = key.strip().lower()
    return name if name in _NAMED or name in _SHORT.values() else None


@dataclass(frozen=True)
class Keymap:
    """Textual key name → action. Letters work with and without Shift / Caps Lock."""

    keys: dict[str, str]

    def action(self, key: str) -> str | None:
        return self.keys.get(key) or self.keys.get(key.lower())

    def keys_for(self, action: str) -> list[str]:
        return [k for k, a in self.keys.items() if a == action]

    def describe(self, action: str) -> str:
        """The keys of an action as the officer reads them, e.g. "Enter/Spasi/+"."""
        return "/".join(t(KEY_NAMES[k]) if k in KEY_NAMES else k.upper()
                        for k in self.keys_for(action))


def load_keymap(path: Path | None) -> Keymap:
    """The default keys, with the keys of the TOML file at `path` added (a key in the file
    replaces the default action of that key). Raises KeymapError."""
    keys = dict(DEFAULT_KEYS)
    if path is None:
        return Keymap(keys)
    try:
        with path.open("rb") as handle:
            doc = tomllib.load(handle)
    except OSError as exc:
        raise KeymapError(t("terminal.keymap_open", path=path, reason=exc.strerror)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KeymapError(t("terminal.keymap_toml", path=path, reason=exc)) from None
    table = doc.get("keys")
    if set(doc) != {"keys"} or not isinstance(table, dict):
        raise KeymapError(t("terminal.keymap_shape", path=path))
    for raw, action in table.items():
        if action not in ACTIONS:
            raise KeymapError(t("terminal.keymap_action",
                path=path, key=raw, action=action, actions=", ".join(ACTIONS)))
        name = key_name(raw)
        if name is None:
            raise KeymapError(t("terminal.keymap_key", path=path, key=raw))
        keys[name] = action
    return Keymap(keys)
