"""Voice pack manifests: loading, planning which clips an announcement needs, saving."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.voicepack import MANIFEST, Piece, VoicePack, VoicePackError, clip_file_name

MANIFEST_TEXT = """
gap_seconds = 0.05
pause_seconds = 0.4

[clips]
"Nomor antrian" = "nomor_antrian.wav"
"nomor" = "nomor.wav"
"a" = "a.wav"
"seratus" = "seratus.wav"
"silakan menuju loket" = "silakan.wav"
"loket" = "loket.wav"
"lima" = "lima.wav"
"""


def write_pack(folder: Path, text: str = MANIFEST_TEXT) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).write_text(text, encoding="utf-8")
    return folder


def test_load_normalises_phrases(tmp_path: Path) -> None:
    """Phrases become lowercase word tuples; files are inside the folder; gaps are read."""
    pack = VoicePack.load(write_pack(tmp_path))
    assert pack.clips[("nomor", "antrian")] == tmp_path / "nomor_antrian.wav"
    assert pack.clips[("silakan", "menuju", "loket")] == tmp_path / "silakan.wav"
    assert (pack.gap_seconds, pack.pause_seconds) == (0.05, 0.4)


def test_plan_prefers_longest_phrases_and_groups_missing_words(tmp_path: Path) -> None:
    """The longest recorded phrase wins; runs of unknown words are synthesized together."""
    pack = VoicePack.load(write_pack(tmp_path))
    plan = pack.plan("Nomor antrian A seratus dua puluh, silakan menuju loket lima")
    assert plan == [
        Piece(("nomor", "antrian"), True, False),
        Piece(("a",), True, False),
        Piece(("seratus",), True, False),
        Piece(("dua", "puluh"), False, False),
        Piece(("silakan", "menuju", "loket"), True, True),
        Piece(("lima",), True, False),
    ]


def test_plan_pauses_only_between_pieces(tmp_path: Path) -> None:
    """Leading, trailing and repeated punctuation make one pause at most, never at the ends."""
    pack = VoicePack.load(write_pack(tmp_path))
    assert pack.plan(", nomor ,, ke Samsat. lima !") == [
        Piece(("nomor",), True, False),
        Piece(("ke", "samsat"), False, True),
        Piece(("lima",), True, True),
    ]
    assert pack.plan(" , . ") == []


def test_phrases_do_not_span_a_pause(tmp_path: Path) -> None:
    """A phrase clip is not used across a comma."""
    pack = VoicePack.load(write_pack(tmp_path))
    assert [p.words for p in pack.plan("nomor, antrian")] == [("nomor",), ("antrian",)]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    """A saved manifest loads back to the same pack, quoting unusual phrases safely."""
    pack = VoicePack(tmp_path, {("nomor",): tmp_path / "nomor.wav"}, 0.1, 0.2)
    pack = pack.with_clips({("jum'at", "ke-2"): tmp_path / clip_file_name(("jum'at", "ke-2"))})
    pack.save()
    assert VoicePack.load(tmp_path) == pack
    assert (tmp_path / "jumat_ke-2.wav") in pack.clips.values()


def test_fingerprint_changes_with_a_clip(tmp_path: Path) -> None:
    """Replacing a clip file changes the fingerprint, so cached renders are not reused."""
    pack = VoicePack.load(write_pack(tmp_path))
    before = pack.fingerprint()
    assert pack.fingerprint() == before
    (tmp_path / "lima.wav").write_bytes(b"new recording")
    assert pack.fingerprint() != before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[clips\n", "tidak dapat dibaca"),
        ("gap_seconds = 1\n", r"tabel \[clips\] tidak ada"),
        ("clips = 3\n", r"tabel \[clips\] tidak ada"),
        ('[clips]\n"a" = 3\n', "harus menyebut berkas di dalam folder"),
        ('[clips]\n"a" = "/etc/passwd"\n', "harus menyebut berkas di dalam folder"),
        ('[clips]\n"a" = "../other/a.wav"\n', "harus menyebut berkas di dalam folder"),
        ('[clips]\n"a" = " "\n', "harus menyebut berkas di dalam folder"),
        ('[clips]\n"," = "comma.wav"\n', "harus 1 sampai 8 kata"),
        ('[clips]\n"a b c d e f g h i" = "long.wav"\n', "harus 1 sampai 8 kata"),
        ('gap_seconds = "short"\n[clips]\n', "gap_seconds harus 0 sampai 5 detik"),
        ("pause_seconds = -1\n[clips]\n", "pause_seconds harus 0 sampai 5 detik"),
    ],
)
def test_broken_manifests_are_refused(tmp_path: Path, text: str, message: str) -> None:
    """Each kind of broken manifest is refused with a message naming the problem."""
    with pytest.raises(VoicePackError, match=message):
        VoicePack.load(write_pack(tmp_path, text))


def test_missing_manifest_and_bad_encoding(tmp_path: Path) -> None:
    """A folder without a manifest, or a manifest that is not UTF-8, is refused."""
    with pytest.raises(VoicePackError, match=f"tidak ada {MANIFEST}"):
        VoicePack.load(tmp_path / "nowhere")
    (tmp_path / MANIFEST).write_bytes(b"\xff\xfe[clips]")
    with pytest.raises(VoicePackError, match="tidak dapat dibaca"):
        VoicePack.load(tmp_path)
