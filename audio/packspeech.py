"""Speech from a voice pack: recorded clips joined with pauses, missing words synthesized."""

from __future__ import annotations

import logging
import math
import threading

from audio import mix, wavs
from audio.speech import Speech, SpeechError
from audio.voicepack import Piece, VoicePack
from texts import t

log = logging.getLogger(__name__)


class PackSpeech:
    """Assembles announcements from ``pack``; words it lacks come from ``fallback``.

    A clip file that is missing or unreadable is logged once and its words are
    synthesized instead. Recorded clips are converted to 22050 Hz mono 16-bit.
    """

    def __init__(self, pack: VoicePack, fallback: Speech) -> None:
        self.pack = pack
        self.fallback = fallback
        self.name = f"voicepack:{pack.fingerprint()}+{fallback.name}"
        self._clips: dict[tuple[str, ...], wavs.Clip | None] = {}
        self._lock = threading.Lock()

    def synthesize(self, text: str) -> wavs.Clip:
        """Join the clips for ``text`` with the pack's gaps and pauses."""
        parts: list[wavs.Clip] = []
        for piece in self.pack.plan(text):
            if parts:
                pause = self.pack.pause_seconds if piece.pause_before else self.pack.gap_seconds
                parts.append(wavs.silence(pause))
            parts.append(self._piece(piece))
        if not parts:
            raise SpeechError(t("speech.nothing_to_say", text=text))
        return wavs.join(parts)

    def level(self, text: str) -> float | None:
        """The loudness (LUFS) of ``text`` said from this pack when it is known without
        measuring: every word recorded, in a pack whose clips were levelled (the studio's)."""
        if self.pack.lufs is None:
            return None
        pieces = self.pack.plan(text)
        if not pieces or not all(p.recorded and self._recorded(p.words) for p in pieces):
            return None
        return self.pack.lufs

    def close(self) -> None:
        self.fallback.close()

    def _piece(self, piece: Piece) -> wavs.Clip:
        recorded = self._recorded(piece.words) if piece.recorded else None
        if recorded is not None:
            return recorded
        said = wavs.trim(wavs.convert(self.fallback.synthesize(" ".join(piece.words))))
        if self.pack.lufs is None or not said.frames:
            return said
        # a synthesized word among levelled recordings: at their loudness, not espeak-ng's
        # (as the studio levels a recording, never above -1 dBFS)
        headroom = 20 * math.log10(mix.PEAK_CEILING / max(mix.peak(said), 1e-6))
        return mix.gain(said, min(self.pack.lufs - mix.clip_loudness(said), headroom))

    def _recorded(self, words: tuple[str, ...]) -> wavs.Clip | None:
        with self._lock:
            if words in self._clips:
                return self._clips[words]
        path = self.pack.clips[words]
        clip: wavs.Clip | None
        try:
            clip = wavs.convert(wavs.read(path))
        except (OSError, ValueError) as error:
            phrase = " ".join(words)
            log.warning("voice pack clip for %r unusable, synthesizing it: %s", phrase, error)
            clip = None
        with self._lock:
            self._clips[words] = clip
        return clip
