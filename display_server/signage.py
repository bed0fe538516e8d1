"""The site config's `[signage]` (the lobby TV's notices, logo and prayer times), parsed and
validated, and what the TV shows of it on a given day: the texts within their dates, the media
files of the folder, and the day's prayer times (jadwal salat) computed offline with `salat`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from salat.methods import GeneralMethod

from texts import N_, t

SECTION = "signage"
KEYS = ("folder", "logo", "quiet_seconds", "slide_seconds", "texts", "prayer")
TEXT_KEYS = ("text", "start", "end")
PRAYER_KEYS = ("latitude", "longitude", "pause_announcements", "pause_minutes")
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".webp": "image/webp", ".svg": "image/svg+xml", ".mp4": "video/mp4",
               ".webm": "video/webm"}
MEDIA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")
MEDIA_MAX = 50  # files shown from the folder, by name
# Kemenag RI's angles: Subuh with the sun 20° below the horizon, Isya 18°.
FAJR_DEGREES = 20.0
ISHA_DEGREES = 18.0
PRAYERS = {"fajr": N_("prayer.fajr"), "dhuhr": N_("prayer.dhuhr"), "asr": N_("prayer.asr"),
           "maghrib": N_("prayer.maghrib"), "isha": N_("prayer.isha")}


@dataclass(frozen=True)
class Notice:
    """A text shown from `start` to `end` (site-local days, both included; None: open)."""

    text: str
    start: date | None = None
    end: date | None = None

    def shown_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Prayer:
    """The site's coordinates for its prayer times; with `pause_announcements` the TVs say no
    call from each prayer's time for `pause_minutes`."""

    latitude: float
    longitude: float
    pause_announcements: bool = False
    pause_minutes: int = 10


@dataclass(frozen=True)
class Signage:
    folder: Path | None = None          # images and videos, shown when the hall is quiet
    logo: Path | None = None            # the site's logo in the TV's header
    quiet_seconds: int = 60             # no call for this long: the notices show
    slide_seconds: int = 10             # each image or text this long (a video: to its end)
    texts: tuple[Notice, ...] = ()
    prayer: Prayer | None = None


def parse_signage(data: Mapping[str, Any], source: str) -> Signage:
    """Read the TOML `[signage]` table; paths are relative to the config file's folder (the
    embedded demo's: its package folder). ValueError names the bad key."""
    _known(data, KEYS, SECTION)
    base = (Path(__file__).parent / "sites" if source.startswith("<")
            else Path(source).resolve().parent)
    folder = _path(data, "folder", base, directory=True)
    logo = _path(data, "logo", base, directory=False)
    if logo is not None and logo.suffix.lower() not in MEDIA_TYPES:
        _fail(f"{SECTION}.logo", t("config.one_of", choices=", ".join(sorted(MEDIA_TYPES))),
              logo.name)
    rows = data.get("texts", [])
    if not isinstance(rows, list):
        _fail(f"{SECTION}.texts", t("config.not_a_table"), rows)
    return Signage(
        folder=folder,
        logo=logo,
        quiet_seconds=_int(data, "quiet_seconds", 60, 1, 3600, SECTION),
        slide_seconds=_int(data, "slide_seconds", 10, 2, 600, SECTION),
        texts=tuple(_notice(row, f"{SECTION}.texts[{i}]") for i, row in enumerate(rows)),
        prayer=_prayer(data["prayer"]) if "prayer" in data else None,
    )


def media(signage: Signage) -> list[tuple[str, str]]:
    """(file name, content type) of the images and videos in the folder, by name."""
    if signage.folder is None:
        return []
    try:
        entries = sorted(signage.folder.iterdir())
    except OSError:
        return []
    home = signage.folder.resolve()
    found = [(p.name, MEDIA_TYPES[p.suffix.lower()]) for p in entries
             if MEDIA_NAME.fullmatch(p.name) and p.suffix.lower() in MEDIA_TYPES
             and p.is_file() and p.resolve().parent == home]  # no link out of the folder
    return found[:MEDIA_MAX]


def media_file(signage: Signage, name: str) -> tuple[Path, str] | None:
    """The file a TV asks for by name, only when it is one the folder lists (no path, no link
    out of the folder), with its content type; None otherwise."""
    if signage.folder is None or not MEDIA_NAME.fullmatch(name):
        return None
    kinds = dict(media(signage))
    if name not in kinds:
        return None
    path = (signage.folder / name).resolve()
    if path.parent != signage.folder.resolve() or not path.is_file():
        return None
    return path, kinds[name]


def prayer_times(prayer: Prayer, day: date, tz: ZoneInfo) -> dict[str, datetime]:
    """The five prayer times of `day` at the site, in its zone: fajr (Subuh, sun 20° below the
    horizon), dhuhr, asr (shadow = length + noon shadow), maghrib, isha (18° below)."""
    method = GeneralMethod(FAJR_DEGREES, ISHA_DEGREES)
    times = method.calc_times(day, tz, prayer.longitude, prayer.latitude)
    return {name: times[name].astimezone(tz) for name in PRAYERS}


def _notice(row: Any, where: str) -> Notice:
    if not isinstance(row, dict):
        _fail(where, t("config.not_a_table"), row)
    _known(row, TEXT_KEYS, where)
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        _fail(f"{where}.text", t("config.required"), text)
    start, end = _day(row, "start", where), _day(row, "end", where)
    if start is not None and end is not None and end < start:
        raise ValueError(f"{where}.end: " + t("config.signage_dates", start=start, end=end))
    return Notice(" ".join(text.split()), start, end)


def _prayer(data: Any) -> Prayer:
    where = f"{SECTION}.prayer"
    if not isinstance(data, dict):
        _fail(where, t("config.not_a_table"), data)
    _known(data, PRAYER_KEYS, where)
    pause = data.get("pause_announcements", False)
    if not isinstance(pause, bool):
        _fail(f"{where}.pause_announcements", t("config.one_of", choices="true, false"), pause)
    return Prayer(latitude=_degrees(data, "latitude", 90.0, where),
                  longitude=_degrees(data, "longitude", 180.0, where),
                  pause_announcements=pause,
                  pause_minutes=_int(data, "pause_minutes", 10, 1, 60, where))


def _degrees(data: Mapping[str, Any], key: str, limit: float, where: str) -> float:
    value = data.get(key)
    if (not isinstance(value, int | float) or isinstance(value, bool)
            or not -limit <= value <= limit):
        raise ValueError(f"{where}.{key}: " + t("config.signage_degrees", lo=-limit, hi=limit,
                                                   value=value))
    return float(value)


def _int(data: Mapping[str, Any], key: str, default: int, lo: int, hi: int, where: str) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{where}.{key}: " + t("config.signage_seconds", lo=lo, hi=hi,
                                                   value=value))
    return value


def _day(row: Mapping[str, Any], key: str, where: str) -> date | None:
    value = row.get(key)
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{where}.{key}: " + t("config.signage_date", value=value))


def _path(data: Mapping[str, Any], key: str, base: Path, directory: bool) -> Path | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        _fail(f"{SECTION}.{key}", t("config.folder_path"), value)
    path = base / value
    try:
        is_dir = path.stat() and path.is_dir()
    except OSError as exc:
        raise ValueError(f"{SECTION}.{key}: " + t("config.signage_folder", path=str(path),
                                                      error=exc.strerror)) from None
    if is_dir != directory:
        _fail(f"{SECTION}.{key}",
              t("config.folder_path") if directory else t("config.signage_file"), value)
    return path


def _known(data: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: " + t("config.unknown_key",
                                                       allowed=", ".join(keys)))


def _fail(where: str, expected: str, value: Any) -> NoReturn:
    raise ValueError(f"{where}: " + t("config.value_not", expected=expected, value=value))
