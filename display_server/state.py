"""The snapshot body shared by GET /api/state and the WebSocket's first message."""

from __future__ import annotations

from typing import Any

from display_server.clock import Clock, local_now
from display_server.config import SiteConfig
from display_server.hours import describe, is_open


def services_view(site: SiteConfig, clock: Clock, waiting: dict[str, int]) -> list[dict[str, Any]]:
    """Every service with its tenant, whether it takes tickets now, and how many wait."""
    now = local_now(clock, site.tz)
    out = []
    for s in site.services:
        tenant = site.tenant(s.tenant)
        out.append({
            "code": s.code,
            "name": s.name,
            "tenant": s.tenant,
            "tenant_name": tenant.name if tenant else s.tenant,
            "open": is_open(s.hours, now, site.holidays),
            "hours": describe(s.hours),
            "quota": s.quota,
            "waiting": waiting.get(s.code, 0),
        })
    return out


# Events for the archive only: never sent to screens (a visitor's survey answers).
INTERNAL_EVENTS = frozenset({"survey"})


def wants(services: frozenset[str] | None, event: dict[str, Any]) -> bool:
    """Whether a screen limited to `services` (None = all) shows this event; none shows an
    internal one."""
    if event.get("type") in INTERNAL_EVENTS:
        return False
    if services is None:
        return True
    touched = {event.get("service"), event.get("from")} - {None}
    return not touched or bool(touched & services)


def snapshot_view(site: SiteConfig, clock: Clock, raw: dict[str, Any],
                  services: frozenset[str] | None = None) -> dict[str, Any]:
    """Enrich the store's raw snapshot with names and hours, limited to `services` if given."""
    now = local_now(clock, site.tz)
    counters = []
    for entry in raw["counters"]:
        counter = site.counter(entry["number"])
        if counter is None:
            continue
        if services is not None and not set(counter.services) & services:
            continue
        counters.append({**entry, "name": counter.name, "services": list(counter.services)})
    all_services = services_view(site, clock, raw["waiting"])
    return {
        "site": {"id": site.id, "name": site.name, "timezone": site.timezone},
        "now": now.isoformat(timespec="seconds"),
        "day": now.date().isoformat(),
        "counters": counters,
        "recent": [r for r in raw["recent"] if wants(services, r)],
        "waiting": {k: v for k, v in raw["waiting"].items() if services is None or k in services},
        "services": [s for s in all_services if services is None or s["code"] in services],
        "running_text": list(site.running_text),
        "event_id": raw["event_id"],
    }
