"""The synthesized ding-dong chime."""

from __future__ import annotations

import json
import math
import re

from conftest import ROOT

from audio.chime import DING_HZ, DING_SECONDS, DONG_HZ, DONG_SECONDS, LEVEL, OVERTONES, chime
from audio.wavs import RATE, read, to_bytes


def power(samples: list[int], frequency: float, rate: int = RATE) -> float:
    """Goertzel power of one frequency in a block of samples."""
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    return previous**2 + before**2 - coefficient * previous * before


def test_chime_is_a_valid_house_format_wav() -> None:
    """The chime survives a WAV round trip as 22050 Hz mono 16-bit, about a second long."""
    clip = read(to_bytes(chime()))
    assert clip.format == (22050, 1, 2)
    assert 0.8 < clip.duration < 2.0


def test_chime_fades_in_and_out_without_clipping() -> None:
    """It starts and ends at silence, peaks well above silence and below full scale."""
    samples = chime().samples()
    assert samples[0] == 0 and samples[-1] == 0
    assert max(abs(s) for s in samples[:50]) < 3000
    assert 8000 < max(abs(s) for s in samples) < 30000


def test_chime_is_ding_then_dong() -> None:
    """The first tone is the high note, the second the low one."""
    samples = list(chime().samples())
    split = round(DING_SECONDS * RATE)
    ding, dong = samples[:split], samples[split:]
    assert power(ding, DING_HZ) > 20 * power(ding, DONG_HZ)
    assert power(dong, DONG_HZ) > 20 * power(dong, DING_HZ)


def test_the_tvs_own_chime_is_the_servers() -> None:
    """A TV that gets no WAV plays its own chime: the same notes, lengths, overtones and level."""
    script = (ROOT / "display_screens" / "static" / "display.js").read_text()

    def constant(name: str) -> object:
        found = re.search(rf"^const {name} = (.+?);", script, re.MULTILINE)
        assert found is not None, name
        return json.loads(found.group(1))

    assert constant("CHIME_NOTES") == [[DING_HZ, DING_SECONDS], [DONG_HZ, DONG_SECONDS]]
    assert constant("CHIME_OVERTONES") == [list(pair) for pair in OVERTONES]
    assert constant("CHIME_LEVEL") == LEVEL
