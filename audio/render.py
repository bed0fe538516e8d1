"""Turn a call into a WAV file (chime + announcement), cached on disk with a size bound."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from audio import mix, wavs
from audio.chime import chime
from audio.packspeech import PackSpeech
from audio.settings import AnnouncementSettings
from audio.speech import Speech, open_speech
from audio.voicepack import VoicePack, VoicePackError

log = logging.getLogger(__name__)

FORMAT_VERSION = "2"  # 2: the chime levelled to the speech, gaps set, peaks limited
CHIME_GAP_SECONDS = mix.CHIME_GAP_SECONDS
REPEAT_GAP_SECONDS = mix.REPEAT_GAP_SECONDS


def open_engine(settings: AnnouncementSettings) -> Speech:
    """The speech engine the settings ask for.

    With a voice pack, pack speech falling back to espeak-ng; an unusable pack is
    logged and plain espeak-ng speech is used, so announcements keep working.
    """
    speech = open_speech(settings.voice, settings.rate)
    if settings.pack_dir is None:
        return speech
    try:
        return PackSpeech(VoicePack.load(settings.pack_dir), speech)
    except VoicePackError as error:
        log.error("%s; announcing with espeak-ng only", error)
        return speech


class Renderer:
    """Renders announcements into ``settings.cache_dir``; safe to use from many threads.

    A file is named by a hash of its text, engine and settings, so a cached file is
    never stale. After each new file the cache is trimmed to ``cache_max_bytes`` by
    deleting the least recently used files. Files are written atomically.
    """

    def __init__(self, settings: AnnouncementSettings, speech: Speech) -> None:
        self.settings = settings
        self.speech = speech
        self._evict_lock = threading.Lock()
        self._chime = chime()

    def text(self, code: str, counter: int, service: str | None = None) -> str:
        """The announcement sentence (raises ValueError for a bad code or counter)."""
        return self.settings.text(code, counter, service)

    def path_for(self, text: str) -> Path:
        """Where the WAV of ``text`` is (or will be) cached."""
        key = "\n".join([FORMAT_VERSION, self.speech.name, str(self.settings.repeat), text])
        return self.settings.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.wav"

    def render_file(self, code: str, counter: int, service: str | None = None) -> Path:
        """The cached WAV for this call, rendering it first if needed. Blocking."""
        return self.render_text(self.text(code, counter, service))

    def render_text(self, text: str) -> Path:
        """The cached WAV for an announcement sentence, rendering it first if needed."""
        path = self.path_for(text)
        try:
            os.utime(path)
            return path
        except FileNotFoundError:
            pass
        data = wavs.to_bytes(self.compose(text))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.partial")
        partial.write_bytes(data)
        os.replace(partial, path)
        self._evict(keep=path)
        return path

    async def render(self, code: str, counter: int, service: str | None = None) -> Path:
        """``render_file`` without blocking the event loop."""
        return await asyncio.to_thread(self.render_file, code, counter, service)

    async def render_merged(self, calls: Sequence[tuple[str, int, str | None]]) -> Path:
        """A burst of (code, counter, service) calls as one announcement: one chime, then
        ``settings.merged_text`` (raises ValueError for a bad code or counter)."""
        text = self.settings.merged_text(calls)
        return await asyncio.to_thread(self.render_text, text)

    def compose(self, text: str) -> wavs.Clip:
        """Chime, then the spoken sentence ``repeat`` times with a pause between
        (``mix.announcement``: the chime levelled to the speech, set gaps, no clipping)."""
        spoken = wavs.convert(self.speech.synthesize(text))
        # a levelled voice pack's loudness is known: not measured for every call
        known = self.speech.level(text) if isinstance(self.speech, PackSpeech) else None
        return mix.announcement(self._chime, spoken, self.settings.repeat, known)

    def close(self) -> None:
        """Close the speech engine."""
        self.speech.close()

    def _evict(self, keep: Path) -> None:
        with self._evict_lock:
            files = []
            for entry in os.scandir(self.settings.cache_dir):
                if entry.name.endswith(".wav"):
                    stat = entry.stat()
                    files.append((stat.st_mtime_ns, stat.st_size, Path(entry.path)))
            total = sum(size for _, size, _ in files)
            for _, size, path in sorted(files):
                if total <= self.settings.cache_max_bytes:
                    break
                if path != keep:
                    path.unlink(missing_ok=True)
                    total -= size
