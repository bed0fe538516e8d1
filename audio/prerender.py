"""Fill a voice pack with synthesized clips so a venue can replace them one by one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from audio import wavs
from audio.speech import Speech
from audio.voicepack import MANIFEST, VoicePack, clip_file_name

Progress = Callable[[int, int, str], None]


def prerender(
    folder: Path, words: Sequence[str], speech: Speech, progress: Progress | None = None
) -> list[str]:
    """Synthesize a trimmed clip for every word the pack lacks, update the manifest.

    Words whose clip file exists are kept as they are (they may be recordings).
    Calls ``progress(done, total, word)`` after each word; returns the words rendered.
    A broken existing manifest raises VoicePackError and nothing is written.
    """
    pack = VoicePack.load(folder) if (folder / MANIFEST).exists() else VoicePack(folder, {})
    added: dict[tuple[str, ...], Path] = {}
    for done, word in enumerate(words, start=1):
        key = (word,)
        if key not in pack.clips or not pack.clips[key].is_file():
            path = pack.clips.get(key, folder / clip_file_name(key))
            clip = wavs.trim(wavs.convert(speech.synthesize(word)))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(wavs.to_bytes(clip))
            added[key] = path
        if progress is not None:
            progress(done, len(words), word)
    pack.with_clips(added).save()
    return [" ".join(key) for key in added]
