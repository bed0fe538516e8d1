"""Bench: call → announcement WAV ready (cached, synthesized, voice pack) and pack prerender time.

Run: .venv/bin/python bench/audio_render.py [--calls N] [--concurrent N]
Targets: cache p99 < 20 ms, synthesized p99 < 100 ms, whole voice pack < 5 s; N renders at
once (threads through one Renderer, and processes each with its own pyttsx3) all keep the
configured rate: rendered speech length / expected length within RATE_BAND.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from audio import wavs
from audio.chime import chime
from audio.mix import CHIME_GAP_SECONDS
from audio.packspeech import PackSpeech
from audio.prerender import prerender
from audio.render import Renderer
from audio.settings import AnnouncementSettings
from audio.speech import (
    RATE_BAND,
    EspeakCliSpeech,
    PyttsxSpeech,
    Speech,
    expected_seconds,
    open_speech,
)
from audio.voicepack import VoicePack


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


async def time_calls(renderer: Renderer, calls: list[tuple[str, int]]) -> list[float]:
    """Seconds from each call to its WAV being ready, awaited from the event loop."""
    times = []
    for code, counter in calls:
        start = time.perf_counter()
        await renderer.render(code, counter)
        times.append(time.perf_counter() - start)
    return times


def report(label: str, times: list[float], target_ms: float) -> bool:
    p50, p99 = percentiles(times)
    ok = p99 < target_ms
    verdict = "ok" if ok else "OVER BUDGET"
    print(f"{label:<34} n={len(times):<5} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"
          f"  (target p99 < {target_ms:.0f} ms: {verdict})")
    return ok


def bench_engine(label: str, speech: Speech, settings: AnnouncementSettings, count: int) -> bool:
    renderer = Renderer(settings, speech)
    calls = [(f"{'ABCDEFGH'[n % 8]}{n:03d}", n % 29 + 1) for n in range(1, count + 1)]
    synthesized = asyncio.run(time_calls(renderer, calls))
    cached = asyncio.run(time_calls(renderer, calls * 5))
    ok = report(f"{label}, synthesized", synthesized, 100)
    return report(f"{label}, from cache", cached, 20) and ok


RENDER_IN_A_PROCESS = """
import sys
from audio.speech import PyttsxSpeech
speech = PyttsxSpeech("id", int(sys.argv[1]))
print(speech.synthesize(sys.argv[2]).duration, speech.rate_misses)
speech.close()
"""


def spread(label: str, seconds: list[float], texts: list[str], rate: int) -> bool:
    """Print the rendered/expected length ratios of concurrent renders; all within RATE_BAND?"""
    ratios = [s / expected_seconds(t, rate) for s, t in zip(seconds, texts, strict=True)]
    low, high = RATE_BAND
    ok = all(low <= r <= high for r in ratios)
    print(f"{label:<34} n={len(ratios):<5} speech {min(seconds):.2f}-{max(seconds):.2f} s, "
          f"length/expected {min(ratios):.2f}-{max(ratios):.2f} (median "
          f"{statistics.median(ratios):.2f}; band {low}-{high}: {'ok' if ok else 'RATE LOST'})")
    return ok


def bench_rate(speech: Speech, settings: AnnouncementSettings, count: int) -> bool:
    """``count`` renders at once: threads through one Renderer, then processes."""
    renderer = Renderer(settings, speech)
    texts = [settings.text(f"{'ABCK'[n % 4]}{n * 37 + 1}", n % 29 + 1) for n in range(count)]
    with ThreadPoolExecutor(count) as pool:
        paths = list(pool.map(renderer.render_text, texts))
    head = chime().n_frames + round(CHIME_GAP_SECONDS * wavs.RATE)
    seconds = [wavs.trim(wavs.Clip(wavs.RATE, 1, 2, wavs.read(p).frames[head * 2:])).duration
               for p in paths]
    misses = getattr(speech, "rate_misses", 0)
    ok = spread(f"{count} threads at once, rate {settings.rate}", seconds, texts, settings.rate)
    processes = [subprocess.Popen([sys.executable, "-c", RENDER_IN_A_PROCESS,
                                   str(settings.rate), text], stdout=subprocess.PIPE)
                 for text in texts]
    outputs = [p.communicate()[0].split() for p in processes]
    misses += sum(int(out[1]) for out in outputs)
    ok = spread(f"{count} processes at once, rate {settings.rate}",
                [float(out[0]) for out in outputs], texts, settings.rate) and ok
    print(f"{'renders caught at the wrong rate':<34} {misses} (made again)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="distinct calls per engine")
    parser.add_argument("--concurrent", type=int, default=20, help="renders at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="antrian-bench-") as folder:
        root = Path(folder)
        settings = AnnouncementSettings(cache_dir=root / "cache-pyttsx3")
        speech = open_speech(settings.voice, settings.rate)
        try:
            ok = bench_engine("pyttsx3", speech, settings, args.calls)
            cli_settings = AnnouncementSettings(cache_dir=root / "cache-cli")
            cli = EspeakCliSpeech(settings.voice, settings.rate)
            ok = bench_engine("espeak-ng command", cli, cli_settings, args.calls) and ok

            start = time.perf_counter()
            rendered = prerender(root / "pack", settings.vocabulary(), speech)
            seconds = time.perf_counter() - start
            verdict = "ok" if seconds < 5 else "OVER BUDGET"
            print(f"{'prerender whole voice pack':<34} {len(rendered)} clips in {seconds:.2f} s"
                  f"  (target < 5 s: {verdict})")
            ok = ok and seconds < 5

            pack = PackSpeech(VoicePack.load(root / "pack"), speech)
            pack_settings = AnnouncementSettings(cache_dir=root / "cache-pack")
            ok = bench_engine("voice pack", pack, pack_settings, args.calls) and ok
        finally:
            speech.close()
        slow = AnnouncementSettings(cache_dir=root / "cache-rate", rate=110)
        speech = PyttsxSpeech(slow.voice, slow.rate)
        try:
            ok = bench_rate(speech, slow, args.concurrent) and ok
        finally:
            speech.close()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
