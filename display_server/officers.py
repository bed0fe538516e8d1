"""Officer accounts: an id (NIP or a short name), a name, a tenant, the counters the officer may
use and a PIN of 4 to 8 digits kept only as its argon2 hash, in Redis (`officer:{officer}` and
the `officers` set). The rules are pure functions (what a valid id, PIN or counter list is,
whether a count of wrong PINs locks, what a sign-in attempt comes to); the functions that take
a Store read and write the accounts and the wrong-PIN counters.

Wrong PINs are counted per officer id and per client address, each count expiring
`ANTRIAN_PIN_LOCK_SECONDS` after the last wrong PIN; at `ANTRIAN_PIN_ATTEMPTS` the id (or the
client) is locked until the count expires, and even the right PIN is refused."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from display_server.config import SiteConfig
from display_server.store import Store
from texts import t

OFFICER_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")  # fullmatch, after lower()
PIN = re.compile(r"[0-9]{4,8}")                        # fullmatch
NAME_MAX = 80
_hasher = PasswordHasher()
# verified when the id is unknown, so a wrong id takes as long as a wrong PIN
_DUMMY_HASH = _hasher.hash("00000000")


class OfficerError(ValueError):
    """A value the office gave that an account cannot take; the message is Indonesian."""


@dataclass(frozen=True)
class Officer:
    """An account as stored (without its PIN hash)."""

    id: str
    name: str
    tenant: str
    counters: tuple[int, ...]
    active: bool
    created_at: str
    updated_at: str

    def may_use(self, counter: int) -> bool:
        return self.active and counter in self.counters


Outcome = Literal["ok", "wrong", "locked", "disabled", "not_allowed"]


@dataclass(frozen=True)
class SignIn:
    """What a PIN sign-in came to: `ok` (with the officer), `wrong` (`remaining` tries before
    the lock), `locked` (for `seconds` more), `disabled`, `not_allowed` (not on that counter)."""

    outcome: Outcome
    officer: Officer | None = None
    remaining: int = 0
    seconds: int = 0


# ---- the rules (pure) -------------------------------------------------------------------

def check_id(text: str) -> str:
    """The officer id as stored (lowercase), or OfficerError."""
    officer_id = text.strip().lower()
    if not OFFICER_ID.fullmatch(officer_id):
        raise OfficerError(t("officer.bad_id"))
    return officer_id


def check_pin(text: str) -> str:
    if not PIN.fullmatch(text):
        raise OfficerError(t("officer.bad_pin"))
    return text


def check_name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise OfficerError(t("officer.bad_name", max=NAME_MAX))
    return name


def check_tenant(site: SiteConfig, tenant: str) -> str:
    if site.tenant(tenant.strip()) is None:
        known = ", ".join(x.id for x in site.tenants)
        raise OfficerError(t("officer.bad_tenant", tenant=tenant.strip()[:40], known=known))
    return tenant.strip()


def check_counters(site: SiteConfig, text: str) -> tuple[int, ...]:
    """"5,6" (or "5 6") as counter numbers the site has, in order, without repeats."""
    numbers: list[int] = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        if not re.fullmatch(r"[0-9]{1,4}", part) or site.counter(int(part)) is None:
            raise OfficerError(t("officer.bad_counter", counter=part[:12]))
        if int(part) not in numbers:
            numbers.append(int(part))
    if not numbers:
        raise OfficerError(t("officer.no_counters"))
    return tuple(numbers)


def locked(failures: Iterable[int], attempts: int) -> bool:
    """Whether wrong-PIN counts (of the id, of the client) lock the sign-in."""
    return any(n >= attempts for n in failures)


def decide(officer: Officer | None, pin_right: bool, counter: int) -> Outcome:
    """A sign-in that is not locked: `wrong` for an unknown id or a wrong PIN (the same answer,
    so ids cannot be guessed), then `disabled`, `not_allowed`, or `ok`."""
    if officer is None or not pin_right:
        return "wrong"
    if not officer.active:
        return "disabled"
    return "ok" if counter in officer.counters else "not_allowed"


def hash_pin(pin: str) -> str:
    return _hasher.hash(check_pin(pin))


def pin_matches(stored_hash: str, pin: str) -> bool:
    try:
        return _hasher.verify(stored_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


# ---- the accounts in Redis ----------------------------------------------------------------

def _officer(officer_id: str, raw: dict[str, str]) -> Officer | None:
    if not raw:
        return None
    return Officer(officer_id, raw.get("name", ""), raw.get("tenant", ""),
                   tuple(int(c) for c in raw.get("counters", "").split(",") if c.isdigit()),
                   raw.get("active") == "1", raw.get("created_at", ""),
                   raw.get("updated_at", ""))


async def get(store: Store, officer_id: str) -> Officer | None:
    if not OFFICER_ID.fullmatch(officer_id):
        return None
    raw = cast(dict[str, str], await store.redis.hgetall(store.keys("officer", officer_id)))
    return _officer(officer_id, raw)


async def all_officers(store: Store) -> list[Officer]:
    """Every account of the site, by name."""
    ids = sorted(cast(set[str], await store.redis.smembers(store.keys("officers"))))
    async with store.redis.pipeline(transaction=False) as pipe:
        for officer_id in ids:
            pipe.hgetall(store.keys("officer", officer_id))
        rows = await pipe.execute()
    found = [_officer(i, raw) for i, raw in zip(ids, rows, strict=True)]
    return sorted((o for o in found if o is not None), key=lambda o: (o.name.lower(), o.id))


async def names(store: Store) -> dict[str, str]:
    """Each account's name by its id, disabled ones too (the reports name their rows with it;
    the archive keeps only the id)."""
    return {o.id: o.name for o in await all_officers(store) if o.name}


def _now(store: Store) -> str:
    return store.clock().astimezone(store.site.tz).isoformat(timespec="seconds")


async def add(store: Store, officer_id: str, name: str, tenant: str, counters: str,
              pin: str) -> Officer:
    """A new account (every value checked here); OfficerError when the id is taken."""
    officer_id, name = check_id(officer_id), check_name(name)
    tenant, numbers = check_tenant(store.site, tenant), check_counters(store.site, counters)
    pin_hash = await asyncio.to_thread(hash_pin, pin)
    if not await store.redis.sadd(store.keys("officers"), officer_id):
        raise OfficerError(t("officer.exists", officer=officer_id))
    now = _now(store)
    await store.redis.hset(store.keys("officer", officer_id), mapping={
        "name": name, "tenant": tenant, "counters": ",".join(map(str, numbers)),
        "pin": pin_hash, "active": "1", "created_at": now, "updated_at": now})
    found = await get(store, officer_id)
    assert found is not None
    return found


async def _existing(store: Store, officer_id: str) -> str:
    officer_id = check_id(officer_id)
    if not await store.redis.sismember(store.keys("officers"), officer_id):
        raise OfficerError(t("officer.unknown", officer=officer_id))
    return officer_id


async def update(store: Store, officer_id: str, *, name: str | None = None,
                 tenant: str | None = None, counters: str | None = None) -> Officer:
    """Change an account's name, tenant or counters (those given; each checked); the PIN and
    open sessions stay (a counter taken away refuses the officer's next sign-in there)."""
    officer_id = await _existing(store, officer_id)
    changes = [("updated_at", _now(store))]
    if name is not None:
        changes.append(("name", check_name(name)))
    if tenant is not None:
        changes.append(("tenant", check_tenant(store.site, tenant)))
    if counters is not None:
        changes.append(("counters", ",".join(map(str, check_counters(store.site, counters)))))
    await store.redis.hset(store.keys("officer", officer_id), mapping=dict(changes))
    found = await get(store, officer_id)
    assert found is not None
    return found


async def reset_pin(store: Store, officer_id: str, pin: str) -> None:
    """A new PIN (the old one stops working); the id's wrong-PIN count starts again."""
    officer_id = await _existing(store, officer_id)
    pin_hash = await asyncio.to_thread(hash_pin, pin)
    await store.redis.hset(store.keys("officer", officer_id),
                           mapping={"pin": pin_hash, "updated_at": _now(store)})
    await store.redis.delete(store.keys("pin_failures_officer", officer_id))


async def set_active(store: Store, officer_id: str, active: bool) -> None:
    """Disable an account (its sessions stop at their next request) or enable it again."""
    officer_id = await _existing(store, officer_id)
    await store.redis.hset(store.keys("officer", officer_id),
                           mapping={"active": "1" if active else "0",
                                    "updated_at": _now(store)})


async def is_active(store: Store, officer_id: str) -> bool:
    return await store.redis.hget(store.keys("officer", officer_id), "active") == "1"


async def sign_in(store: Store, officer_id: str, pin: str, counter: int, client: str, *,
                  attempts: int, lock_seconds: int) -> SignIn:
    """Check a PIN sign-in at `counter` from `client` against the lock, the PIN, the account's
    state and its counters. Each try is counted against the id and the client before the PIN
    is checked, so a burst of tries in parallel cannot get past the lock; a right PIN gives its
    count back (and clears the id's), a try while locked checks nothing and does not extend
    the lock, a wrong PIN makes both counts expire `lock_seconds` after it."""
    officer_id = officer_id.strip().lower()[:40]
    valid_id = bool(OFFICER_ID.fullmatch(officer_id))
    failure_keys = [store.keys("pin_failures_client", client)]
    if valid_id:
        failure_keys.insert(0, store.keys("pin_failures_officer", officer_id))
    async with store.redis.pipeline(transaction=True) as pipe:
        for key in failure_keys:
            pipe.incr(key)
            pipe.expire(key, lock_seconds, nx=True)  # a count never outlives its lock
        counts = [int(n) for n in (await pipe.execute())[::2]]
    if locked((n - 1 for n in counts), attempts):  # locked before this try
        held = [key for key, n in zip(failure_keys, counts, strict=True) if n - 1 >= attempts]
        return SignIn("locked", seconds=await _lock_left(store, held))
    raw: dict[str, str] = {}
    if valid_id:
        raw = cast(dict[str, str], await store.redis.hgetall(store.keys("officer", officer_id)))
    officer = _officer(officer_id, raw)
    right = await asyncio.to_thread(pin_matches, raw.get("pin") or _DUMMY_HASH, pin[:16])
    outcome = decide(officer, right and officer is not None, counter)
    if outcome != "wrong":
        if valid_id:
            await store.redis.delete(failure_keys[0])
        await _give_back(store, failure_keys[-1])
        return SignIn(outcome, officer)
    async with store.redis.pipeline(transaction=True) as pipe:
        for key in failure_keys:
            pipe.expire(key, lock_seconds)
        await pipe.execute()
    if locked(counts, attempts):
        return SignIn("locked", seconds=lock_seconds)
    return SignIn("wrong", remaining=attempts - max(counts))


# one less try counted, unless the count expired meanwhile (never a count without an expiry)
_GIVE_BACK = "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end"


async def _give_back(store: Store, key: str) -> None:
    await store.redis.eval(_GIVE_BACK, 1, key)


async def _lock_left(store: Store, keys: list[str]) -> int:
    """The seconds until the longest of these locks ends (at least 1)."""
    return max([1, *[await store.redis.ttl(key) for key in keys]])


async def count(store: Store) -> int:
    """How many accounts the site has (the console offers the PIN sign-in when any)."""
    return int(await store.redis.scard(store.keys("officers")))
