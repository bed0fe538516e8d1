"""Filling a voice pack with synthesized clips for every word announcements use."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio import wavs
from audio.phrases import DEFAULT_TEMPLATE, spoken_vocabulary
from audio.prerender import prerender
from audio.speech import EspeakCliSpeech
from audio.voicepack import MANIFEST, VoicePack, VoicePackError


@pytest.fixture(scope="module")
def espeak() -> EspeakCliSpeech:
    return EspeakCliSpeech("id", 150)


def test_fills_every_word_with_trimmed_speech(tmp_path: Path, espeak: EspeakCliSpeech) -> None:
    """Each vocabulary word gets a non-silent clip that starts and ends close to its sound."""
    words = spoken_vocabulary([DEFAULT_TEMPLATE])
    seen: list[tuple[int, int, str]] = []
    rendered = prerender(tmp_path, words, espeak, lambda *step: seen.append(step))
    assert rendered == words
    assert seen == [(i, len(words), w) for i, w in enumerate(words, start=1)]
    pack = VoicePack.load(tmp_path)
    assert sorted(" ".join(key) for key in pack.clips) == words
    for path in pack.clips.values():
        clip = wavs.read(path)
        samples = clip.samples()
        assert clip.format == (22050, 1, 2)
        assert 0.05 < clip.duration < 1.5
        assert max(abs(s) for s in samples) > 3000
        assert max(abs(s) for s in samples[:300]) > 300
        assert max(abs(s) for s in samples[-300:]) > 300
    assert pack.plan("Nomor antrian ZET sembilan belas, silakan menuju loket seribu")
    assert all(p.recorded for p in pack.plan("Nomor antrian ZET sembilan belas, silakan"))


def test_keeps_existing_recordings(tmp_path: Path, espeak: EspeakCliSpeech) -> None:
    """A clip the venue already recorded is neither re-rendered nor overwritten."""
    recording = wavs.to_bytes(wavs.from_samples([1234] * 500))
    (tmp_path / "lima_rekaman.wav").write_bytes(recording)
    (tmp_path / MANIFEST).write_text(
        'gap_seconds = 0.1\n[clips]\n"lima" = "lima_rekaman.wav"\n"satu" = "hilang.wav"\n'
    )
    assert prerender(tmp_path, ["lima", "satu", "dua"], espeak) == ["satu", "dua"]
    assert (tmp_path / "lima_rekaman.wav").read_bytes() == recording
    pack = VoicePack.load(tmp_path)
    assert pack.clips[("satu",)] == tmp_path / "hilang.wav"
    assert (tmp_path / "hilang.wav").is_file()
    assert pack.gap_seconds == 0.1
    assert prerender(tmp_path, ["lima", "satu", "dua"], espeak) == []


def test_broken_manifest_writes_nothing(tmp_path: Path, espeak: EspeakCliSpeech) -> None:
    """An unreadable manifest is an error, and the folder is left as it was."""
    (tmp_path / MANIFEST).write_text("[clips\n")
    with pytest.raises(VoicePackError, match="tidak dapat dibaca"):
        prerender(tmp_path, ["satu"], espeak)
    assert [p.name for p in tmp_path.iterdir()] == [MANIFEST]
