"""WAV clips in memory: read, write, convert to the house format, join with pauses."""

from __future__ import annotations

import io
import sys
import wave
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from texts import t

RATE = 22050
CHANNELS = 1
SAMPWIDTH = 2


@dataclass(frozen=True)
class Clip:
    """PCM audio: little-endian signed samples (unsigned for 8-bit), frames interleaved."""

    rate: int
    channels: int
    sampwidth: int
    frames: bytes

    @property
    def n_frames(self) -> int:
        return len(self.frames) // (self.channels * self.sampwidth)

    @property
    def duration(self) -> float:
        return self.n_frames / self.rate

    @property
    def format(self) -> tuple[int, int, int]:
        return (self.rate, self.channels, self.sampwidth)

    def samples(self) -> array[int]:
        """The 16-bit mono samples of a clip in the house sample format."""
        if (self.channels, self.sampwidth) != (CHANNELS, SAMPWIDTH):
            raise ValueError(t("audio.not_house_format", format=describe(self)))
        return _int16(self.frames)


def describe(clip: Clip) -> str:
    """A human description of a clip's format, e.g. "44100 Hz, 2 channels, 16-bit"."""
    return t("audio.format", rate=clip.rate, channels=clip.channels, bits=clip.sampwidth * 8)


def read(source: bytes | Path) -> Clip:
    """Read a WAV file (path or bytes); raise ValueError if it is not a readable PCM WAV."""
    with _open(source) as wav:
        return Clip(
            wav.getframerate(),
            wav.getnchannels(),
            wav.getsampwidth(),
            wav.readframes(wav.getnframes()),
        )


def file_duration(path: Path) -> float:
    """Seconds of audio in a WAV file, from its header."""
    with _open(path) as wav:
        return wav.getnframes() / wav.getframerate()


@contextmanager
def _open(source: bytes | Path) -> Iterator[wave.Wave_read]:
    name = str(source) if isinstance(source, Path) else t("audio.wav_data")
    try:
        with wave.open(str(source) if isinstance(source, Path) else io.BytesIO(source)) as wav:
            yield wav
    except (wave.Error, EOFError) as error:
        raise ValueError(t("audio.not_wav", name=name, error=error)) from None


def to_bytes(clip: Clip) -> bytes:
    """The WAV file bytes of a clip."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(clip.channels)
        wav.setsampwidth(clip.sampwidth)
        wav.setframerate(clip.rate)
        wav.writeframes(clip.frames)
    return buffer.getvalue()


def from_samples(samples: Iterable[float], rate: int = RATE) -> Clip:
    """A mono 16-bit clip from sample values (clipped to the 16-bit range)."""
    values = array("h", (max(-32768, min(32767, int(s))) for s in samples))
    if sys.byteorder == "big":
        values.byteswap()
    return Clip(rate, CHANNELS, SAMPWIDTH, values.tobytes())


def silence(seconds: float, rate: int = RATE) -> Clip:
    """Mono 16-bit silence."""
    return Clip(rate, CHANNELS, SAMPWIDTH, bytes(round(seconds * rate) * SAMPWIDTH))


def join(clips: Sequence[Clip], gap_seconds: float = 0.0) -> Clip:
    """Concatenate clips with ``gap_seconds`` of silence between them.

    All clips must share one format; a mismatch raises ValueError naming both formats.
    """
    if not clips:
        raise ValueError(t("audio.nothing_to_join"))
    first = clips[0]
    for clip in clips[1:]:
        if clip.format != first.format:
            raise ValueError(t("audio.formats_differ", first=describe(first),
                               other=describe(clip)))
    frame_bytes = first.channels * first.sampwidth
    gap = bytes(round(gap_seconds * first.rate) * frame_bytes)
    return Clip(first.rate, first.channels, first.sampwidth, gap.join(c.frames for c in clips))


def trim(clip: Clip, threshold: int = 300, keep_seconds: float = 0.01) -> Clip:
    """A house-format clip without the near-silence at its start and end (all of it if silent)."""
    clip.samples()  # raises ValueError for another format
    values = np.frombuffer(clip.frames, dtype="<i2")
    loud = np.flatnonzero(np.abs(values.astype(np.int32)) > threshold)
    if not loud.size:
        return Clip(clip.rate, clip.channels, clip.sampwidth, b"")
    keep = round(keep_seconds * clip.rate)
    start, end = max(0, int(loud[0]) - keep), min(len(values), int(loud[-1]) + 1 + keep)
    return Clip(clip.rate, clip.channels, clip.sampwidth, clip.frames[start * 2 : end * 2])


def convert(clip: Clip, rate: int = RATE) -> Clip:
    """The clip as mono 16-bit at ``rate``: channels averaged, linear-interpolation resampling."""
    if clip.format == (rate, CHANNELS, SAMPWIDTH):
        return clip
    if clip.sampwidth not in (1, 2, 3, 4):
        raise ValueError(t("audio.sample_width", format=describe(clip)))
    values = _to_int16(clip.frames, clip.sampwidth)
    if clip.channels > 1:
        n = clip.channels
        values = [sum(values[i : i + n]) // n for i in range(0, len(values) - n + 1, n)]
    if clip.rate != rate:
        values = _resample(values, clip.rate, rate)
    return from_samples(values, rate)


def _int16(frames: bytes) -> array[int]:
    values = array("h", frames)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _to_int16(frames: bytes, width: int) -> Sequence[int]:
    if width == 1:
        return [(b - 128) << 8 for b in frames]
    if width == 2:
        return _int16(frames)
    return [
        int.from_bytes(frames[i : i + width], "little", signed=True) >> (8 * width - 16)
        for i in range(0, len(frames) - width + 1, width)
    ]


def _resample(values: Sequence[int], source: int, target: int) -> list[int]:
    if len(values) < 2:
        return list(values)
    count = max(1, round(len(values) * target / source))
    step = (len(values) - 1) / max(1, count - 1)
    out = []
    for i in range(count):
        position = i * step
        j = min(int(position), len(values) - 2)
        frac = position - j
        out.append(round(values[j] + (values[j + 1] - values[j]) * frac))
    return out

