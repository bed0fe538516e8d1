"""An announcement's audio joined: the chime levelled to the speech, set gaps, no clipping."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import numpy as np

from audio import wavs
from audio.processing import loudness

CHIME_GAP_SECONDS = 0.25  # silence between the chime and the speech (helps the listener)
REPEAT_GAP_SECONDS = 1.0  # silence between two sayings of the sentence
TAIL_SECONDS = 0.2  # silence at the end, so a player that cuts its last buffer cuts nothing
CHIME_OFFSET_LU = 0.0  # the chime's loudness against the speech's
PEAK_CEILING = 10 ** (-1 / 20)  # no sample of the result above -1 dBFS


def gain(clip: wavs.Clip, decibels: float) -> wavs.Clip:
    """A house-format clip made louder (or quieter) by ``decibels``."""
    scaled = _samples(clip) * 10 ** (decibels / 20)
    values = np.clip(np.round(scaled), -32768, 32767).astype("<i2")
    return wavs.Clip(clip.rate, wavs.CHANNELS, wavs.SAMPWIDTH, values.tobytes())


def peak(clip: wavs.Clip) -> float:
    """The loudest sample of a house-format clip, 0 … 1 (full scale)."""
    if (clip.channels, clip.sampwidth) != (wavs.CHANNELS, wavs.SAMPWIDTH):
        clip.samples()  # raises ValueError naming the format
    values = np.frombuffer(clip.frames, dtype="<i2")  # int16: no float copy of a long clip
    return max(int(values.max()), -int(values.min())) / 32768.0 if values.size else 0.0


def clip_loudness(clip: wavs.Clip) -> float:
    """Integrated loudness (LUFS) of a house-format clip; -inf for silence."""
    return loudness(_samples(clip) / 32768.0, clip.rate) if clip.frames else -math.inf


@cache
def _chime_loudness(chime: wavs.Clip) -> float:
    return clip_loudness(chime)


def limit(clip: wavs.Clip, ceiling: float = PEAK_CEILING) -> wavs.Clip:
    """The clip turned down as a whole so that no sample goes above ``ceiling``."""
    top = peak(clip)
    return clip if top <= ceiling else gain(clip, 20 * math.log10(ceiling / top))


def announcement(chime: wavs.Clip, spoken: wavs.Clip, repeat: int = 1,
                 speech_lufs: float | None = None) -> wavs.Clip:
    """Chime, ``CHIME_GAP_SECONDS`` of silence, the speech ``repeat`` times with
    ``REPEAT_GAP_SECONDS`` between, and a short tail.

    The speech's own silence at both ends is trimmed so the gaps are the set ones; the chime
    is levelled to the speech's loudness (pyloudnorm, BS.1770); if a sample would then reach
    above -1 dBFS, the whole is turned down, keeping chime and speech at the same level.
    Both clips are in the house format. ``speech_lufs``: the speech's loudness when known
    (a levelled voice pack's clips), not measured again.
    """
    trimmed = wavs.trim(spoken)
    speech = trimmed if trimmed.frames else spoken
    if speech_lufs is None:
        speech_lufs = clip_loudness(speech)
    chime_lufs = _chime_loudness(chime)
    if math.isfinite(speech_lufs) and math.isfinite(chime_lufs):
        chime = gain(chime, speech_lufs - chime_lufs + CHIME_OFFSET_LU)
    parts: list[wavs.Clip] = [chime, wavs.silence(CHIME_GAP_SECONDS), speech]
    for _ in range(repeat - 1):
        parts += [wavs.silence(REPEAT_GAP_SECONDS), speech]
    parts.append(wavs.silence(TAIL_SECONDS))
    return limit(wavs.join(parts))


def silences(clip: wavs.Clip, threshold: int = 300, shortest: float = 0.05) -> list[
        tuple[float, float]]:
    """The (start, seconds) of each run of near-silence at least ``shortest`` long inside a
    house-format clip, not counting its two ends: the gaps a listener hears."""
    loud = np.flatnonzero(np.abs(_samples(clip)) > threshold)
    if loud.size < 2:
        return []
    steps = np.diff(loud)
    found: Sequence[int] = np.flatnonzero(steps >= shortest * clip.rate).tolist()
    return [(float(loud[i] + 1) / clip.rate, float(steps[i] - 1) / clip.rate) for i in found]


def _samples(clip: wavs.Clip) -> np.ndarray:
    """A house-format clip's samples as float64 in -32768 … 32767."""
    if (clip.channels, clip.sampwidth) != (wavs.CHANNELS, wavs.SAMPWIDTH):
        clip.samples()  # raises ValueError naming the format
    return np.frombuffer(clip.frames, dtype="<i2").astype(np.float64)
