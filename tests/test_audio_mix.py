"""Joining an announcement on real espeak-ng WAVs: set gaps, no clipping, the chime's level
matched to the speech (pyloudnorm), the chime and the gap before speech kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio import mix, wavs
from audio.chime import chime
from audio.packspeech import PackSpeech
from audio.prerender import prerender
from audio.speech import EspeakCliSpeech
from audio.voicepack import VoicePack

SENTENCE = "Nomor antrian a seratus dua puluh tiga, silakan menuju loket lima"
FULL_SCALE = 32767


@pytest.fixture(scope="module")
def espeak() -> EspeakCliSpeech:
    return EspeakCliSpeech("id", 150)


@pytest.fixture(scope="module")
def spoken(espeak: EspeakCliSpeech) -> wavs.Clip:
    return wavs.convert(espeak.synthesize(SENTENCE))


def parts(clip: wavs.Clip, repeat: int = 1) -> tuple[wavs.Clip, wavs.Clip]:
    """The chime and the (first) speech of a joined announcement."""
    n = chime().n_frames
    head = round((n / clip.rate + mix.CHIME_GAP_SECONDS) * clip.rate)
    bell = wavs.Clip(clip.rate, 1, 2, clip.frames[: n * 2])
    return bell, wavs.trim(wavs.Clip(clip.rate, 1, 2, clip.frames[head * 2 :]))


@pytest.mark.parametrize("decibels", [-12.0, 0.0, 6.0, 12.0])
def test_chime_level_matches_the_speech(spoken: wavs.Clip, decibels: float) -> None:
    """Quiet or loud speech (a recorded pack at -16 LUFS is louder than espeak-ng's -21): the
    chime comes out within 1 LU of it, and no sample reaches full scale."""
    speech = mix.gain(spoken, decibels)
    joined = mix.announcement(chime(), speech)
    bell, said = parts(joined)
    assert abs(mix.clip_loudness(bell) - mix.clip_loudness(said)) < 1.0
    assert max(abs(s) for s in joined.samples()) < FULL_SCALE
    assert mix.peak(joined) <= mix.PEAK_CEILING + 1e-4


def test_speech_at_full_scale_is_turned_down_not_clipped(spoken: wavs.Clip) -> None:
    """Speech that already hits full scale (clipped by a +12 dB gain) is joined without any
    sample at full scale: the whole is turned down to -1 dBFS, the chime with it."""
    hot = mix.gain(spoken, 12.0)
    assert max(abs(s) for s in hot.samples()) >= FULL_SCALE
    joined = mix.announcement(chime(), hot)
    assert max(abs(s) for s in joined.samples()) < FULL_SCALE
    assert mix.peak(joined) == pytest.approx(mix.PEAK_CEILING, abs=1e-3)
    bell, said = parts(joined)
    assert abs(mix.clip_loudness(bell) - mix.clip_loudness(said)) < 1.0


def test_the_gaps_are_the_set_ones(spoken: wavs.Clip) -> None:
    """The chime's gap before speech and the pause between two sayings are measured silent
    runs of the set length, whatever silence the engine left around its speech."""
    padded = wavs.join([wavs.silence(0.7), spoken, wavs.silence(0.9)])
    for speech in (spoken, padded):
        joined = mix.announcement(chime(), speech, repeat=2)
        gaps = [seconds for _, seconds in mix.silences(joined, shortest=0.2)]
        assert gaps[0] == pytest.approx(mix.CHIME_GAP_SECONDS, abs=0.03)
        assert max(gaps) == pytest.approx(mix.REPEAT_GAP_SECONDS, abs=0.03)
        assert joined.frames.endswith(bytes(round(mix.TAIL_SECONDS * 22050) * 2))
        # the speech starts right after the chime's gap: audio that starts straight into
        # speech hurts recognition, so the chime and the gap are always there
        start, _ = mix.silences(joined, shortest=0.2)[0]
        assert start == pytest.approx(chime().duration, abs=0.03)


def test_words_of_a_pack_are_joined_with_the_same_gap(
    espeak: EspeakCliSpeech, tmp_path: Path
) -> None:
    """A voice pack of espeak-ng words: between any two words the silence is the pack's gap
    (plus up to the 10 ms kept at each trimmed clip's ends), at the comma the pack's pause."""
    words = SENTENCE.lower().replace(",", "").split()
    prerender(tmp_path / "pack", sorted(set(words)), espeak)
    pack = VoicePack.load(tmp_path / "pack")
    said = PackSpeech(pack, espeak).synthesize(SENTENCE)
    # silences inside a word (a stop's closure) are shorter than the gap; every join is one
    gaps = [seconds for _, seconds in mix.silences(said, shortest=pack.gap_seconds)]
    assert len(gaps) == len(words) - 1, gaps
    pauses = [g for g in gaps if g > pack.gap_seconds + 0.03]
    assert pauses == [pytest.approx(pack.pause_seconds + 0.02, abs=0.01)], gaps
    assert all(g <= pack.gap_seconds + 0.03 for g in gaps if g not in pauses), gaps
    joined = mix.announcement(chime(), said)
    assert max(abs(s) for s in joined.samples()) < FULL_SCALE


def test_silent_speech_keeps_the_chime_as_it_is() -> None:
    """Nothing to measure: the chime is not levelled to silence, nothing fails."""
    joined = mix.announcement(chime(), wavs.silence(0.5))
    assert joined.frames.startswith(chime().frames)


def test_gain_and_peak() -> None:
    """+6 dB doubles a sample, clipped to the 16-bit range; the peak is a share of full scale."""
    clip = wavs.from_samples([1000, -2000, 20000])
    assert list(mix.gain(clip, 20 * 0.30103).samples()) == [2000, -4000, 32767]
    assert mix.peak(clip) == pytest.approx(20000 / 32768)
    assert mix.peak(mix.limit(wavs.from_samples([32767, -32768]))) <= mix.PEAK_CEILING + 1e-4


def test_synthesized_words_in_a_levelled_pack_are_at_its_loudness(
    espeak: EspeakCliSpeech, tmp_path: Path
) -> None:
    """A studio pack (every clip at -16 LUFS) lacking a word: the synthesized word is raised
    from espeak-ng's level (about -21 LUFS) to the pack's, as far as its peaks allow below
    -1 dBFS (as the studio levels a recording); a pack of unknown level leaves it as it is."""
    (tmp_path / "pack").mkdir()
    levelled = PackSpeech(VoicePack(tmp_path / "pack", {}, lufs=-16.0), espeak)
    plain = PackSpeech(VoicePack(tmp_path / "pack", {}), espeak)
    for words in ("seratus dua puluh tiga", "loket", "nomor antrian"):
        before, said = plain.synthesize(words), levelled.synthesize(words)
        assert mix.clip_loudness(before) < -18.0  # espeak-ng's own level
        loudness, top = mix.clip_loudness(said), mix.peak(said)
        assert loudness > mix.clip_loudness(before) + 0.5
        assert top <= mix.PEAK_CEILING + 1e-4
        assert abs(loudness - -16.0) < 1.0 or top == pytest.approx(mix.PEAK_CEILING, abs=1e-3)
