"""Bench: call → announcement WAV ready (cached, synthesized, voice pack) and pack prerender time.

Run: .venv/bin/python bench/audio_render.py [--calls N]
Targets: cache p99 < 20 ms, synthesized p99 < 100 ms, whole voice pack < 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from audio.packspeech import PackSpeech
from audio.prerender import prerender
from audio.render import Renderer
from audio.settings import AnnouncementSettings
from audio.speech import EspeakCliSpeech, Speech, open_speech
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="distinct calls per engine")
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
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
