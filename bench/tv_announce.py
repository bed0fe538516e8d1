"""Bench: how many calls a minute one TV (or announcer) can say, one call per announcement and
with a burst merged (`merge_template`, up to `merge_max` calls after one chime).

The announcements are rendered for real (chime + espeak-ng's Indonesian voice, the site's
default templates, ticket numbers spoken as words) and their WAV lengths measured: a speaker
says one announcement after another, so its capacity is calls per announcement × 60 s / the
announcement's length.

Run: .venv/bin/python bench/tv_announce.py [--calls N] [--seed S]
Target: merged ≥ 12 calls a minute. The demo site's 29 counters at a brisk 3 minutes per
visitor call 29 / 3 ≈ 9.7 times a minute; 12 is that with a quarter to spare. One call per
announcement stays below it (the issue's ~9 a minute), which is why a burst is merged (and why
a call whose counter has moved on is not said at all). Exits 1 when the merged figure misses
the target. Measured: 4 calls to an announcement say no more a minute than 3 (the spoken part
per call, ~3 s, is the limit, not the chime), hence merge_max = 3.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path

from audio import wavs
from audio.render import Renderer
from audio.settings import AnnouncementSettings
from audio.speech import EspeakCliSpeech

TARGET_PER_MINUTE = 12.0
PREFIXES = ["A", "B", "C", "D", "J", "S", "AJ", "AK", "AA"]


def sample_calls(n: int, rng: random.Random) -> list[tuple[str, int, str | None]]:
    """Realistic calls: a one or two letter prefix, numbers of a busy day, 29 counters."""
    return [(f"{rng.choice(PREFIXES)}{rng.randint(1, 250):03d}", rng.randint(1, 29), None)
            for _ in range(n)]


def seconds_of(renderer: Renderer, calls: list[tuple[str, int, str | None]]) -> float:
    text = renderer.settings.merged_text(calls)
    return wavs.file_duration(renderer.render_text(text))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=24, help="sampled calls per figure")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as cache:
        settings = AnnouncementSettings(cache_dir=Path(cache))
        renderer = Renderer(settings, EspeakCliSpeech(settings.voice, settings.rate))
        rows = []
        for k in range(1, settings.merge_max + 1):
            calls = sample_calls(args.calls - args.calls % k, rng)
            lengths = [seconds_of(renderer, calls[i:i + k]) for i in range(0, len(calls), k)]
            mean = statistics.fmean(lengths)
            rows.append((k, mean, k * 60 / mean))
    print("calls per announcement | mean length (s) | calls a minute")
    for k, mean, rate in rows:
        print(f"{k:>22} | {mean:>15.2f} | {rate:>14.1f}")
    merged = rows[-1][2]
    ok = merged >= TARGET_PER_MINUTE
    print(f"single: {rows[0][2]:.1f} calls/min; merged ({rows[-1][0]} at a time): {merged:.1f} "
          f"calls/min; target ≥ {TARGET_PER_MINUTE:.0f}: {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
