"""Which key does what: the default keys plus a small TOML file for numeric keypads.

    [keys]
    "+" = "call_next"
    "-" = "recall"
    "*" = "skip"
    "/" = "done"

Keys are single characters or Textual key names ("enter", "escape", "f1"); actions are the
names of the one officer key layout (protocol.officer_keys, the same on the web console):
call_next, recall, skip, done, transfer, pause (pause / resume), restore (a skipped ticket),
cancel, quit. A file written for the earlier default keys keeps working: the action names are
the same, only the defaults moved to SPEC's layout.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from textual.keys import Keys

from protocol import officer_keys
from texts import t

ACTIONS = officer_keys.ACTIONS
DEFAULT_KEYS = officer_keys.default_keys(terminal=True)
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
        return officer_keys.keys_text(self.keys_for(action), t)

    def legend(self) -> list[tuple[str, str]]:
        """(keys, name) of every action that has a key, in the layout's order."""
        return [(self.describe(a), t(officer_keys.LABELS[a]))
                for a in ACTIONS if self.keys_for(a)]


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
