"""Speech engine 2: announcements assembled from voice pack clips, missing words synthesized."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from audio import wavs
from audio.packspeech import PackSpeech
from audio.speech import EspeakCliSpeech, SpeechError
from audio.voicepack import MANIFEST, VoicePack

GAP = [0] * round(0.05 * 22050)
PAUSE = [0] * round(0.4 * 22050)
SILENCE = [0] * 2000
KEPT = [0] * round(0.01 * 22050)


class FakeSpeech:
    """Returns a distinct constant-level clip for each text, with silence around it."""

    name = "fake"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def synthesize(self, text: str) -> wavs.Clip:
        self.texts.append(text)
        return wavs.from_samples(SILENCE + [level(text)] * 200 + SILENCE)

    def close(self) -> None:
        self.texts.append("<closed>")


def level(text: str) -> int:
    return 1000 + sum(map(ord, text)) % 20000


def make_pack(folder: Path, clips: dict[str, list[int]]) -> VoicePack:
    """A pack whose clip for each phrase holds the given samples."""
    lines = ["gap_seconds = 0.05", "pause_seconds = 0.4", "[clips]"]
    for phrase, samples in clips.items():
        name = phrase.replace(" ", "_") + ".wav"
        (folder / name).write_bytes(wavs.to_bytes(wavs.from_samples(samples)))
        lines.append(f'"{phrase}" = "{name}"')
    (folder / MANIFEST).write_text("\n".join(lines), encoding="utf-8")
    return VoicePack.load(folder)


def test_joins_exactly_the_clips_asked_for(tmp_path: Path) -> None:
    """The result is the requested clips in order, with the pack's gaps and pauses between."""
    nomor, a, lima, loket = [100] * 30, [-200] * 40, [300] * 50, [400, -400] * 20
    pack = make_pack(tmp_path, {"nomor antrian": nomor, "a": a, "lima": lima, "loket": loket})
    fake = FakeSpeech()
    clip = PackSpeech(pack, fake).synthesize("Nomor antrian A lima, loket lima")
    assert list(clip.samples()) == nomor + GAP + a + GAP + lima + PAUSE + loket + GAP + lima
    assert fake.texts == []


def test_missing_words_are_synthesized_and_trimmed(tmp_path: Path) -> None:
    """Words the pack lacks come from the fallback engine, without its leading/trailing silence."""
    pack = make_pack(tmp_path, {"nomor": [100] * 30, "loket": [400] * 30})
    fake = FakeSpeech()
    clip = PackSpeech(pack, fake).synthesize("nomor dua puluh, loket tujuh")
    spoken = KEPT + [level("dua puluh")] * 200 + KEPT
    trailing = KEPT + [level("tujuh")] * 200 + KEPT
    assert fake.texts == ["dua puluh", "tujuh"]
    assert list(clip.samples()) == [100] * 30 + GAP + spoken + PAUSE + [400] * 30 + GAP + trailing


def test_missing_clip_file_falls_back_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A clip listed in the manifest but absent or broken is synthesized, and logged once."""
    pack = make_pack(tmp_path, {"nomor": [100] * 30, "lima": [300] * 30})
    (tmp_path / "lima.wav").unlink()
    (tmp_path / "nomor.wav").write_bytes(b"not a wav at all")
    fake = FakeSpeech()
    speech = PackSpeech(pack, fake)
    with caplog.at_level(logging.WARNING):
        speech.synthesize("nomor lima")
        speech.synthesize("nomor lima")
    assert fake.texts == ["nomor", "lima"] * 2
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2
    assert "'lima' unusable" in warnings[0] + warnings[1]
    assert "'nomor' unusable" in warnings[0] + warnings[1]


def test_recordings_in_other_formats_are_converted(tmp_path: Path) -> None:
    """A venue's 44.1 kHz stereo recording joins cleanly with 22.05 kHz mono audio."""
    stereo = wavs.Clip(44100, 2, 2, wavs.from_samples([1000] * 400).frames)
    (tmp_path / "lima.wav").write_bytes(wavs.to_bytes(stereo))
    (tmp_path / MANIFEST).write_text('[clips]\n"lima" = "lima.wav"\n', encoding="utf-8")
    clip = PackSpeech(VoicePack.load(tmp_path), FakeSpeech()).synthesize("lima")
    assert clip.format == (22050, 1, 2)
    assert list(clip.samples()) == [1000] * 100


def test_real_fallback_speech_fills_the_gaps(tmp_path: Path) -> None:
    """With espeak-ng as fallback, a partial pack still gives a full, audible announcement."""
    pack = make_pack(tmp_path, {"nomor antrian": [0] * 10 + [8000] * 2205 + [0] * 10})
    clip = PackSpeech(pack, EspeakCliSpeech("id", 150)).synthesize(
        "Nomor antrian a satu, silakan menuju loket lima"
    )
    samples = clip.samples()
    assert 1.5 < clip.duration < 6.0
    assert samples[10:2215] == wavs.from_samples([8000] * 2205).samples()
    assert max(abs(s) for s in samples[4000:]) > 5000


def test_name_tracks_pack_and_fallback(tmp_path: Path) -> None:
    """The engine name changes with the pack's contents, so caches stay correct."""
    pack = make_pack(tmp_path, {"lima": [300] * 30})
    first = PackSpeech(pack, FakeSpeech()).name
    assert first.startswith("voicepack:") and first.endswith("+fake")
    (tmp_path / "lima.wav").write_bytes(wavs.to_bytes(wavs.from_samples([5] * 31)))
    assert PackSpeech(pack, FakeSpeech()).name != first


def test_nothing_to_say_and_close(tmp_path: Path) -> None:
    """Text without words is an error; closing closes the fallback engine."""
    fake = FakeSpeech()
    speech = PackSpeech(make_pack(tmp_path, {}), fake)
    with pytest.raises(SpeechError, match="tidak ada yang dapat diucapkan"):
        speech.synthesize(" , ")
    speech.close()
    assert fake.texts == ["<closed>"]
