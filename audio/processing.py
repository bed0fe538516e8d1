"""A voice-pack recording made ready to join: decoded (PyAV, ffmpeg's libraries), silence trimmed
at both ends, levelled to one loudness (pyloudnorm, ITU-R BS.1770), resampled to the pack's rate
(libswresample), short fades; silent, too long, clipped or undecodable recordings are refused."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt
import pyloudnorm

from audio import wavs
from texts import t

TARGET_LUFS = -16.0
FADE_SECONDS = 0.01
KEEP_SECONDS = 0.02  # kept around the speech when trimming, before the fades
MAX_WORD_SECONDS = 4.0
MAX_PHRASE_SECONDS = 8.0
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
SILENT_PEAK = 10 ** (-50 / 20)  # a recording whose loudest sample is below -50 dBFS is silence
TRIM_BELOW_PEAK_DB = 35.0  # trimmed: the ends quieter than the peak by this much (and -50 dBFS)
FULL_SCALE = 0.999
CLIPPED_FRACTION = 0.001  # refused: more than 0.1 % of the samples at full scale
PEAK_CEILING = 10 ** (-1 / 20)  # after levelling no sample goes above -1 dBFS
MIN_SECONDS = 0.05

Samples = npt.NDArray[np.float64]


class RecordingRefused(ValueError):
    """A recording that cannot become a clip; ``code`` (the API's error code) names why:
    recording_silent, recording_too_long, recording_clipped, not_audio, payload_too_large."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Processed:
    """A recording made into a clip, with what was done to it."""

    clip: wavs.Clip
    loudness: float  # LUFS of the result
    trimmed_start: float  # seconds cut at the start
    trimmed_end: float  # seconds cut at the end
    source_seconds: float


def loudness(samples: Samples, rate: int) -> float:
    """Integrated loudness (LUFS) by pyloudnorm; a clip shorter than its 400 ms gating block is
    measured repeated to that length (the same mean power)."""
    meter = pyloudnorm.Meter(rate)
    block = int(meter.block_size * rate) + 1
    if 0 < len(samples) < block:
        samples = np.tile(samples, block // len(samples) + 1)
    return float(meter.integrated_loudness(samples))


def samples_of(clip: wavs.Clip) -> Samples:
    """A house-format clip's samples as floats in -1 … 1."""
    return np.asarray(clip.samples(), dtype=np.float64) / 32768.0


def decode(data: bytes) -> tuple[Samples, int]:
    """Mono float samples and their rate from any container/codec ffmpeg reads (the browser's
    webm/opus or ogg, WAV, ...); RecordingRefused("not_audio") otherwise."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise RecordingRefused("not_audio", t("studio.not_audio"))
            stream = container.streams.audio[0]
            rate = stream.rate or stream.codec_context.sample_rate
            resampler = av.AudioResampler(format="dbl", layout="mono", rate=rate)
            chunks = [frame.to_ndarray().reshape(-1)
                      for decoded in container.decode(stream)
                      for frame in resampler.resample(decoded)]
            chunks += [frame.to_ndarray().reshape(-1) for frame in resampler.resample(None)]
    except (av.FFmpegError, ValueError, EOFError) as error:
        if isinstance(error, RecordingRefused):
            raise
        raise RecordingRefused("not_audio", t("studio.not_audio")) from None
    if not chunks or not rate:
        raise RecordingRefused("not_audio", t("studio.not_audio"))
    return np.concatenate(chunks).astype(np.float64), int(rate)


def resample(samples: Samples, source: int, target: int) -> Samples:
    """``samples`` at rate ``target`` (libswresample through PyAV)."""
    if source == target or not len(samples):
        return samples
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="dbl", layout="mono")
    frame.sample_rate = source
    resampler = av.AudioResampler(format="dbl", layout="mono", rate=target)
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out) if out else np.zeros(0)


def process(data: bytes, *, max_seconds: float = MAX_WORD_SECONDS,
            rate: int = wavs.RATE, target: float = TARGET_LUFS) -> Processed:
    """The clip made of one recording, or RecordingRefused saying why not."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise RecordingRefused("payload_too_large", t("studio.too_large",
                                              mb=MAX_UPLOAD_BYTES // (1024 * 1024)))
    raw, source_rate = decode(data)
    peak = float(np.max(np.abs(raw))) if len(raw) else 0.0
    if peak < SILENT_PEAK:
        raise RecordingRefused("recording_silent", t("studio.silent"))
    if np.count_nonzero(np.abs(raw) >= FULL_SCALE) > CLIPPED_FRACTION * len(raw):
        raise RecordingRefused("recording_clipped", t("studio.clipped"))
    samples = resample(raw, source_rate, rate)
    threshold = max(SILENT_PEAK, peak * 10 ** (-TRIM_BELOW_PEAK_DB / 20))
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if not len(loud):
        raise RecordingRefused("recording_silent", t("studio.silent"))
    keep = round(KEEP_SECONDS * rate)
    start, end = max(0, int(loud[0]) - keep), min(len(samples), int(loud[-1]) + 1 + keep)
    speech = samples[start:end]
    seconds = len(speech) / rate
    if seconds > max_seconds:
        raise RecordingRefused("recording_too_long", t("studio.too_long") + " " + t(
            "studio.too_long_detail", seconds=f"{seconds:.1f}".replace(".", ","),
            max=f"{max_seconds:.0f}"))
    if seconds < MIN_SECONDS:
        raise RecordingRefused("recording_silent", t("studio.silent"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns of a peak above 0 dBFS: handled below
        levelled = pyloudnorm.normalize.loudness(speech, loudness(speech, rate), target)
    levelled = np.asarray(levelled, dtype=np.float64)
    top = float(np.max(np.abs(levelled)))
    if top > PEAK_CEILING:
        levelled = levelled * (PEAK_CEILING / top)
    fade = min(round(FADE_SECONDS * rate), len(levelled) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
        levelled[:fade] *= ramp
        levelled[-fade:] *= ramp[::-1]
    pcm = np.clip(np.round(levelled * 32767), -32768, 32767).astype("<i2").tobytes()
    clip = wavs.Clip(rate, wavs.CHANNELS, wavs.SAMPWIDTH, pcm)
    return Processed(clip, loudness(samples_of(clip), rate), start / rate,
                     (len(samples) - end) / rate, len(raw) / source_rate)
