"""Rendering calls into cached WAV files: chime + announcement, bounded cache, asyncio use."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import numpy as np
import pytest

from audio import wavs
from audio.chime import chime
from audio.mix import TAIL_SECONDS
from audio.packspeech import PackSpeech
from audio.render import CHIME_GAP_SECONDS, REPEAT_GAP_SECONDS, Renderer, open_engine
from audio.settings import AnnouncementSettings
from audio.speech import EspeakCliSpeech
from audio.voicepack import MANIFEST

MB = 1024 * 1024


class CountingSpeech:
    """Real espeak-ng speech that counts what it was asked to say."""

    def __init__(self) -> None:
        self.inner = EspeakCliSpeech("id", 150)
        self.name = self.inner.name
        self.texts: list[str] = []

    def synthesize(self, text: str) -> wavs.Clip:
        self.texts.append(text)
        return self.inner.synthesize(text)

    def close(self) -> None:
        return None


def make(tmp_path: Path, **fields: object) -> tuple[Renderer, CountingSpeech]:
    speech = CountingSpeech()
    settings = AnnouncementSettings(cache_dir=tmp_path / "cache", **fields)  # type: ignore[arg-type]
    return Renderer(settings, speech), speech


def test_renders_chime_then_speech(tmp_path: Path) -> None:
    """The file is 22050 Hz mono 16-bit: the chime (levelled), a short gap, then audible
    speech."""
    renderer, speech = make(tmp_path)
    path = renderer.render_file("A123", 5)
    clip = wavs.read(path)
    assert clip.format == (22050, 1, 2)
    bell = chime()
    gap = round(CHIME_GAP_SECONDS * 22050)
    head = np.array(clip.samples()[: bell.n_frames], dtype=float)
    assert np.corrcoef(head, np.array(bell.samples(), dtype=float))[0, 1] > 0.999
    spoken = clip.samples()[bell.n_frames + gap :]
    assert not any(clip.samples()[bell.n_frames : bell.n_frames + gap])
    assert 2.5 < len(spoken) / 22050 < 7.0
    assert max(abs(s) for s in spoken) > 5000
    assert speech.texts == ["Nomor antrian a seratus dua puluh tiga, silakan menuju loket lima"]


def test_cache_hits_do_not_synthesize(tmp_path: Path) -> None:
    """The same call twice gives the same file and speaks once; another call gets its own file."""
    renderer, speech = make(tmp_path)
    first = renderer.render_file("A001", 1)
    assert renderer.render_file("A001", 1, "A") == first
    other = renderer.render_file("A001", 2)
    assert other != first and other.is_file()
    assert len(speech.texts) == 2
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [first.name, other.name]
    )


def test_cache_key_covers_settings(tmp_path: Path) -> None:
    """Different repeat counts or number styles never share a cached file."""
    plain, _ = make(tmp_path)
    twice, _ = make(tmp_path, repeat=2)
    digits, _ = make(tmp_path, number_style="digits")
    paths = {r.render_file("A123", 5) for r in (plain, twice, digits)}
    assert len(paths) == 3


def test_repeat_says_it_again_after_a_pause(tmp_path: Path) -> None:
    """With repeat = 2 the sentence follows itself after a second of silence."""
    renderer, speech = make(tmp_path, repeat=2)
    samples = wavs.read(renderer.render_file("B002", 3)).samples()
    once = wavs.trim(wavs.convert(speech.inner.synthesize(speech.texts[0]))).samples()
    head = chime().n_frames + round(CHIME_GAP_SECONDS * 22050)
    gap = round(REPEAT_GAP_SECONDS * 22050)
    assert len(samples) == head + 2 * len(once) + gap + round(TAIL_SECONDS * 22050)
    assert not any(samples[head + len(once) : head + len(once) + gap])


def test_cache_is_bounded_and_evicts_least_recently_used(tmp_path: Path) -> None:
    """Past the size bound the least recently used files go; the newest file always stays."""
    renderer, _ = make(tmp_path, cache_max_bytes=1 * MB)
    paths = [renderer.render_file(f"A{n:03d}", 1) for n in range(1, 5)]
    for age, path in enumerate(reversed(paths)):
        os.utime(path, (1_000_000 - age, 1_000_000 - age))
    renderer.render_file("A001", 1)  # a hit makes A001 the most recently used
    newest = [renderer.render_file(f"B{n:03d}", 1) for n in range(1, 4)]
    left = set((tmp_path / "cache").glob("*.wav"))
    assert sum(p.stat().st_size for p in left) <= 1 * MB
    assert newest[-1] in left and paths[0] in left
    assert paths[1] not in left


async def test_async_render_from_many_tasks(tmp_path: Path) -> None:
    """Concurrent awaits from the event loop all get valid files, one per distinct call."""
    renderer, speech = make(tmp_path)
    calls = [(f"C{n % 5:03d}", n % 3 + 1) for n in range(20)]
    paths = await asyncio.gather(*(renderer.render(code, counter) for code, counter in calls))
    assert len(set(paths)) == len(set(speech.texts)) == 15
    assert all(wavs.read(p).duration > 2 for p in set(paths))


@pytest.mark.parametrize(("code", "counter"), [("", 1), ("a1", 1), ("A1", 0), ("A1", -2)])
def test_bad_calls_raise_before_any_work(tmp_path: Path, code: str, counter: int) -> None:
    """Bad codes and counters are refused and nothing is written."""
    renderer, speech = make(tmp_path)
    with pytest.raises(ValueError, match="tidak sah"):
        renderer.render_file(code, counter)
    assert speech.texts == [] and not (tmp_path / "cache").exists()


def test_open_engine_uses_a_good_pack(tmp_path: Path) -> None:
    """A configured, valid voice pack is used, with espeak-ng filling its gaps."""
    (tmp_path / MANIFEST).write_text("[clips]\n")
    engine = open_engine(AnnouncementSettings(pack_dir=tmp_path, cache_dir=tmp_path))
    try:
        assert isinstance(engine, PackSpeech)
        assert engine.synthesize("satu").duration > 0.2
    finally:
        engine.close()


def test_open_engine_survives_a_broken_pack(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken voice pack is logged and plain synthesis is used instead."""
    (tmp_path / MANIFEST).write_text("[clips\n")
    with caplog.at_level(logging.ERROR):
        engine = open_engine(AnnouncementSettings(pack_dir=tmp_path, cache_dir=tmp_path))
    try:
        assert not isinstance(engine, PackSpeech)
        assert "announcing with espeak-ng only" in caplog.text
        assert engine.synthesize("satu").duration > 0.2
    finally:
        engine.close()
