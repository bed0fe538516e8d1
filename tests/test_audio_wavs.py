"""WAV clips: reading, writing, joining with pauses and converting to the house format."""

from __future__ import annotations

import itertools
import math
import wave
from pathlib import Path

import pytest

from audio.wavs import Clip, convert, from_samples, join, read, silence, to_bytes


def sine(frequency: float, seconds: float, rate: int, amplitude: float = 10000) -> list[int]:
    return [round(amplitude * math.sin(2 * math.pi * frequency * i / rate))
            for i in range(round(seconds * rate))]


def test_round_trip_through_bytes_and_file(tmp_path: Path) -> None:
    """A clip written as WAV reads back identical, from bytes and from a file."""
    clip = from_samples(sine(440, 0.1, 22050), 22050)
    data = to_bytes(clip)
    assert read(data) == clip
    path = tmp_path / "a.wav"
    path.write_bytes(data)
    assert read(path) == clip
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (22050, 1, 2)


def test_join_puts_exact_silences_between_clips() -> None:
    """Joined audio is each clip's samples in order, separated by the requested silence."""
    a, b, c = (from_samples([v] * 100) for v in (1000, -2000, 3000))
    joined = join([a, b, c], gap_seconds=0.01).samples()
    gap = [0] * round(0.01 * 22050)
    assert list(joined) == [1000] * 100 + gap + [-2000] * 100 + gap + [3000] * 100
    assert join([a]) == a


def test_join_refuses_mixed_formats() -> None:
    """Clips of different formats are not joined silently."""
    with pytest.raises(ValueError, match=r"format berbeda .*: 22050 Hz.* dan 44100 Hz"):
        join([silence(0.1), silence(0.1, rate=44100)])
    with pytest.raises(ValueError, match="tidak ada klip untuk digabung"):
        join([])


def test_convert_stereo_44k_to_house_format() -> None:
    """A stereo 44.1 kHz sine becomes mono 22.05 kHz of the same pitch and length."""
    left = sine(500, 0.5, 44100)
    frames = from_samples(v for pair in zip(left, left, strict=True) for v in pair).frames
    clip = convert(Clip(44100, 2, 2, frames))
    assert clip.format == (22050, 1, 2)
    assert clip.duration == pytest.approx(0.5, abs=0.001)
    samples = clip.samples()
    crossings = sum(1 for x, y in itertools.pairwise(samples) if x < 0 <= y)
    assert crossings == pytest.approx(250, abs=2)
    assert max(samples) == pytest.approx(10000, rel=0.02)


@pytest.mark.parametrize("width", [1, 3, 4])
def test_convert_other_sample_widths(width: int) -> None:
    """8-, 24- and 32-bit samples are scaled to 16-bit."""
    full = 1 << (8 * width - 1)
    values = [0, full // 2, -full // 2]
    if width == 1:
        frames = bytes(v + 128 for v in values)
    else:
        frames = b"".join(v.to_bytes(width, "little", signed=True) for v in values)
    assert list(convert(Clip(22050, 1, width, frames)).samples()) == [0, 16384, -16384]


def test_samples_require_house_format() -> None:
    """Reading samples of a stereo clip is an error, not a garbled signal."""
    with pytest.raises(ValueError, match="harus mono 16 bit"):
        Clip(22050, 2, 2, bytes(8)).samples()


def test_not_a_wav_raises(tmp_path: Path) -> None:
    """Garbage and truncated files are refused with the file name."""
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00not a wav")
    with pytest.raises(ValueError, match=r"bad\.wav bukan berkas WAV PCM"):
        read(bad)
    with pytest.raises(ValueError, match="bukan berkas WAV PCM"):
        read(b"")
