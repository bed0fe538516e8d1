"""The Redis key layout of a site, in one table: Python builds every key through it, and the Lua
scripts get their key builders and expiries from a prelude generated from the same table."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

DAY_SECONDS = 86_400
# How long the answer of an action without request_id is kept for the server's own retries:
# past the longest one action's retries last (store.py: 30 tries, each up to a socket timeout).
ATTEMPT_SECONDS = 300

KeyName = Literal[
    "events", "recent", "arrival", "seq", "ticket", "queue", "priority_queue", "skipped",
    "counter", "stats", "request", "attempt", "played", "screens", "ratelimit", "session",
    "session_generation", "archiver", "officer", "officers", "pin_failures_officer",
    "pin_failures_client", "metrics_processes", "settings", "settings_history",
]

# The variable parts of the patterns: what each stands for.
PARTS: dict[str, str] = {
    "site": "the site's `id` (the Redis Cluster hash tag: every key of a site in one slot)",
    "day": "the site's local day, `YYYY-MM-DD` (timezone `site.timezone`)",
    "ticket": "a ticket id, `{day}:{code}`, e.g. `2026-11-25:A001`",
    "service": "a service code (the ticket prefix), e.g. `A`",
    "counter": "a counter number, e.g. `5`",
    "scope": "whose requests: a counter number or `kiosk` (request ids); `tickets` or `kiosk` "
             "(rate limits)",
    "request_id": "the client's `request_id`",
    "attempt": "an id the server draws for one action the client sent without `request_id` "
               "(32 hex digits, uuid4)",
    "client": "a client address, or an IPv6 client's /64 network",
    "window": "the number of the rate limit's window since the epoch (seconds // window)",
    "session": "a session id (32 hex digits), named by the signed cookie",
    "officer": "an officer's id (NIP or a short name: lowercase letters, digits, `.`, `_`, `-`)",
}
# Parts that contain ':' themselves; every other part is one segment.
_WIDE_PARTS = {"ticket": r"[^:]+:[^:]+", "client": r".+"}


@dataclass(frozen=True)
class Key:
    """One kind of key: `pattern` follows the site's prefix; `ttl` is its expiry in seconds, None
    when it is kept, or the text of an expiry computed at run time."""

    name: KeyName
    pattern: str
    type: str
    ttl: int | str | None
    purpose: str

    @property
    def parts(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.pattern)

    @functools.cached_property
    def _template(self) -> tuple[int, str]:
        """The number of parts and the pattern with each part as `{}`: fill() is on every
        action's path (ten keys a call), so the pattern is parsed once, not per key."""
        return len(self.parts), re.sub(r"\{\w+\}", "{}", self.pattern)

    def fill(self, values: tuple[str | int, ...]) -> str:
        count, template = self._template
        if len(values) != count:
            raise ValueError(f"key {self.name} takes {self.parts}, got {values!r}")
        return template.format(*values)

    def regex(self) -> str:
        """A regular expression of the pattern (without the prefix)."""
        pieces = re.split(r"\{(\w+)\}", self.pattern)
        return "".join(re.escape(p) if i % 2 == 0 else _WIDE_PARTS.get(p, r"[^:]+")
                       for i, p in enumerate(pieces))


LAYOUT: dict[KeyName, Key] = {key.name: key for key in (
    Key("events", "events", "stream", None,
        "every state change as one entry `d` = the event's JSON; trimmed to "
        "`ANTRIAN_STREAM_MAXLEN` entries, replayed to screens that reconnect"),
    Key("recent", "recent", "list", None, "the 50 latest calls, newest first (JSON each)"),
    Key("arrival", "arrival", "string", None,
        "the site's arrival counter: a ticket's place in every queue it joins"),
    Key("seq", "seq:{day}", "hash", 3 * DAY_SECONDS,
        "service -> tickets issued that day (the next ticket's number; the quota)"),
    Key("ticket", "t:{ticket}", "hash", 40 * DAY_SECONDS,
        "a ticket: code, service, seq, day, status, priority, origin, arrival, calls, counter "
        "and its times (issued, called, skipped, transferred, finished); `officer`: the officer "
        "who called, skipped or finished it last (PIN sessions); `rated`: the id of its "
        "survey answer's event (one answer per served ticket)"),
    Key("queue", "q:{day}:{service}", "zset", 3 * DAY_SECONDS,
        "the day's waiting tickets of a service, scored by arrival"),
    Key("priority_queue", "pq:{day}:{service}", "zset", 3 * DAY_SECONDS,
        "the day's waiting priority tickets of a service, scored by arrival"),
    Key("skipped", "skipped:{day}", "zset", 3 * DAY_SECONDS,
        "the day's no-shows, scored by when they were skipped (restore within the grace window)"),
    Key("counter", "c:{counter}", "hash", None,
        "a counter's status (idle, serving, paused), current ticket, since, pause reason, "
        "normal calls since its last priority call; `finished`: the ticket it finished last (the "
        "one its survey tablet offers)"),
    Key("stats", "stats:{day}", "hash", None,
        "the day's aggregates: `<count>:<service>` and `<count>:c<counter>` fields"),
    Key("request", "req:{scope}:{request_id}", "hash", DAY_SECONDS,
        "a request's fingerprint and answer: a retried request_id gets the same answer"),
    Key("attempt", "attempt:{attempt}", "hash", ATTEMPT_SECONDS,
        "the fingerprint and answer of an action sent without `request_id`, under an id the "
        "server drew for it: a retry of the same attempt (a lost reply, a moved cluster slot) "
        "gets that answer instead of acting twice; kept past the longest retry"),
    Key("played", "played:{day}", "hash", 2 * DAY_SECONDS,
        "screen -> the last call it reported played that day (`event_id`, `at`)"),
    Key("screens", "screens", "hash", None,
        "the office's register of screens: id -> `name`, `at`"),
    Key("ratelimit", "ratelimit:{scope}:{client}:{window}", "string", "the window + 1 s",
        "requests of a client in one window of the rate limit"),
    Key("session", "session:id:{session}", "string", 12 * 3600,
        "a console or /admin sign-in: `<scope>:<generation>`, then `:<officer>` after a PIN "
        "sign-in"),
    Key("session_generation", "session:generation", "string", None,
        "moved on by *Akhiri semua sesi*: every session made before it ends"),
    Key("archiver", "archiver", "string", "the lease, 5 s, renewed each round",
        "the consumer name of the one process that archives the events stream now (its lease)"),
    Key("officer", "officer:{officer}", "hash", None,
        "an officer account: name, tenant, counters (comma list), pin (its argon2 hash, never "
        "the PIN), active (1 or 0), created_at, updated_at"),
    Key("officers", "officers", "set", None, "the ids of every officer account of the site"),
    Key("pin_failures_officer", "pinfail:officer:{officer}", "string",
        "`ANTRIAN_PIN_LOCK_SECONDS` (300 s) from the last wrong PIN",
        "wrong PINs in a row for an officer id; at `ANTRIAN_PIN_ATTEMPTS` (5) the id is locked "
        "until it expires; a right PIN deletes it"),
    Key("pin_failures_client", "pinfail:client:{client}", "string",
        "`ANTRIAN_PIN_LOCK_SECONDS` (300 s) from the last wrong PIN",
        "wrong PINs from one client address (any officer id); at `ANTRIAN_PIN_ATTEMPTS` the "
        "client is locked until it expires"),
    Key("metrics_processes", "metrics:processes", "hash", 3600,
        "each server process's own `GET /metrics` figures, so any process answers for all: "
        "`<host>:<pid>` -> `{\"at\", \"text\"}` (Prometheus text), written every 10 s and at "
        "each scrape; a field older than 30 s is a process gone, left out and deleted"),
    Key("settings", "settings", "hash", None,
        "the office's live settings laid over the site TOML (running text, notices, hours, "
        "holidays, counters' services, quotas): `version` (moved on by each change), "
        "`overrides` (JSON, the TOML-like partial document), `at`, `by`"),
    Key("settings_history", "settings:history", "list", None,
        "the live settings' changes, newest first, the latest 500: JSON `{version, at, by, "
        "client, change, before, after}` (before/after: the overrides)"),
)}


def prefix(site_id: str) -> str:
    """Every key of a site starts with this; `{site}` is the Redis Cluster hash tag."""
    return f"antrian:{{{site_id}}}:"


def ttl(name: KeyName) -> int:
    """The fixed expiry of a kind of key, in seconds."""
    seconds = LAYOUT[name].ttl
    if not isinstance(seconds, int):
        raise ValueError(f"key {name} has no fixed expiry")
    return seconds


class SiteKeys:
    """The keys of one site."""

    def __init__(self, site_id: str) -> None:
        self.prefix = prefix(site_id)

    def __call__(self, name: KeyName, *parts: str | int) -> str:
        """The key `name` with its parts in the pattern's order."""
        return self.prefix + LAYOUT[name].fill(parts)

    def kind(self, key: str) -> list[KeyName]:
        """The kinds of key whose pattern `key` matches (exactly one for a key of the site)."""
        if not key.startswith(self.prefix):
            return []
        rest = key.removeprefix(self.prefix)
        return [k.name for k in LAYOUT.values() if re.fullmatch(k.regex(), rest)]


def lua_prelude() -> str:
    """The Lua that every script starts with: `P` (the prefix, ARGV[1]), `TTL.<name>` for each
    key with a fixed expiry, and a builder `<name>_key(parts...)` for each key."""
    lines = ["-- Generated from display_server/keys.py: the site's key layout.",
             "local P = ARGV[1]",
             "local TTL = {" + ", ".join(f"{k.name} = {k.ttl}" for k in LAYOUT.values()
                                         if isinstance(k.ttl, int)) + "}"]
    for key in LAYOUT.values():
        pieces = re.split(r"\{(\w+)\}", key.pattern)
        body = " .. ".join(["P"] + [repr(p) if i % 2 == 0 else p
                                    for i, p in enumerate(pieces) if p])
        lines.append(f"local function {key.name}_key({', '.join(key.parts)}) return {body} end")
    return "\n".join(lines) + "\n"
