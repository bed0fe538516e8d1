"""Bench: the voice studio. A whole pack processed from browser-like recordings (WebM/Opus:
decode, trim, level to -16 LUFS, resample, fade, store in the draft) and an announcement composed
from the recorded pack (chime + clips joined; nothing synthesized, nothing cached on disk).

Run: .venv/bin/python bench/voice_pack.py [--calls N]
Targets: whole pack < 10 s; an announcement from the pack p50 and p99 < 5 ms (wall clock, the
best of --rounds rounds: on a shared machine a preempted call costs a whole time slice; each
round also prints the thread's CPU time). The floor is the same announcement's clips only
joined (no planning, no chime, no mixing): what is left of the budget is the planner's and the
mixer's. Exit 1 on a miss.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from audio import wavs
from audio.packspeech import PackSpeech
from audio.render import Renderer
from audio.settings import AnnouncementSettings, ServiceNames
from audio.studio import Studio, needed_clips
from audio.voicepack import VoicePack

RATE = 48000


def recording(seconds: float, pitch: float) -> bytes:
    """A voiced sound between silences, as Chromium's MediaRecorder sends it (WebM/Opus)."""
    t = np.arange(int(seconds * RATE)) / RATE
    voiced = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in (1, 2, 3))
    voiced = 0.3 * voiced / np.max(np.abs(voiced))
    samples = np.concatenate([np.zeros(RATE // 3), voiced, np.zeros(RATE // 2)])
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as container:
        stream = container.add_stream("libopus", rate=RATE)
        stream.layout = "mono"  # type: ignore[union-attr]
        frame = av.AudioFrame.from_ndarray(samples.astype(np.float32).reshape(1, -1),
                                           format="flt", layout="mono")
        frame.sample_rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:  # type: ignore[union-attr]
            container.mux(packet)
    return buffer.getvalue()


class NoSynthesis:
    name = "none"

    def synthesize(self, text: str) -> wavs.Clip:
        raise RuntimeError(f"the pack lacks {text!r}")

    def close(self) -> None:
        pass


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="announcements a round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds; the best round's p99 is judged (other jobs preempt)")
    args = parser.parse_args()
    names = {code: ServiceNames(f"Layanan {code}", "") for code in "ABCDEFGH"}
    with tempfile.TemporaryDirectory(prefix="antrian-bench-") as folder:
        root = Path(folder)
        settings = AnnouncementSettings(cache_dir=root / "cache", service_names=names)
        needed = needed_clips(settings)
        takes = [recording(0.35 + 0.4 * (len(n.key) - 1), 140 + 7 * i)
                 for i, n in enumerate(needed)]
        studio = Studio(root / "voice", root / "voice" / "aktif")
        start = time.perf_counter()
        for clip, data in zip(needed, takes, strict=True):
            studio.record(clip, data)
        whole = time.perf_counter() - start
        studio.publish()
        pack_ok = whole < 10
        print(f"{'process a whole pack':<38} {len(needed)} clips in {whole:.2f} s "
              f"({whole / len(needed) * 1000:.0f} ms a clip; target < 10 s: "
              f"{'ok' if pack_ok else 'OVER BUDGET'})")

        pack = VoicePack.load(studio.live)
        renderer = Renderer(settings, PackSpeech(pack, NoSynthesis()))
        calls = [(f"{'ABCDEFGH'[n % 8]}{n * 7919 % 999 + 1}", n % 29 + 1)
                 for n in range(args.calls)]
        texts = [renderer.text(code, counter) for code, counter in calls]
        for text in texts[:50]:
            renderer.compose(text)  # every clip read once: what a running server holds
        clips = {key: wavs.read(path) for key, path in pack.clips.items()}
        best: tuple[float, float] | None = None
        for round_ in range(1, args.rounds + 1):
            times, cpu, floor = [], [], []
            for text in texts:
                begin, begin_cpu = time.perf_counter(), time.thread_time()
                renderer.compose(text)
                times.append(time.perf_counter() - begin)
                cpu.append(time.thread_time() - begin_cpu)
                parts = [clips[p.words] for p in pack.plan(text)]
                begin = time.perf_counter()
                wavs.join(parts, pack.gap_seconds)
                floor.append(time.perf_counter() - begin)
            p50, p99 = percentiles(times)
            c50, c99 = percentiles(cpu)
            f50, f99 = percentiles(floor)
            print(f"round {round_}: announcement from the pack n={len(times)} p50 {p50:.2f} ms "
                  f"p99 {p99:.2f} ms (CPU time p50 {c50:.2f} p99 {c99:.2f} ms); floor, its "
                  f"clips only joined: p50 {f50:.3f} p99 {f99:.3f} ms; load average "
                  f"{os.getloadavg()[0]:.1f}")
            if best is None or p99 < best[1]:
                best = (p50, p99)
        assert best is not None
        render_ok = best[0] < 5 and best[1] < 5
        print(f"{'announcement from the recorded pack':<38} best round p50 {best[0]:.2f} ms "
              f"p99 {best[1]:.2f} ms (target < 5 ms: {'ok' if render_ok else 'OVER BUDGET'})")
    return 0 if pack_ok and render_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
