"""Announcement settings from the site config that `display_server.config` loads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from audio.settings import AnnouncementSettings, ServiceNames

if TYPE_CHECKING:
    from display_server.config import SiteConfig


def announcement_settings(site: SiteConfig, data_dir: Path) -> AnnouncementSettings:
    """Settings from `[announcement]` and each service's `announcement`, name and tenant.

    Raises ValueError naming the bad key.
    """
    tenants = {tenant.id: tenant.name for tenant in site.tenants}
    return AnnouncementSettings.from_mapping(
        site.announcement,
        data_dir=data_dir,
        service_templates={s.code: s.announcement for s in site.services if s.announcement},
        service_names={
            s.code: ServiceNames(s.name, tenants.get(s.tenant, "")) for s in site.services
        },
    )
