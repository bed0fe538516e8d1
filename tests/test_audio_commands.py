"""The `antrian say` and `antrian voice prerender` commands, run through argparse."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from audio import commands, wavs
from audio.chime import chime
from audio.voicepack import MANIFEST, VoicePack

CONFIG = """
[site]
id = "uji"
name = "MPP Uji"

[announcement]
number_style = "digits"
voice_pack = "suara"

[[tenants]]
id = "samsat"
name = "Samsat"

[[services]]
code = "A"
name = "Perpanjangan STNK"
tenant = "samsat"
announcement = "Nomor antrian {ticket} untuk {tenant}, silakan menuju loket {counter}"

[[services]]
code = "B"
name = "Balik Nama"
tenant = "samsat"

[[counters]]
number = 29
services = ["A", "B"]
"""


def run(tmp_path: Path, *argv: str) -> int:
    """Parse ``argv`` with the audio subcommands registered and run the chosen one."""
    config = tmp_path / "site.toml"
    config.write_text(CONFIG, encoding="utf-8")
    parser = argparse.ArgumentParser(prog="antrian")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", default=str(config))
        p.add_argument("--data-dir", default=str(tmp_path / "data"))

    commands.register(sub, common)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def test_say_text_uses_the_service_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--text prints the configured sentence: digits style, tenant name, counter in words."""
    assert run(tmp_path, "say", "A012", "29", "--text") == 0
    assert capsys.readouterr().out == (
        "Nomor antrian a nol satu dua untuk Samsat, silakan menuju loket dua puluh sembilan\n"
    )
    assert run(tmp_path, "say", "B001", "29") == 0
    assert capsys.readouterr().out == (
        "Nomor antrian be nol nol satu, silakan menuju loket dua puluh sembilan\n"
    )


def test_say_out_renders_a_wav(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--out writes chime + speech; a missing voice pack folder falls back to synthesis."""
    out = tmp_path / "call.wav"
    assert run(tmp_path, "say", "B001", "29", "--out", str(out)) == 0
    assert capsys.readouterr().out == ""
    clip = wavs.read(out)
    assert clip.format == (22050, 1, 2)
    bell = np.array(chime().samples(), dtype=float)  # the chime first, levelled to the speech
    head = np.array(clip.samples()[: len(bell)], dtype=float)
    assert np.corrcoef(head, bell)[0, 1] > 0.999
    assert 3.5 < clip.duration < 10.0
    assert max(abs(s) for s in clip.samples()[chime().n_frames :]) > 5000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["say", "A001", "5"], "Loket 5 tidak ada (loket yang ada: 29)"),
        (["say", "Q001", "29"], "layanan Q tidak ada (layanan: A, B)"),
        (["say", "a001", "29"], "kode antrian 'a001' tidak sah"),
        (["say", "A" + "1" * 40, "29"], "kode antrian"),
        (["say", "A001", "0"], "nomor loket 0 tidak sah"),
    ],
)
def test_say_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Unknown counters and services and bad codes give exit code 2 and a clear message."""
    assert run(tmp_path, *argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"antrian: {message}")


def test_prerender_fills_the_configured_pack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pack in the config gets a clip for every word, including the tenant's name."""
    assert run(tmp_path, "voice", "prerender") == 0
    pack_dir = tmp_path / "data" / "suara"
    pack = VoicePack.load(pack_dir)
    assert {("samsat",), ("untuk",), ("zet",), ("sembilan",)} <= set(pack.clips)
    assert ("balik",) not in pack.clips
    captured = capsys.readouterr()
    assert f"klip suara dibuat, 0 klip lama dipertahankan; daftar: {pack_dir / MANIFEST}" in (
        captured.out
    )
    assert f"merekam {len(pack.clips)}/{len(pack.clips)}" in captured.err
    assert run(tmp_path, "voice", "prerender", "--pack", str(pack_dir)) == 0
    assert f"0 klip suara dibuat, {len(pack.clips)} klip lama" in capsys.readouterr().out


def test_prerender_refuses_a_broken_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken manifest is reported, not overwritten."""
    (tmp_path / MANIFEST).write_text("[clips\n")
    assert run(tmp_path, "voice", "prerender", "--pack", str(tmp_path)) == 2
    assert "tidak dapat dibaca" in capsys.readouterr().err
    assert (tmp_path / MANIFEST).read_text() == "[clips\n"
