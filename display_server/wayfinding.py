"""Where a visitor goes for a service: the agency, the counters that serve it ("Loket 15–16"),
the floor and zone; the kiosk's built-in agency icons and its popular-document buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from texts import t

if TYPE_CHECKING:
    from display_server.config import SiteConfig

# The inline SVG icons the kiosk ships (display_screens/templates/kiosk_icons.html): a tenant's
# `icon` is one of these names, or the path of a logo image beside the site config.
ICONS = frozenset({
    "bank", "bolt", "briefcase", "building", "car", "document", "droplet", "heart", "id-card",
    "land", "mail", "mosque", "people", "pill", "receipt", "scales", "shield", "truck",
})
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
              ".jpeg": "image/jpeg", ".webp": "image/webp"}
LOGO_MAX_BYTES = 512 * 1024
ICON_NAME = re.compile(r"[a-z][a-z-]*")


@dataclass(frozen=True)
class Popular:
    """A big button on the kiosk for one of the most asked-for documents (KTP, SKCK, ...):
    one open service issues its ticket at once, several are offered as a short list."""

    label: str
    services: tuple[str, ...]
    icon: str | None = None


def logo_file(icon: str, source: str) -> Path:
    """The file of a logo `icon` given as a path: absolute, or relative to the config file's
    folder (the embedded demo's: its package folder). ValueError when unusable."""
    path = Path(icon)
    if not path.is_absolute():
        base = (Path(__file__).parent / "sites" if source.startswith("<")
                else Path(source).resolve().parent)
        path = base / path
    kind = LOGO_TYPES.get(path.suffix.lower())
    if kind is None:
        raise ValueError(t("config.logo_type", types=", ".join(sorted(LOGO_TYPES))))
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValueError(t("config.logo_missing", path=str(path), error=exc.strerror)) from exc
    if size > LOGO_MAX_BYTES:
        raise ValueError(t("config.logo_too_big", kb=LOGO_MAX_BYTES // 1024))
    return path


def check_icon(icon: str, source: str) -> tuple[str | None, str | None]:
    """(built-in icon name, logo file path) of a tenant's `icon`; ValueError when neither."""
    if ICON_NAME.fullmatch(icon):
        if icon not in ICONS:
            raise ValueError(t("config.unknown_icon", icon=icon, icons=", ".join(sorted(ICONS))))
        return icon, None
    return None, str(logo_file(icon, source))


def counter_numbers(site: SiteConfig, code: str) -> list[int]:
    """The numbers of the counters that serve service `code`, ascending."""
    return sorted(c.number for c in site.counters if code in c.services)


def ranges(numbers: list[int]) -> str:
    """1, 2, 3, 5, 7, 8 → "1–3, 5, 7–8" (runs of consecutive numbers joined by an en dash)."""
    parts: list[str] = []
    start = prev = None
    for n in [*sorted(set(numbers)), None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}–{prev}")
        start = prev = n
    return ", ".join(parts)


def counters_text(numbers: list[int]) -> str:
    """ "Loket 15–16", or "" when no counter serves it."""
    return t("place.counters", numbers=ranges(numbers)) if numbers else ""


def place(site: SiteConfig, code: str) -> dict[str, Any]:
    """What a visitor reads about where service `code` is served: the agency's name, the
    counters (numbers and text), the floor and zone (None when the config gives none)."""
    service = site.service(code)
    tenant = site.tenant(service.tenant) if service else None
    numbers = counter_numbers(site, code)
    floor = (service.floor if service and service.floor else
             tenant.floor if tenant else None)
    zone = (service.zone if service and service.zone else
            tenant.zone if tenant else None)
    return {
        "tenant_name": tenant.name if tenant else None,
        "counters": numbers,
        "counters_text": counters_text(numbers),
        "floor": floor,
        "zone": zone,
        "where": where_text(floor, zone),
    }


def where_text(floor: str | None, zone: str | None) -> str:
    """ "Lantai 2 · Zona B", either alone, or ""."""
    return " · ".join(x for x in (floor, zone) if x)
