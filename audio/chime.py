"""The two-tone "ding-dong" chime played before every announcement, synthesized here."""

from __future__ import annotations

import math
from functools import cache

from audio.wavs import RATE, Clip, from_samples, join

DING_HZ = 659.25  # E5
DONG_HZ = 523.25  # C5
DING_SECONDS = 0.45
DONG_SECONDS = 0.8
FADE_SECONDS = 0.01
LEVEL = 0.45
OVERTONES = ((1.0, 1.0), (2.0, 0.35), (3.0, 0.12))


@cache
def chime(rate: int = RATE) -> Clip:
    """Ding then dong, mono 16-bit, each a decaying bell tone with short fades in and out."""
    return join([_bell(DING_HZ, DING_SECONDS, rate), _bell(DONG_HZ, DONG_SECONDS, rate)])


def _bell(frequency: float, seconds: float, rate: int) -> Clip:
    count = round(seconds * rate)
    fade = round(FADE_SECONDS * rate)
    norm = sum(weight for _, weight in OVERTONES)
    samples = []
    for i in range(count):
        t = i / rate
        tone = sum(w * math.sin(2 * math.pi * frequency * k * t) for k, w in OVERTONES) / norm
        envelope = math.exp(-3.0 * t / seconds) * min(1.0, i / fade, (count - 1 - i) / fade)
        samples.append(32767 * LEVEL * envelope * tone)
    return from_samples(samples, rate)
