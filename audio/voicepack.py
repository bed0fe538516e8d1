"""Voice packs: a folder of WAV clips with a manifest mapping spoken phrases to files."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from audio.phrases import PAUSE, tokens
from texts import t

MANIFEST = "manifest.toml"
GAP_SECONDS = 0.06
PAUSE_SECONDS = 0.3
MAX_PHRASE_WORDS = 8


class VoicePackError(ValueError):
    """A voice pack folder or manifest is unusable."""


@dataclass(frozen=True)
class Piece:
    """One step of an assembled announcement: a pack clip, or words to synthesize."""

    words: tuple[str, ...]
    recorded: bool
    pause_before: bool


@dataclass(frozen=True)
class VoicePack:
    """A loaded manifest: word or phrase (as tokens) → clip file in the pack folder."""

    folder: Path
    clips: Mapping[tuple[str, ...], Path]
    gap_seconds: float = GAP_SECONDS
    pause_seconds: float = PAUSE_SECONDS
    lufs: float | None = None  # every clip levelled to this loudness (the studio's packs)

    @classmethod
    def load(cls, folder: Path) -> VoicePack:
        """Read ``folder/manifest.toml``; raise VoicePackError saying what is wrong.

        The manifest is ``[clips]`` mapping phrases to file names inside the folder,
        with optional top-level ``gap_seconds``, ``pause_seconds`` and ``lufs`` (the loudness
        every clip was levelled to, written by the voice studio).
        Clip files are only opened when used.
        """
        path = folder / MANIFEST
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise VoicePackError(t("voicepack.no_manifest", folder=folder,
                                   manifest=MANIFEST)) from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise VoicePackError(t("voicepack.unreadable", path=path, error=error)) from None
        table = data.get("clips")
        if not isinstance(table, dict):
            raise VoicePackError(t("voicepack.no_clips", path=path))
        clips: dict[tuple[str, ...], Path] = {}
        for phrase, file in table.items():
            key = tuple(token for token in tokens(phrase) if token != PAUSE)
            if not key or len(key) > MAX_PHRASE_WORDS:
                raise VoicePackError(t("voicepack.phrase_length", path=path, phrase=phrase,
                                       max=MAX_PHRASE_WORDS))
            if not _inside(file):
                raise VoicePackError(t("voicepack.clip_outside", path=path, phrase=phrase))
            clips[key] = folder / file
        gap = _seconds(data, "gap_seconds", GAP_SECONDS, path)
        lufs = data.get("lufs")
        if lufs is not None and (isinstance(lufs, bool) or not isinstance(lufs, int | float)
                                 or not -40 <= lufs <= 0):
            raise VoicePackError(t("voicepack.seconds", path=path, key="lufs"))
        return cls(folder, clips, gap, _seconds(data, "pause_seconds", PAUSE_SECONDS, path),
                   None if lufs is None else float(lufs))

    def plan(self, text: str) -> list[Piece]:
        """Cover ``text`` with the longest phrases the pack has, and runs of words it lacks.

        Pure: no clip file is opened. A punctuation mark becomes a pause before the next piece.
        """
        pieces: list[Piece] = []
        for segment in _segments(tokens(text)):
            first = len(pieces)
            for words, recorded in self._cover(segment):
                pause = first > 0 and len(pieces) == first
                pieces.append(Piece(words, recorded, pause))
        return pieces

    def with_clips(self, clips: Mapping[tuple[str, ...], Path]) -> VoicePack:
        """This pack with ``clips`` added or replacing existing entries."""
        return replace(self, clips={**self.clips, **clips})

    def save(self) -> None:
        """Write the manifest (comments in a hand-edited one are not kept)."""
        lines = [
            "# antrian voice pack: each phrase, as spoken, names a WAV file in this folder.",
            "# Replace any file with a recording of the same words; keep the names.",
            f"gap_seconds = {self.gap_seconds}",
            f"pause_seconds = {self.pause_seconds}",
            *([] if self.lufs is None else [f"lufs = {self.lufs}"]),
            "",
            "[clips]",
        ]
        for key, path in sorted(self.clips.items()):
            lines.append(f"{json.dumps(' '.join(key))} = {json.dumps(path.name)}")
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")

    def fingerprint(self) -> str:
        """Changes whenever the manifest or any clip file changes."""
        digest = hashlib.sha256(repr((self.gap_seconds, self.pause_seconds)).encode())
        for key, path in sorted(self.clips.items()):
            try:
                stat = path.stat()
                state = (stat.st_size, stat.st_mtime_ns)
            except OSError:
                state = None
            digest.update(repr((key, path.name, state)).encode())
        return digest.hexdigest()[:16]

    def _cover(self, words: Sequence[str]) -> Iterator[tuple[tuple[str, ...], bool]]:
        missing: list[str] = []
        i = 0
        while i < len(words):
            length = self._longest_match(words, i)
            if length == 0:
                missing.append(words[i])
                i += 1
                continue
            if missing:
                yield tuple(missing), False
                missing = []
            yield tuple(words[i : i + length]), True
            i += length
        if missing:
            yield tuple(missing), False

    def _longest_match(self, words: Sequence[str], start: int) -> int:
        for length in range(min(MAX_PHRASE_WORDS, len(words) - start), 0, -1):
            if tuple(words[start : start + length]) in self.clips:
                return length
        return 0


def clip_file_name(words: Sequence[str]) -> str:
    """The file name prerendering gives a phrase's clip, e.g. "nomor_antrian.wav"."""
    return "_".join(words).replace("'", "") + ".wav"


def _inside(file: object) -> bool:
    """Whether a manifest value names a file inside the pack folder."""
    if not isinstance(file, str) or not file.strip():
        return False
    return not Path(file).is_absolute() and ".." not in Path(file).parts


def _seconds(data: Mapping[str, object], key: str, default: float, path: Path) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 5:
        raise VoicePackError(t("voicepack.seconds", path=path, key=key))
    return float(value)


def _segments(words: Sequence[str]) -> Iterator[list[str]]:
    segment: list[str] = []
    for word in [*words, PAUSE]:
        if word != PAUSE:
            segment.append(word)
        elif segment:
            yield segment
            segment = []
