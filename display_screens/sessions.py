"""Server-side sessions of the officer consoles and /admin: one Redis record per sign-in, expiring
with it; signing out deletes it, and "sign out everywhere" moves the site's session generation
on, which ends every record made before."""

from __future__ import annotations

import secrets
from typing import cast

from display_server.keys import ttl
from display_server.store import Store

SESSION_SECONDS = ttl("session")


def _record_key(store: Store, session_id: str) -> str:
    return store.keys("session", session_id)


def _generation_key(store: Store) -> str:
    return store.keys("session_generation")


async def create(store: Store, scope: str, officer: str = "") -> str:
    """A new session of `scope` (a counter number or "admin"), signed in by `officer` (an
    officer id; "" for a counter token or the office); its id, for the cookie."""
    session_id = secrets.token_hex(16)
    generation = cast(str | None, await store.redis.get(_generation_key(store))) or "0"
    record = f"{scope}:{generation}" + (f":{officer}" if officer else "")
    await store.redis.set(_record_key(store, session_id), record, ex=SESSION_SECONDS)
    return session_id


async def lookup(store: Store, session_id: str, scope: str) -> str | None:
    """The officer of a live session ("" when a token opened it), None when it is not live: no
    record, of another scope, or made before the last "sign out everywhere"."""
    found = await store.redis.mget(_record_key(store, session_id), _generation_key(store))
    record, generation = cast(list[str | None], found)
    if record is None:
        return None
    of_scope, _, rest = record.partition(":")
    made_in, _, officer = rest.partition(":")
    return officer if of_scope == scope and made_in == (generation or "0") else None


async def valid(store: Store, session_id: str, scope: str) -> bool:
    """Whether the session is live (see lookup)."""
    return await lookup(store, session_id, scope) is not None


async def end(store: Store, session_id: str) -> None:
    """Sign one session out: a copy of its cookie opens nothing any more."""
    await store.redis.delete(_record_key(store, session_id))


async def end_all(store: Store) -> None:
    """Sign out every console and /admin session of the site."""
    await store.redis.incr(_generation_key(store))
