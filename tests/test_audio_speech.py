"""Speech engine 1: pyttsx3 in one worker thread, and the espeak-ng command fallback."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from audio import speech as speech_module
from audio.speech import EspeakCliSpeech, PyttsxSpeech, SpeechError, open_speech
from audio.wavs import Clip

SENTENCE = "Nomor antrian a seratus dua puluh tiga, silakan menuju loket lima"


@pytest.fixture(scope="module")
def pyttsx() -> Iterator[PyttsxSpeech]:
    engine = PyttsxSpeech("id", 150)
    yield engine
    engine.close()


def assert_speech(clip: Clip, low: float, high: float) -> None:
    """A house-format clip of plausible length that is not silence."""
    assert clip.format == (22050, 1, 2)
    assert low < clip.duration < high
    samples = clip.samples()
    assert max(abs(s) for s in samples) > 5000
    assert sum(1 for s in samples if abs(s) > 1000) > 0.2 * len(samples)


def test_pyttsx_renders_indonesian_speech(pyttsx: PyttsxSpeech) -> None:
    """A whole announcement becomes a few seconds of 22050 Hz mono 16-bit speech."""
    assert_speech(pyttsx.synthesize(SENTENCE), 2.5, 7.0)
    assert pyttsx.name == "pyttsx3:id:150"


def test_pyttsx_keeps_requests_apart(pyttsx: PyttsxSpeech) -> None:
    """Each request gets its own audio, even when asked for back to back."""
    short = pyttsx.synthesize("satu")
    long = pyttsx.synthesize(SENTENCE)
    assert short.duration < 1.5 < long.duration
    assert pyttsx.synthesize("satu").duration == pytest.approx(short.duration, abs=0.1)


def test_pyttsx_is_safe_from_many_threads(pyttsx: PyttsxSpeech) -> None:
    """Concurrent callers are served one at a time by the worker, each with its own text."""
    texts = ["satu", "loket dua puluh tujuh", "seratus sebelas ribu sembilan ratus"] * 4
    expected = {text: pyttsx.synthesize(text).duration for text in set(texts)}
    with ThreadPoolExecutor(6) as pool:
        clips = list(pool.map(pyttsx.synthesize, texts))
    for text, clip in zip(texts, clips, strict=True):  # espeak-ng jitters by a few ms
        assert clip.duration == pytest.approx(expected[text], abs=0.1)


def test_pyttsx_prints_nothing(pyttsx: PyttsxSpeech, capfd: pytest.CaptureFixture[str]) -> None:
    """pyttsx3's "Audio saved to" lines do not reach stdout."""
    pyttsx.synthesize("dua")
    assert capfd.readouterr().out == ""


def test_only_one_pyttsx_per_process(pyttsx: PyttsxSpeech) -> None:
    """A second pyttsx3 engine is refused rather than risking a crash."""
    with pytest.raises(SpeechError, match="sudah dibuka"):
        PyttsxSpeech("id", 150)


def test_open_speech_falls_back_to_the_command(
    pyttsx: PyttsxSpeech, caplog: pytest.LogCaptureFixture
) -> None:
    """When pyttsx3 cannot be used, the espeak-ng command speaks instead, with a log line."""
    fallback = open_speech("id", 150)
    assert isinstance(fallback, EspeakCliSpeech)
    assert "falling back to the espeak-ng command" in caplog.text
    assert_speech(fallback.synthesize(SENTENCE), 2.5, 7.0)


def test_unknown_voice_is_refused(pyttsx: PyttsxSpeech) -> None:
    """A voice espeak-ng does not have is an error, not English speech."""
    with pytest.raises(SpeechError, match="voice does not exist"):
        EspeakCliSpeech("zz-none", 150)
    with pytest.raises(SpeechError, match="voice"):
        open_speech("zz-none", 150)


def test_cli_speech_rate_and_dash_text() -> None:
    """The command honours the rate and speaks text that looks like an option."""
    slow = EspeakCliSpeech("id", 100).synthesize(SENTENCE)
    fast = EspeakCliSpeech("id", 250).synthesize(SENTENCE)
    assert_speech(slow, 3.0, 9.0)
    assert fast.duration < 0.75 * slow.duration
    assert_speech(EspeakCliSpeech("id", 150).synthesize("-v en --help satu dua tiga"), 1.0, 6.0)


def test_missing_command_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the espeak-ng command the fallback says so."""
    monkeypatch.setattr(speech_module.shutil, "which", lambda name: None)
    with pytest.raises(SpeechError, match="belum terpasang"):
        EspeakCliSpeech("id", 150)
