"""The voice pack an office records: the clips its announcements need (the script), a draft being
recorded, published versions (the live pack points at one; older ones restorable), and the pack
as one file (zip: manifest + SHA-256 of every clip) for sites that share a voice.

Layout under ``root`` (DATA_DIR/voice): ``draft/`` (a pack folder), ``versions/<n>/`` (never
changed once written) and the live pack: a symbolic link to one version, at the configured
`[announcement] voice_pack` or ``root/aktif``."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import string
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from audio import processing, wavs
from audio.numbers import terbilang
from audio.phrases import PAUSE, tokens
from audio.settings import VOICE_SUBDIR, AnnouncementSettings, live_pack_dir
from audio.voicepack import MANIFEST, MAX_PHRASE_WORDS, VoicePack, VoicePackError, clip_file_name
from texts import t

EXPORT_FORMAT = "antrian-voice-pack/1"
EXPORT_INDEX = "antrian-pack.json"
MAX_IMPORT_BYTES = 64 * 1024 * 1024
MAX_IMPORT_FILES = 400
MAX_IMPORT_FILE_BYTES = 8 * 1024 * 1024  # a clip of 8 s at 22050 Hz is 0.35 MB


class StudioError(ValueError):
    """A studio action refused; ``code`` for the API, the message in Indonesian."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NeededClip:
    """One line of the recording script: the words (the pack's key), what to read aloud, the
    group it belongs to (angka, huruf, kalimat) and its longest accepted length."""

    key: tuple[str, ...]
    read: str
    group: str
    max_seconds: float

    @property
    def id(self) -> str:
        """The clip's name in URLs and file names, e.g. "nomor_antrian"."""
        return clip_file_name(self.key)[: -len(".wav")]


def needed_clips(settings: AnnouncementSettings) -> list[NeededClip]:
    """Every clip the site's announcements join: the number words (0-19, puluh, belas, ratus,
    seratus, ribu, seribu), the letters of the services' prefixes as the site says them (its
    `letter_names`, "ce untuk cinta" for a spelled letter), and the fixed words of
    every template in use (with the service and tenant names the templates speak)."""
    found: dict[tuple[str, ...], NeededClip] = {}

    def add(words: list[str], group: str, read: str | None = None) -> None:
        for i in range(0, len(words), MAX_PHRASE_WORDS):
            key = tuple(words[i : i + MAX_PHRASE_WORDS])
            if key and key not in found:
                limit = (processing.MAX_WORD_SECONDS if len(key) == 1
                         else processing.MAX_PHRASE_SECONDS)
                found[key] = NeededClip(key, read or " ".join(key), group, limit)

    for n in range(20):
        for word in terbilang(n).split():
            add([word], "angka")
    for word in ("puluh", "ratus", "seratus", "ribu", "seribu"):
        add([word], "angka")
    for code in sorted(settings.service_names):
        for letter in code.rstrip("0123456789"):
            said = settings.lettering.say(letter)
            add([w for w in tokens(said) if w != PAUSE], "huruf",
                t("studio.read_letter", letter=letter, name=said))
    spoken_names: list[str] = []
    for code, names in settings.service_names.items():
        template = settings.service_templates.get(code, settings.template) + \
            settings.merge_template
        spoken_names += [names.service] if "{service}" in template else []
        spoken_names += [names.tenant] if "{tenant}" in template else []
    for text in [*(literal for template in settings.templates()
                   for literal, *_ in string.Formatter().parse(template)), *spoken_names]:
        run: list[str] = []
        for token in [*tokens(text), PAUSE]:
            if token != PAUSE:
                run.append(token)
            elif run:
                add(run, "kalimat")
                run = []
    return list(found.values())


@dataclass(frozen=True)
class Version:
    """A published pack."""

    number: int
    published: float  # Unix time
    clips: int
    active: bool


class Studio:
    """The packs of one site under ``root``, the live one at ``live``. Safe across processes:
    each change holds ``root/.lock``."""

    def __init__(self, root: Path, live: Path) -> None:
        self.root = root
        self.live = live
        self.draft_dir = root / "draft"
        self.versions_dir = root / "versions"

    @classmethod
    def for_site(cls, voice_pack: str | None, directory: Path) -> Studio:
        """The studio of a site whose data dir is ``directory``: DATA_DIR/voice, the live pack
        at `voice_pack` or DATA_DIR/voice/aktif."""
        return cls(directory / VOICE_SUBDIR, live_pack_dir(voice_pack, directory))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def active_dir(self) -> Path | None:
        """The folder the live pack is, if there is one."""
        return self.live if (self.live / MANIFEST).is_file() else None

    def draft(self) -> VoicePack:
        """The draft, started as a copy of the live pack (or empty)."""
        with self._locked():
            return self._draft()

    def _draft(self) -> VoicePack:
        if not (self.draft_dir / MANIFEST).is_file():
            shutil.rmtree(self.draft_dir, ignore_errors=True)
            active = self.active_dir()
            if active is not None:
                shutil.copytree(active, self.draft_dir, symlinks=False,
                                ignore=shutil.ignore_patterns(".*"))
            else:
                VoicePack(self.draft_dir, {}).save()
        return VoicePack.load(self.draft_dir)

    def record(self, needed: NeededClip, data: bytes) -> processing.Processed:
        """Process one recording into the draft's clip for ``needed``; a refused recording
        (processing.RecordingRefused) leaves the draft as it was."""
        done = processing.process(data, max_seconds=needed.max_seconds)
        with self._locked():
            pack = self._draft()
            path = self.draft_dir / (needed.id + ".wav")
            _write(path, wavs.to_bytes(done.clip))
            # the pack's level is known only while every clip came through the studio
            levelled = not pack.clips or pack.lufs == processing.TARGET_LUFS
            replace(pack.with_clips({needed.key: path}),
                    lufs=processing.TARGET_LUFS if levelled else None).save()
        return done

    def versions(self) -> list[Version]:
        """Published versions, newest first."""
        active = self.live.resolve() if self.live.is_symlink() else None
        found = []
        for folder in self.versions_dir.glob("*"):
            if folder.name.isdigit() and (folder / MANIFEST).is_file():
                try:
                    count = len(VoicePack.load(folder).clips)
                except VoicePackError:
                    continue
                found.append(Version(int(folder.name), folder.stat().st_mtime, count,
                                     active == folder.resolve()))
        return sorted(found, key=lambda v: -v.number)

    def publish(self) -> int:
        """The draft becomes a new version and the live pack; returns its number."""
        with self._locked():
            pack = self._draft()
            if not pack.clips:
                raise StudioError("empty_draft", t("studio.empty_draft"))
            self._adopt()
            number = self._next()
            target = self.versions_dir / str(number)
            shutil.copytree(self.draft_dir, target, ignore=shutil.ignore_patterns(".*"))
            self._point(target)
            return number

    def restore(self, number: int) -> None:
        """Make published version ``number`` the live pack again."""
        with self._locked():
            self._adopt()
            target = self.versions_dir / str(number)
            if not (target / MANIFEST).is_file():
                raise StudioError("unknown_version", t("studio.unknown_version"))
            self._point(target)
            shutil.rmtree(self.draft_dir, ignore_errors=True)  # the next draft starts from it

    def _next(self) -> int:
        numbers = [int(f.name) for f in self.versions_dir.glob("*") if f.name.isdigit()]
        return max(numbers, default=0) + 1

    def _adopt(self) -> None:
        """A hand-made live pack folder (not yet a link) becomes the newest version."""
        if self.live.exists() and not self.live.is_symlink():
            self.versions_dir.mkdir(parents=True, exist_ok=True)
            shutil.move(self.live, self.versions_dir / str(self._next()))

    def _point(self, target: Path) -> None:
        """Point the live pack at ``target`` (a link replaced at once)."""
        self.live.parent.mkdir(parents=True, exist_ok=True)
        link = self.live.with_name(f".{self.live.name}.{os.getpid()}.link")
        link.unlink(missing_ok=True)
        link.symlink_to(target.resolve())
        os.replace(link, self.live)

    def export(self, draft: bool = False) -> bytes:
        """The live pack (or the draft) as one zip file."""
        with self._locked():
            folder = self._draft().folder if draft else self.active_dir()
            if folder is None:
                raise StudioError("no_voice_pack", t("studio.no_pack"))
            pack = VoicePack.load(folder)
            buffer = io.BytesIO()
            index: dict[str, object] = {"format": EXPORT_FORMAT, "files": {}}
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                files = {MANIFEST: (folder / MANIFEST).read_bytes()}
                files.update({path.name: path.read_bytes() for path in pack.clips.values()
                              if path.is_file()})
                for name, content in sorted(files.items()):
                    archive.writestr(name, content)
                index["files"] = {name: hashlib.sha256(content).hexdigest()
                                  for name, content in sorted(files.items())}
                archive.writestr(EXPORT_INDEX, json.dumps(index, indent=1))
            return buffer.getvalue()

    def import_pack(self, data: bytes) -> int:
        """A zip made by ``export`` becomes the draft (the live pack is unchanged until it is
        published); a corrupt or foreign file raises StudioError. Returns the clips count."""
        if len(data) > MAX_IMPORT_BYTES:
            raise StudioError("voice_pack_refused", t("studio.bad_pack"))
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                index = json.loads(archive.read(EXPORT_INDEX))
                files = index.get("files") if isinstance(index, dict) else None
                if index.get("format") != EXPORT_FORMAT or not isinstance(files, dict) or \
                        MANIFEST not in files or len(files) > MAX_IMPORT_FILES:
                    raise StudioError("voice_pack_refused", t("studio.bad_pack"))
                contents = {}
                for name, digest in files.items():
                    if not isinstance(name, str) or "/" in name or name.startswith(".") or \
                            not (name == MANIFEST or name.endswith(".wav")):
                        raise StudioError("voice_pack_refused", t("studio.bad_pack"))
                    if archive.getinfo(name).file_size > MAX_IMPORT_FILE_BYTES:  # a zip bomb
                        raise StudioError("voice_pack_refused", t("studio.bad_pack"))
                    content = archive.read(name)
                    if hashlib.sha256(content).hexdigest() != digest:
                        raise StudioError("voice_pack_refused", t("studio.bad_checksum", name=name))
                    contents[name] = content
        except (zipfile.BadZipFile, KeyError, ValueError, AttributeError) as error:
            if isinstance(error, StudioError):
                raise
            raise StudioError("voice_pack_refused", t("studio.bad_pack")) from None
        with tempfile.TemporaryDirectory(dir=self._ensure_root()) as scratch:
            folder = Path(scratch) / "pack"
            folder.mkdir()
            for name, content in contents.items():
                (folder / name).write_bytes(content)
            try:
                pack = VoicePack.load(folder)
                for path in pack.clips.values():
                    wavs.read(path)
            except (VoicePackError, ValueError, OSError):
                raise StudioError("voice_pack_refused", t("studio.bad_pack")) from None
            with self._locked():
                shutil.rmtree(self.draft_dir, ignore_errors=True)
                os.replace(folder, self.draft_dir)
            return len(pack.clips)

    def _ensure_root(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(data)
    os.replace(partial, path)
