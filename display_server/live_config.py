"""The office's live settings: the running text, the TV's notices, opening hours and holidays,
the counters' services (in order) and the quotas, changed on /admin without a restart.

The site TOML stays the seed. The office's changes are a TOML-like partial document (the
overrides) kept in Redis (`settings`, with a version, and `settings:history`); the effective
config is the seed with the overrides laid over it, read by the same `parse_config` as the TOML,
so a bad change is refused with the field it names (`services[2].hours: ...`) and nothing
changes. A change is stored with a `settings` event in one script; every process's events
follower then reloads the effective config (the scripts get hours, quotas and counters' services
from it as arguments on the next action), and the screens get the event's public part.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from display_server.api import Context, ctx
from display_server.bodies import read_json
from display_server.config import ConfigError, SiteConfig, parse_config
from display_server.errors import ApiError
from display_server.hours import describe
from display_server.screens import authorize_office
from texts import t

log = logging.getLogger("antrian.settings")
SECTIONS: dict[str, tuple[str, ...]] = {"site": ("running_text", "holidays"),
                                        "signage": ("texts",)}
SERVICE_KEYS = ("days", "hours", "quota")
COUNTER_KEYS = ("services",)
COUNTER_NUMBER = re.compile(r"[0-9]{1,3}")
HISTORY_KEPT = 500
HISTORY_SHOWN = 100


class FieldError(ApiError):
    """A change refused for one field: 400 invalid_field, the field also in `error.field`."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__("invalid_field", f"{where}: {problem}")
        self.field = where

    def body(self) -> dict[str, dict[str, str]]:
        answer = super().body()
        answer["error"]["field"] = self.field
        return answer


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(where, t("config.not_a_table"))
    return value


def check_change(seed: SiteConfig, change: Any) -> dict[str, Any]:
    """The shape of a change: only the editable parts, of services and counters the seed
    has. What the values may be is parse_config's to say (see `effective`)."""
    if not isinstance(change, dict) or not change:
        raise ApiError("invalid_body", t("settings.empty_change"))
    out: dict[str, Any] = {}
    for section, value in change.items():
        if section in SECTIONS:
            rows = _table(value, section)
            for key in rows:
                if key not in SECTIONS[section]:
                    raise FieldError(f"{section}.{key}", t("settings.not_editable"))
            out[section] = dict(rows)
        elif section in ("services", "counters"):
            out[section] = {}
            for ident, row in _table(value, section).items():
                where = f"{section}.{ident}"
                if section == "services" and seed.service(ident) is None:
                    raise FieldError(where, t("config.unknown_service", code=ident[:10]))
                if section == "counters" and (not COUNTER_NUMBER.fullmatch(ident)
                                              or seed.counter(int(ident)) is None):
                    raise FieldError(where, t("settings.unknown_counter", counter=ident[:10]))
                known = SERVICE_KEYS if section == "services" else COUNTER_KEYS
                for key in _table(row, where):
                    if key not in known:
                        raise FieldError(f"{where}.{key}", t("settings.not_editable"))
                out[section][ident] = dict(row)
        else:
            raise FieldError(str(section)[:40], t("settings.not_editable"))
    return out


def merge(overrides: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides after a PATCH: each key of the change replaces the one before."""
    merged = copy.deepcopy(dict(overrides))
    for section, rows in change.items():
        if section in SECTIONS:
            merged.setdefault(section, {}).update(copy.deepcopy(rows))
        else:
            for ident, row in rows.items():
                merged.setdefault(section, {}).setdefault(ident, {}).update(copy.deepcopy(row))
    return merged


def _put(table: dict[str, Any], key: str, value: Any) -> None:
    """A key of the overrides on a TOML table: None takes the key away (no quota, always
    open, no running text)."""
    if value is None:
        table.pop(key, None)
    else:
        table[key] = copy.deepcopy(value)


def effective_document(document: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The seed TOML's document with the overrides laid over it."""
    doc = copy.deepcopy(dict(document))
    for section in SECTIONS:
        for key, value in overrides.get(section, {}).items():
            _put(doc.setdefault(section, {}), key, value)
    for kind, ident_key in (("services", "code"), ("counters", "number")):
        for ident, row in overrides.get(kind, {}).items():
            wanted: Any = int(ident) if kind == "counters" else ident
            target = next((r for r in doc.get(kind, []) if isinstance(r, dict)
                           and r.get(ident_key) == wanted), None)
            if target is None:
                missing = (t("config.unknown_service", code=ident) if kind == "services"
                           else t("settings.unknown_counter", counter=ident))
                raise FieldError(f"{kind}.{ident}", missing)
            for key, value in row.items():
                _put(target, key, value)
    return doc


def effective(seed: SiteConfig, overrides: Mapping[str, Any]) -> SiteConfig:
    """The effective config: the seed with the overrides, validated as the TOML is (the error
    names the field as in the TOML, e.g. `services[2].hours`). It keeps the seed's document."""
    if seed.document is None:
        raise ApiError("forbidden", t("settings.no_seed"))
    try:
        site = parse_config(effective_document(seed.document, overrides), seed.source)
    except ConfigError as exc:
        where, _, problem = str(exc).removeprefix(f"{seed.source}: ").partition(": ")
        raise FieldError(where, problem or where) from None
    return replace(site, document=seed.document)


def install(c: Context, site: SiteConfig) -> None:
    """Use `site` from now on, in every part of this process that reads the config."""
    c.site = site
    c.store.site = site
    c.fanout.site = site
    c.fanout.store.site = site
    if c.archiver is not None:
        c.archiver.site = site


def public(site: SiteConfig) -> dict[str, Any]:
    """What the screens are told of a change (the notices they fetch again, with their
    dates: `/display/papan`)."""
    return {"running_text": list(site.running_text)}


def view(site: SiteConfig, doc: Mapping[str, Any]) -> dict[str, Any]:
    """The editable parts of the effective config `site` (its document `doc`), as the TOML
    writes them (the forms)."""
    hours = {s.code: describe(s.hours) for s in site.services}
    rows = {r.get("code"): r for r in doc.get("services", []) if isinstance(r, dict)}
    return {
        "running_text": list(site.running_text),
        "holidays": sorted(d.isoformat() for d in site.holidays),
        "notices": [{"text": n.text, "start": n.start and n.start.isoformat(),
                     "end": n.end and n.end.isoformat()} for n in site.signage.texts],
        "services": [{"code": s.code, "name": s.name, "quota": s.quota,
                      "days": rows.get(s.code, {}).get("days"),
                      "hours": rows.get(s.code, {}).get("hours"),
                      "open_hours": hours[s.code]} for s in site.services],
        "counters": [{"number": c.number, "name": c.name, "services": list(c.services)}
                     for c in site.counters],
    }


@dataclass
class Live:
    """This process's view of the live settings: the seed, the version installed."""

    seed: SiteConfig
    version: int = 0
    problem: str | None = None  # why the stored overrides no longer fit the seed, if so
    # one reload or change at a time in this process: a reload's read of an older version
    # must not install it over a change this process just made
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def stored(self, c: Context) -> tuple[int, dict[str, Any], dict[str, str]]:
        raw = cast(dict[str, str], await c.store.redis.hgetall(c.store.keys("settings")))
        try:
            overrides = json.loads(raw.get("overrides") or "{}")
            version = int(raw.get("version") or 0)
        except ValueError:  # written by something else than settings.lua
            log.error("live settings unreadable: %.200r", raw)
            return 0, {}, {}
        if not isinstance(overrides, dict):
            return 0, {}, {}
        return version, overrides, raw

    async def reload(self, c: Context) -> None:
        """Install the stored settings when they are newer than this process's (the events
        follower calls it on a `settings` event and whenever it starts following)."""
        async with self.lock:
            await self._reload(c)

    async def _reload(self, c: Context) -> None:
        version, overrides, _ = await self.stored(c)
        if version == self.version:
            return
        try:
            site = effective(self.seed, overrides)
            self.problem = None
        except ApiError as exc:  # the seed TOML changed under the overrides: the seed alone
            log.error("live settings %s left out: %s", version, exc.message)
            site, self.problem = self.seed, exc.message
        install(c, site)
        self.version = version

    async def change(self, c: Context, change: Any, by: str, *, replace_all: bool = False,
                     expected: int | None = None, client: str = "") -> dict[str, Any]:
        """Check, store and apply a change (PATCH; with `replace_all`, PUT: the whole
        overrides); every other process applies it from its `settings` event."""
        checked = check_change(self.seed, change) if change or not replace_all else {}
        async with self.lock:
            return await self._change(c, checked, by, replace_all, expected, client)

    async def _change(self, c: Context, checked: dict[str, Any], by: str, replace_all: bool,
                      expected: int | None, client: str) -> dict[str, Any]:
        for attempt in range(5):
            version, before, _ = await self.stored(c)
            if expected is not None and version != expected:
                raise ApiError("settings_conflict", str(version))
            after = checked if replace_all else merge(before, checked)
            site = effective(self.seed, after)
            history = json.dumps({"client": client, "change": checked, "before": before,
                                  "after": after}, ensure_ascii=False)
            try:  # stored only if no other change came since `before` was read
                saved = await c.store.save_settings(
                    version, json.dumps(after, ensure_ascii=False), by, history,
                    json.dumps(public(site), ensure_ascii=False), HISTORY_KEPT)
                break
            except ApiError as exc:
                if exc.code != "settings_conflict" or expected is not None or attempt == 4:
                    raise
        if saved["version"] > self.version:
            install(c, site)
            self.version = saved["version"]
            self.problem = None
        return {"version": saved["version"], "event_id": saved["event_id"]}

    async def history(self, c: Context, limit: int = HISTORY_SHOWN) -> list[dict[str, Any]]:
        rows = await c.store.redis.lrange(c.store.keys("settings_history"), 0, limit - 1)
        return [json.loads(row) for row in rows]

    async def answer(self, c: Context) -> dict[str, Any]:
        """GET /api/settings: the version, the overrides and the effective editable parts."""
        version, overrides, raw = await self.stored(c)
        if version != self.version:
            await self.reload(c)
        doc = effective_document(self.seed.document or {},
                                 overrides if self.problem is None else {})
        return {"version": version, "at": raw.get("at"), "by": raw.get("by"),
                "overrides": overrides, "problem": self.problem,
                "effective": view(c.site, doc)}


def client_of(request: Request) -> str:
    """Who sent a change, for the history: the client's address (a trusted proxy's client)."""
    return request.client.host if request.client else ""


def of(request: Request) -> Live:
    live: Live = request.app.state.live
    return live


async def _office(request: Request, changing: bool) -> tuple[Context, str]:
    """The office's bearer token (`token`), or its /admin session (`admin`; a change needs the
    session's CSRF token in `X-CSRF-Token`) through the pages' hook."""
    if request.headers.get("authorization"):
        return authorize_office(request), "token"
    check = getattr(request.app.state, "office_csrf", None)
    if check is not None and await check(request, changing):
        return ctx(request), "admin"
    return authorize_office(request), "token"  # raises 401 (no token)


async def get_settings(request: Request) -> Response:
    """GET /api/settings (office)."""
    c, _ = await _office(request, False)
    return JSONResponse(await of(request).answer(c), headers={"Cache-Control": "no-store"})


async def put_settings(request: Request) -> Response:
    """PUT /api/settings: the whole overrides; PATCH: the parts given. Optional `version`:
    409 settings_conflict when another change came after it."""
    c, by = await _office(request, True)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise ApiError("invalid_body", t("settings.empty_change"))
    data = dict(data)
    expected = data.pop("version", None)
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)
                                 or expected < 0):
        raise FieldError("version", t("settings.bad_version"))
    answer = await of(request).change(c, data, by, replace_all=request.method == "PUT",
                                      expected=expected, client=client_of(request))
    return JSONResponse(answer)


async def get_history(request: Request) -> Response:
    """GET /api/settings/history (office): the latest changes, newest first."""
    c, _ = await _office(request, False)
    return JSONResponse({"changes": await of(request).history(c)},
                        headers={"Cache-Control": "no-store"})


routes: list[BaseRoute] = [
    Route("/api/settings", get_settings, methods=["GET"]),
    Route("/api/settings", put_settings, methods=["PUT", "PATCH"]),
    Route("/api/settings/history", get_history, methods=["GET"]),
]
