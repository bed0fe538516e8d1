"""Site configuration: read a TOML file into validated, frozen dataclasses."""

from __future__ import annotations

import copy
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from display_server.announcement import Announcement, check_template
from display_server.complaints_config import Complaints
from display_server.hours import OpeningHours, parse_hours
from display_server.settings import Kiosk, Rate, parse_printer, parse_url
from display_server.signage import Signage, parse_signage
from display_server.wayfinding import Popular, check_icon
from texts import t

DEMO_CONFIG = "serang.toml"
T = TypeVar("T")
SITE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
SERVICE_CODE = re.compile(r"[A-Z]{1,3}")
TENANT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class ConfigError(ValueError):
    """The site configuration is invalid; the message names the file and field."""


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    icon: str | None = None      # a built-in kiosk icon (wayfinding.ICONS)...
    logo: str | None = None      # ...or the path of a logo image (config `icon = "logo.png"`)
    floor: str | None = None     # where its services are, unless a service says otherwise
    zone: str | None = None


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    tenant: str
    hours: OpeningHours | None = None
    quota: int | None = None
    announcement: str | None = None
    keywords: tuple[str, ...] = ()   # what visitors search for on the kiosk: "KTP", "akta"
    floor: str | None = None
    zone: str | None = None


@dataclass(frozen=True)
class Counter:
    number: int
    name: str
    services: tuple[str, ...]
    policy: str = "order"


@dataclass(frozen=True)
class PriorityCategory:
    id: str
    name: str


@dataclass(frozen=True)
class ScreenProfile:
    """A TV or announcer the site knows: its played reports are accepted under `id`, and
    `/display?profile=id` shows `services` (every service when the config lists none)."""

    id: str
    name: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class SiteConfig:
    id: str
    name: str
    timezone: str
    tenants: tuple[Tenant, ...]
    services: tuple[Service, ...]
    counters: tuple[Counter, ...]
    priority_categories: tuple[PriorityCategory, ...] = ()
    screens: tuple[ScreenProfile, ...] = ()
    running_text: tuple[str, ...] = ()
    holidays: frozenset[date] = frozenset()
    priority_every: int = 3
    grace_minutes: int = 15
    secret: str | None = None
    announcement: Announcement = field(default_factory=Announcement)
    kiosk: Kiosk = field(default_factory=Kiosk)
    signage: Signage = field(default_factory=Signage)  # [signage]: the lobby TV's notices
    complaints: Complaints = field(default_factory=Complaints)  # [complaints]
    popular: tuple[Popular, ...] = ()    # [[kiosk.popular]]: the kiosk's big document buttons
    # [site] hosts: the host names (lowercase, no port) this site answers for when one
    # `antrian serve` serves several sites (antrian/host_sites.py); empty: any host
    hosts: tuple[str, ...] = ()
    source: str = "<memory>"
    # the parsed TOML this config was read from: the seed the office's live settings are laid
    # over (display_server/live_config.py); None for a config built in code
    document: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def service(self, code: str) -> Service | None:
        return self._services_by_code().get(code)

    def counter(self, number: int) -> Counter | None:
        return self._counters_by_number().get(number)

    def tenant(self, tenant_id: str) -> Tenant | None:
        return next((t for t in self.tenants if t.id == tenant_id), None)

    def screen(self, profile_id: str) -> ScreenProfile | None:
        return next((s for s in self.screens if s.id == profile_id), None)

    def _services_by_code(self) -> dict[str, Service]:
        return {s.code: s for s in self.services}

    def _counters_by_number(self) -> dict[int, Counter]:
        return {c.number: c for c in self.counters}


class _Reader:
    """Typed access to one TOML table, raising ConfigError with the field's path."""

    def __init__(self, source: str, path: str, table: Any, known: set[str]) -> None:
        self.source = source
        self.path = path
        if not isinstance(table, dict):
            self.fail("", t("config.not_a_table"))
        unknown = sorted(set(table) - known)
        if unknown:
            self.fail(unknown[0], t("config.unknown_key", allowed=", ".join(sorted(known))))
        self.table: dict[str, Any] = table

    def fail(self, key: str, message: str) -> NoReturn:
        where = f"{self.path}.{key}" if key else self.path
        raise ConfigError(f"{self.source}: {where.lstrip('.')}: {message}")

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        if key not in self.table:
            if default is ...:
                self.fail(key, t("config.required"))
            return default
        value = self.table[key]
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            self.fail(key, t("config.wrong_type", expected=kind.__name__,
                              actual=type(value).__name__, value=value))
        return value

    def text(self, key: str, default: Any = ..., pattern: re.Pattern[str] | None = None) -> Any:
        if key not in self.table:
            return self.get(key, str, default)
        value: str = self.get(key, str)
        if not value.strip():
            self.fail(key, t("config.empty"))
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(key, t("config.no_match", value=value, pattern=pattern.pattern))
        return value

    def number(self, key: str, default: Any = ..., lo: int = 0, hi: int = 1_000_000) -> Any:
        if key not in self.table:
            return self.get(key, int, default)
        value: int = self.get(key, int)
        if not lo <= value <= hi:
            self.fail(key, t("config.out_of_range", lo=lo, hi=hi, value=value))
        return value

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...]:
        if key not in self.table:
            return tuple(self.get(key, list, default))
        value: list[Any] = self.get(key, list)
        if not all(isinstance(v, str) for v in value):
            self.fail(key, t("config.not_strings"))
        return tuple(value)

    def tables(self, key: str) -> list[Any]:
        value = self.get(key, list, [])
        return list(value)


def _tenants(src: str, rows: list[Any]) -> tuple[Tenant, ...]:
    tenants: list[Tenant] = []
    for i, row in enumerate(rows):
        r = _Reader(src, f"tenants[{i}]", row, {"id", "name", "icon", "floor", "zone"})
        icon: str | None = r.text("icon", None)
        try:
            builtin, logo = check_icon(icon, src) if icon else (None, None)
        except ValueError as exc:
            r.fail("icon", str(exc))
        tenant = Tenant(id=r.text("id", pattern=TENANT_ID), name=r.text("name"), icon=builtin,
                        logo=logo, floor=r.text("floor", None), zone=r.text("zone", None))
        if any(t.id == tenant.id for t in tenants):
            r.fail("id", t("config.duplicate_tenant", tenant=tenant.id))
        tenants.append(tenant)
    return tuple(tenants)


def _services(src: str, rows: list[Any], tenant_ids: set[str]) -> tuple[Service, ...]:
    services: list[Service] = []
    known = {"code", "name", "tenant", "days", "hours", "quota", "announcement", "keywords",
             "floor", "zone"}
    for i, row in enumerate(rows):
        r = _Reader(src, f"services[{i}]", row, known)
        code = r.text("code", pattern=SERVICE_CODE)
        tenant = r.text("tenant")
        if tenant not in tenant_ids:
            r.fail("tenant", t("config.unknown_tenant", tenant=tenant))
        if any(s.code == code for s in services):
            r.fail("code", t("config.duplicate_service", code=code))
        hours = None
        if "days" in r.table or "hours" in r.table:
            try:
                hours = parse_hours(r.table.get("days"), r.table.get("hours"))
            except ValueError as exc:
                r.fail("hours", str(exc))
        services.append(
            Service(
                code=code,
                name=r.text("name"),
                tenant=tenant,
                hours=hours,
                quota=r.number("quota", None, lo=1, hi=9999),
                announcement=_template(r),
                keywords=r.strings("keywords", ()),
                floor=r.text("floor", None),
                zone=r.text("zone", None),
            )
        )
    return tuple(services)


def _template(r: _Reader) -> str | None:
    """A service's own announcement template, checked like `[announcement] template`."""
    template: str | None = r.text("announcement", None)
    if template is not None:
        try:
            check_template(template)
        except ValueError as exc:
            r.fail("announcement", str(exc))
    return template


KIOSK_KEYS = {"rate", "printer", "public_url", "popular"}


def _popular(r: _Reader, codes: set[str]) -> tuple[Popular, ...]:
    """`[[kiosk.popular]]`: label, the services it stands for, an optional built-in icon."""
    buttons: list[Popular] = []
    for i, row in enumerate(r.tables("popular")):
        b = _Reader(r.source, f"kiosk.popular[{i}]", row, {"label", "services", "icon"})
        services = b.strings("services")
        if not services:
            b.fail("services", t("config.popular_without_service"))
        for code in services:
            if code not in codes:
                b.fail("services", t("config.unknown_service", code=code))
        icon: str | None = b.text("icon", None)
        if icon is not None:
            try:
                if check_icon(icon, r.source)[0] is None:
                    raise ValueError(t("config.popular_icon"))
            except ValueError as exc:
                b.fail("icon", str(exc))
        buttons.append(Popular(b.text("label"), services, icon))
    return tuple(buttons)


def _kiosk(r: _Reader) -> Kiosk:
    """`[kiosk]`: each key parsed as its environment variable is (settings.Settings)."""
    return Kiosk(rate=_parsed(r, "rate", Rate.parse),
                 printer=_parsed(r, "printer", parse_printer),
                 public_url=_parsed(r, "public_url", parse_url))


def _parsed(r: _Reader, key: str, parse: Callable[[str], T]) -> T | None:
    text: str | None = r.text(key, None)
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        r.fail(key, str(exc))


def _counters(src: str, rows: list[Any], codes: set[str]) -> tuple[Counter, ...]:
    counters: list[Counter] = []
    for i, row in enumerate(rows):
        r = _Reader(src, f"counters[{i}]", row, {"number", "name", "services", "policy"})
        number = r.number("number", lo=1, hi=999)
        services = r.strings("services")
        if not services:
            r.fail("services", t("config.counter_without_service"))
        for code in services:
            if code not in codes:
                r.fail("services", t("config.unknown_service", code=code))
        if len(set(services)) != len(services):
            r.fail("services", t("config.service_twice"))
        policy = r.text("policy", "order")
        if policy not in ("order", "oldest"):
            r.fail("policy", t("config.bad_policy"))
        if any(c.number == number for c in counters):
            r.fail("number", t("config.duplicate_counter", number=number))
        name = r.text("name", t("site.counter_name", number=number))
        counters.append(Counter(number, name, services, policy))
    return tuple(counters)


def _named(src: str, key: str, rows: list[Any]) -> list[tuple[_Reader, str, str]]:
    out: list[tuple[_Reader, str, str]] = []
    for i, row in enumerate(rows):
        known = {"id", "name", "services"} if key == "screens" else {"id", "name"}
        r = _Reader(src, f"{key}[{i}]", row, known)
        ident = r.text("id", pattern=TENANT_ID)
        if any(ident == seen for _, seen, _ in out):
            r.fail("id", t("config.duplicate_id", id=ident))
        out.append((r, ident, r.text("name")))
    return out


def parse_config(data: dict[str, Any], source: str = "<memory>") -> SiteConfig:
    """Validate a parsed TOML document; raise ConfigError naming the bad field."""
    top = _Reader(
        source,
        "",
        data,
        {"site", "tenants", "services", "counters", "priority_categories", "screens",
         "announcement", "kiosk", "complaints", "signage"},
    )
    site = _Reader(
        source,
        "site",
        top.get("site", dict),
        {"id", "name", "timezone", "running_text", "holidays", "priority_every",
         "grace_minutes", "secret", "hosts"},
    )
    timezone = site.text("timezone", "Asia/Jakarta")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        site.fail("timezone", t("config.unknown_timezone", timezone=timezone))
    running = site.table.get("running_text", ())
    running_text = (running,) if isinstance(running, str) else site.strings("running_text", ())
    holidays: set[date] = set()
    for day in site.get("holidays", list, []):
        try:
            holidays.add(day if isinstance(day, date) else date.fromisoformat(day))
        except (TypeError, ValueError):
            site.fail("holidays", t("config.bad_holiday", day=day))
    tenants = _tenants(source, top.tables("tenants"))
    if not tenants:
        top.fail("tenants", t("config.no_tenants"))
    services = _services(source, top.tables("services"), {t.id for t in tenants})
    if not services:
        top.fail("services", t("config.no_services"))
    codes = {s.code for s in services}
    counters = _counters(source, top.tables("counters"), codes)
    categories = tuple(PriorityCategory(i, n) for _, i, n in
                       _named(source, "priority_categories", top.tables("priority_categories")))
    screens: list[ScreenProfile] = []
    for r, sid, name in _named(source, "screens", top.tables("screens")):
        wanted = r.strings("services", ()) or tuple(s.code for s in services)
        for code in wanted:
            if code not in codes:
                r.fail("services", t("config.unknown_service", code=code))
        screens.append(ScreenProfile(sid, name, wanted))
    kiosk = _Reader(source, "kiosk", top.get("kiosk", dict, {}), KIOSK_KEYS)
    try:
        announcement = Announcement.from_mapping(top.get("announcement", dict, {}))
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    try:
        complaints = Complaints.from_mapping(top.get("complaints", dict, {}))
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    try:
        signage = parse_signage(top.get("signage", dict, {}), source)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    return SiteConfig(
        id=site.text("id", pattern=SITE_ID),
        name=site.text("name"),
        timezone=timezone,
        tenants=tenants,
        services=services,
        counters=counters,
        priority_categories=categories,
        screens=tuple(screens),
        running_text=running_text,
        holidays=frozenset(holidays),
        priority_every=site.number("priority_every", 3, lo=1, hi=100),
        grace_minutes=site.number("grace_minutes", 15, lo=0, hi=24 * 60),
        secret=site.text("secret", None),
        hosts=_hosts(site),
        announcement=announcement,
        signage=signage,
        complaints=complaints,
        kiosk=_kiosk(kiosk),
        popular=_popular(kiosk, codes),
        source=source,
        document=copy.deepcopy(data),
    )


HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
                       r"(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def _hosts(site: _Reader) -> tuple[str, ...]:
    """[site] hosts: host names as a browser sends them in Host, lowercased, no port."""
    hosts = tuple(h.strip().lower().rstrip(".") for h in site.strings("hosts", ()))
    for host in hosts:
        if not HOST_NAME.fullmatch(host):
            site.fail("hosts", t("config.bad_host", host=host))
    return hosts


def config_path(explicit: str | None = None) -> str | None:
    """The config file to use: the flag, then ANTRIAN_CONFIG, else None (the demo site)."""
    return explicit or os.environ.get("ANTRIAN_CONFIG") or None


def load_config(path: str | None = None) -> SiteConfig:
    """Load the site config from `path`, ANTRIAN_CONFIG, or the embedded demo site."""
    chosen = config_path(path)
    if chosen is None:
        text = resources.files("display_server.sites").joinpath(DEMO_CONFIG).read_text("utf-8")
        source = f"<demo {DEMO_CONFIG}>"
    else:
        try:
            text = Path(chosen).read_text("utf-8")
        except OSError as exc:
            problem = t("config.unreadable", error=exc.strerror)
            raise ConfigError(f"{chosen}: {problem}") from exc
        source = str(chosen)  # a caller's Path too (signage resolves paths from it)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = t("config.invalid_toml", error=exc)
        raise ConfigError(f"{source}: {problem}") from exc
    return parse_config(data, source)
