"""Announcement settings for rendering: the site's `[announcement]` (validated by the core
config), the data dir's folders, and each service's template and names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from audio.letters import Lettering
from audio.phrases import announcement_text, spoken_vocabulary, ticket_prefix
from audio.voicepack import MANIFEST
from display_server.announcement import Announcement, check_template
from display_server.config import SiteConfig
from display_server.paths import data_dir
from texts import t

CACHE_SUBDIR = "audio-cache"
VOICE_SUBDIR = "voice"  # the voice studio's packs (audio/studio.py)
LIVE_PACK = "aktif"  # the studio's live pack under VOICE_SUBDIR when `voice_pack` is not set


def live_pack_dir(voice_pack: str | None, directory: Path) -> Path:
    """Where the live voice pack is: `voice_pack` under the data dir, else the studio's."""
    return directory / (voice_pack if voice_pack is not None else f"{VOICE_SUBDIR}/{LIVE_PACK}")


@dataclass(frozen=True)
class ServiceNames:
    """The names spoken for ``{service}`` and ``{tenant}`` in a service's announcement."""

    service: str
    tenant: str


@dataclass(frozen=True)
class AnnouncementSettings(Announcement):
    """How calls are announced and where their audio is kept. Construction validates every
    field (ValueError names it)."""

    pack_dir: Path | None = None  # the voice pack's folder, `voice_pack` under the data dir
    cache_dir: Path = field(default_factory=lambda: data_dir() / CACHE_SUBDIR)
    cache_max_bytes: int = 200 * 1024 * 1024
    service_templates: Mapping[str, str] = field(default_factory=dict)
    service_names: Mapping[str, ServiceNames] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pack_dir is not None and not isinstance(self.pack_dir, Path):
            expected = t("config.folder_path")
            raise ValueError("pack_dir: " + t("config.value_not", expected=expected,
                                              value=self.pack_dir))
        size = self.cache_max_bytes
        if isinstance(size, bool) or not isinstance(size, int) or not 1 << 20 <= size <= 1 << 40:
            expected = t("audio.cache_size")
            raise ValueError("cache_max_bytes: " + t("config.value_not", expected=expected,
                                                     value=size))
        for code, template in self.service_templates.items():
            try:
                check_template(template)
            except ValueError as error:
                raise ValueError(f"services.{code}.announcement: {error}") from None

    @classmethod
    def from_site(cls, site: SiteConfig, directory: Path) -> AnnouncementSettings:
        """The site's `[announcement]` with each service's `announcement`, name and tenant; a
        relative `voice_pack` is under `directory` (the data dir), the render cache in
        `directory/audio-cache`."""
        spoken = site.announcement
        tenants = {tenant.id: tenant.name for tenant in site.tenants}
        return cls(
            **asdict(spoken),
            pack_dir=_pack_dir(spoken.voice_pack, directory),
            cache_dir=directory / CACHE_SUBDIR,
            service_templates={s.code: s.announcement for s in site.services if s.announcement},
            service_names={
                s.code: ServiceNames(s.name, tenants.get(s.tenant, "")) for s in site.services
            },
        )

    @property
    def lettering(self) -> Lettering:
        """How this site says a ticket's letters (`letter_names`, `spelled_letters`,
        `spelling_words`)."""
        return Lettering(self.letter_names, self.spelled_letters, self.spelling_words)

    def text(self, code: str, counter: int, service: str | None = None) -> str:
        """The sentence announcing ``code`` at ``counter``; ``service`` defaults to the prefix."""
        service = service if service is not None else ticket_prefix(code)
        names = self.service_names.get(service, ServiceNames("", ""))
        return announcement_text(
            code,
            counter,
            template=self.service_templates.get(service, self.template),
            style=self.number_style,
            service=names.service,
            tenant=names.tenant,
            lettering=self.lettering,
        )

    def merged_text(self, calls: Sequence[tuple[str, int, str | None]]) -> str:
        """One sentence for a burst of (code, counter, service) calls, each part from
        `merge_template`, joined with commas: "Nomor a dua belas ke loket tiga, nomor b empat
        ke loket tujuh". A single call is its own service's sentence (`text`)."""
        if len(calls) == 1:
            return self.text(*calls[0])
        parts = []
        for code, counter, service in calls:
            names = self.service_names.get(service if service is not None
                                           else ticket_prefix(code), ServiceNames("", ""))
            parts.append(announcement_text(code, counter, template=self.merge_template,
                                           style=self.number_style, service=names.service,
                                           tenant=names.tenant, lettering=self.lettering))
        return ", ".join([parts[0], *(p[:1].lower() + p[1:] for p in parts[1:])])

    def templates(self) -> list[str]:
        """Every template in use: the default one, the burst's and the per-service ones."""
        return [self.template, self.merge_template, *self.service_templates.values()]

    def vocabulary(self) -> list[str]:
        """Every word these settings can announce, names included where templates use them."""
        names: list[str] = []
        for code, known in self.service_names.items():
            template = self.service_templates.get(code, self.template) + self.merge_template
            names += [known.service] if "{service}" in template else []
            names += [known.tenant] if "{tenant}" in template else []
        return spoken_vocabulary(self.templates(), names, self.lettering)


def _pack_dir(voice_pack: str | None, directory: Path) -> Path | None:
    """The configured pack, else the studio's published one if there is one."""
    live = live_pack_dir(voice_pack, directory)
    return live if voice_pack is not None or (live / MANIFEST).is_file() else None
