"""Announcement settings: the `[announcement]` section of the site config, validated."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from audio.phrases import (
    DEFAULT_TEMPLATE,
    NUMBER_STYLES,
    NumberStyle,
    announcement_text,
    check_template,
    spoken_vocabulary,
    ticket_prefix,
)

SECTION = "announcement"
KEYS = ("template", "number_style", "repeat", "max_age_seconds", "rate", "voice", "voice_pack")
CACHE_SUBDIR = "audio-cache"


@dataclass(frozen=True)
class ServiceNames:
    """The names spoken for ``{service}`` and ``{tenant}`` in a service's announcement."""

    service: str
    tenant: str


def default_data_dir() -> Path:
    """The data directory when no config names one: $ANTRIAN_DATA_DIR or ./data."""
    return Path(os.environ.get("ANTRIAN_DATA_DIR", "data"))


@dataclass(frozen=True)
class AnnouncementSettings:
    """How calls are announced. Construction validates every field (ValueError names it)."""

    template: str = DEFAULT_TEMPLATE
    number_style: NumberStyle = "words"
    repeat: int = 1
    max_age_seconds: float = 120.0
    rate: int = 150
    voice: str = "id"
    voice_pack: Path | None = None
    cache_dir: Path = field(default_factory=lambda: default_data_dir() / CACHE_SUBDIR)
    cache_max_bytes: int = 200 * 1024 * 1024
    service_templates: Mapping[str, str] = field(default_factory=dict)
    service_names: Mapping[str, ServiceNames] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(self.template, "template", check_template)
        if self.number_style not in NUMBER_STYLES:
            _fail("number_style", f"expected one of {list(NUMBER_STYLES)}", self.number_style)
        _check_int(self.repeat, "repeat", 1, 10)
        age = self.max_age_seconds
        if isinstance(age, bool) or not isinstance(age, int | float) or not 0 < age < 1e9:
            _fail("max_age_seconds", "expected a number of seconds > 0", age)
        _check_int(self.rate, "rate", 80, 450)
        if not isinstance(self.voice, str) or not self.voice.strip():
            _fail("voice", "expected an espeak-ng voice name such as 'id'", self.voice)
        if self.voice_pack is not None and not isinstance(self.voice_pack, Path):
            _fail("voice_pack", "expected a folder path", self.voice_pack)
        _check_int(self.cache_max_bytes, "cache_max_bytes", 1024 * 1024, 1 << 40)
        for code, template in self.service_templates.items():
            _check(template, f"services.{code}.announcement", check_template)

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        data_dir: Path,
        service_templates: Mapping[str, str],
        service_names: Mapping[str, ServiceNames] | None = None,
    ) -> AnnouncementSettings:
        """Build settings from the TOML `[announcement]` table and per-service templates.

        A relative ``voice_pack`` is taken relative to ``data_dir``; the render cache
        lives in ``data_dir/audio-cache``. Raises ValueError naming the bad key.
        """
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise ValueError(f"[{SECTION}] {unknown[0]}: unknown key, expected one of {list(KEYS)}")
        values = {key: data[key] for key in KEYS if key in data}
        if "voice_pack" in values:
            pack = values["voice_pack"]
            if not isinstance(pack, str) or not pack.strip():
                _fail("voice_pack", "expected a folder path", pack)
            values["voice_pack"] = data_dir / pack
        if isinstance(values.get("max_age_seconds"), int):
            values["max_age_seconds"] = float(values["max_age_seconds"])
        return cls(
            **values,
            cache_dir=data_dir / CACHE_SUBDIR,
            service_templates=dict(service_templates),
            service_names=dict(service_names or {}),
        )

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
        )

    def templates(self) -> list[str]:
        """Every template in use: the default one and the per-service ones."""
        return [self.template, *self.service_templates.values()]

    def vocabulary(self) -> list[str]:
        """Every word these settings can announce, names included where templates use them."""
        names: list[str] = []
        for code, known in self.service_names.items():
            template = self.service_templates.get(code, self.template)
            names += [known.service] if "{service}" in template else []
            names += [known.tenant] if "{tenant}" in template else []
        return spoken_vocabulary(self.templates(), names)


def _check(value: Any, key: str, check: Callable[[str], object]) -> None:
    try:
        check(value)
    except ValueError as error:
        raise ValueError(f"[{SECTION}] {key}: {error}") from None


def _check_int(value: Any, key: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _fail(key, f"expected a whole number from {low} to {high}", value)


def _fail(key: str, expected: str, value: Any) -> NoReturn:
    raise ValueError(f"[{SECTION}] {key}: {expected}, got {value!r}")
