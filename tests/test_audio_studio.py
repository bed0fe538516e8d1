"""The voice studio's processing and packs without a browser: recordings as the browser sends
them (webm/opus, made here by PyAV) are trimmed, levelled to -16 LUFS (measured by pyloudnorm),
resampled and faded; silent, too long, clipped and non-audio ones are refused with the pack
unchanged; the script of clips follows the site; publish/restore; export/import round trip with
corrupt and foreign files refused; an announcement from the pack is the expected clips."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import make_site

from audio import processing, wavs
from audio.packspeech import PackSpeech
from audio.settings import AnnouncementSettings, ServiceNames
from audio.studio import EXPORT_INDEX, Studio, StudioError, needed_clips
from audio.voicepack import VoicePack

RATE = 48000


def webm(samples: np.ndarray, rate: int = RATE) -> bytes:
    """Samples as Chromium's MediaRecorder sends them: Opus in WebM."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as container:
        stream = container.add_stream("libopus", rate=rate)
        stream.layout = "mono"  # type: ignore[union-attr]
        frame = av.AudioFrame.from_ndarray(samples.astype(np.float32).reshape(1, -1),
                                           format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):  # type: ignore[union-attr]
            container.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            container.mux(packet)
    return buffer.getvalue()


def word(seconds: float = 0.5, level: float = 0.3, lead: float = 0.4, tail: float = 0.5,
         pitch: float = 220.0) -> np.ndarray:
    """A voiced sound (a tone with harmonics) between silences."""
    t = np.arange(int(seconds * RATE)) / RATE
    voiced = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in (1, 2, 3))
    voiced = level * voiced / np.max(np.abs(voiced))
    return np.concatenate([np.zeros(int(lead * RATE)), voiced, np.zeros(int(tail * RATE))])


def settings(tmp_path: Path) -> AnnouncementSettings:
    """A tiny site: one service A, the default templates."""
    return AnnouncementSettings(cache_dir=tmp_path / "cache",
                                service_names={"A": ServiceNames("Perpanjangan STNK", "Samsat")})


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def first_last_loud(clip: wavs.Clip, db: float = -40.0) -> tuple[float, float]:
    samples = processing.samples_of(clip)
    loud = np.flatnonzero(np.abs(samples) > 10 ** (db / 20))
    return loud[0] / clip.rate, (len(samples) - 1 - loud[-1]) / clip.rate


def test_a_recording_is_trimmed_levelled_resampled_and_faded() -> None:
    for level in (0.05, 0.3, 0.8):
        done = processing.process(webm(word(level=level)))
        clip = done.clip
        assert clip.format == (wavs.RATE, 1, 2)
        measured = processing.loudness(processing.samples_of(clip), clip.rate)
        assert abs(measured - processing.TARGET_LUFS) <= 1.0, (level, measured)
        assert 0.5 <= clip.duration <= 0.5 + 2 * processing.KEEP_SECONDS + 0.03
        head, tail = first_last_loud(clip)
        assert head <= processing.KEEP_SECONDS + 0.01 and tail <= processing.KEEP_SECONDS + 0.01
        assert done.trimmed_start >= 0.3 and done.trimmed_end >= 0.4
        samples = processing.samples_of(clip)
        assert abs(samples[0]) < 0.01 and abs(samples[-1]) < 0.01  # faded in and out
        assert np.max(np.abs(samples)) <= processing.PEAK_CEILING + 1e-3


def test_a_short_word_is_levelled_too() -> None:
    clip = processing.process(webm(word(seconds=0.15))).clip
    assert clip.duration < 0.25
    assert abs(processing.loudness(processing.samples_of(clip), clip.rate) + 16) <= 1.0


@pytest.mark.parametrize(("name", "data", "code"), [
    ("silent", lambda: webm(np.zeros(RATE)), "recording_silent"),
    ("hiss", lambda: webm(np.random.default_rng(1).normal(0, 0.001, RATE)), "recording_silent"),
    ("too long", lambda: webm(np.concatenate([word()] * 6)), "recording_too_long"),
    ("clipped", lambda: webm(np.clip(word(level=1.0) * 8, -1, 1)), "recording_clipped"),
    ("text", lambda: b"Nomor antrian a satu\n" * 50, "not_audio"),
    ("empty", lambda: b"", "not_audio"),
    ("image", lambda: b"\x89PNG\r\n\x1a\n" + bytes(2000), "not_audio"),
])
def test_bad_recordings_are_refused_in_indonesian(name: str, data: object, code: str) -> None:
    with pytest.raises(processing.RecordingRefused) as refused:
        processing.process(data())  # type: ignore[operator]
    assert refused.value.code == code, name
    assert any(w in str(refused.value) for w in ("Rekaman", "rekaman", "Berkas")), str(refused)


def test_the_script_lists_every_clip_the_announcements_join(tmp_path: Path) -> None:
    needed = needed_clips(settings(tmp_path))
    words = [" ".join(n.key) for n in needed]
    assert words[:20] == ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh",
                          "delapan", "sembilan", "sepuluh", "sebelas", "belas", "puluh",
                          "ratus", "seratus", "ribu", "seribu", "a", "nomor antrian"]
    assert words[20:] == ["silakan menuju loket", "nomor", "ke loket"]
    assert {n.group for n in needed} == {"angka", "huruf", "kalimat"}
    assert next(n.read for n in needed if n.key == ("a",)) == "a (huruf A)"
    # every word of any announcement of the site is covered by a recorded clip
    pack = VoicePack(tmp_path, {n.key: tmp_path / f"{n.id}.wav" for n in needed})
    s = settings(tmp_path)
    for code, counter in (("A1", 1), ("A12", 3), ("A999", 19), ("A1000", 20), ("A45678", 11)):
        assert all(p.recorded for p in pack.plan(s.text(code, counter))), code
    spoken = AnnouncementSettings(
        template="{service}: {ticket} ke loket {counter}",
        service_names={"BC": ServiceNames("KTP-el", "Disdukcapil")})
    extra = [" ".join(n.key) for n in needed_clips(spoken)]
    assert {"be", "ce untuk cinta", "ktp-el", "ke loket"} <= set(extra)  # C spelled by default
    assert "disdukcapil" not in extra
    plain = AnnouncementSettings(template=spoken.template, service_names=spoken.service_names,
                                 spelled_letters="")
    assert {" ".join(n.key) for n in needed_clips(plain) if n.group == "huruf"} == {"be", "ce"}
    spelled = AnnouncementSettings(spelled_letters="C", letter_names={"Q": "kiu"},
                                   service_names={"CQ": ServiceNames("Akta", "")})
    letters = [n for n in needed_clips(spelled) if n.group == "huruf"]
    assert [" ".join(n.key) for n in letters] == ["ce untuk cinta", "kiu"]


def test_the_script_covers_per_service_phrases_and_bursts(tmp_path: Path) -> None:
    """Services with their own template: its fixed words and the names it speaks are clips
    of the script, those of a service whose template does not speak them are not; with every
    clip recorded, any call of any service, in either number style, and a burst's merged
    sentence are said without synthesis."""
    from dataclasses import replace as changed

    site = AnnouncementSettings(
        service_templates={"BC": "Layanan {service} dari {tenant}: nomor {ticket} ke loket "
                                 "{counter}",
                           "Q": "{ticket}, silakan ke loket {counter}, terima kasih"},
        spelled_letters="C",
        service_names={"A": ServiceNames("Perpanjangan STNK", "Samsat"),
                       "BC": ServiceNames("KTP-el", "Disdukcapil"),
                       "Q": ServiceNames("Paspor", "Imigrasi")})
    for style in ("words", "digits"):
        s = changed(site, number_style=style)
        needed = needed_clips(s)
        phrases = {" ".join(n.key) for n in needed if n.group == "kalimat"}
        assert {"layanan", "dari", "ktp-el", "disdukcapil", "silakan ke loket",
                "terima kasih"} <= phrases
        assert not {"paspor", "imigrasi", "perpanjangan stnk", "samsat"} & phrases
        assert {" ".join(n.key) for n in needed if n.group == "huruf"} == {
            "a", "be", "ce untuk cinta", "ki"}
        pack = VoicePack(tmp_path, {n.key: tmp_path / f"{n.id}.wav" for n in needed})
        for code in ("A1", "BC12", "Q999", "BC1000", "A45678", "Q100017", "A000000"):
            for counter in (1, 11, 20, 99):
                for text in (s.text(code, counter),
                             s.merged_text([(code, counter, None), ("Q7", 3, None)])):
                    missing = [p.words for p in pack.plan(text) if not p.recorded]
                    assert not missing, (text, missing)


def record_all(studio: Studio, s: AnnouncementSettings) -> None:
    for n, needed in enumerate(needed_clips(s)):
        studio.record(needed, webm(word(seconds=0.3 + 0.01 * n, pitch=150 + 10 * n)))


def test_refused_recordings_leave_the_draft_unchanged(tmp_path: Path) -> None:
    s = settings(tmp_path)
    studio = Studio(tmp_path / "voice", tmp_path / "voice" / "aktif")
    needed = needed_clips(s)
    studio.record(needed[0], webm(word()))
    before = snapshot(studio.draft_dir)
    for bad in (webm(np.zeros(RATE)), webm(np.concatenate([word()] * 6)),
                webm(np.clip(word(level=1.0) * 8, -1, 1)), b"bukan suara"):
        with pytest.raises(processing.RecordingRefused):
            studio.record(needed[0], bad)
        with pytest.raises(processing.RecordingRefused):
            studio.record(needed[1], bad)
        assert snapshot(studio.draft_dir) == before


def test_publish_restore_and_the_settings_follow_the_live_pack(tmp_path: Path) -> None:
    studio = Studio(tmp_path / "voice", tmp_path / "voice" / "aktif")
    s = settings(tmp_path)
    with pytest.raises(StudioError) as empty:
        studio.publish()
    assert empty.value.code == "empty_draft"
    record_all(studio, s)
    assert studio.publish() == 1
    first = snapshot(studio.live)
    needed = needed_clips(s)
    studio.record(needed[0], webm(word(seconds=0.8)))
    assert studio.publish() == 2
    assert snapshot(studio.live) != first
    assert [(v.number, v.active) for v in studio.versions()] == [(2, True), (1, False)]
    studio.restore(1)
    assert snapshot(studio.live) == first
    assert [(v.number, v.active) for v in studio.versions()] == [(2, False), (1, True)]
    with pytest.raises(StudioError) as unknown:
        studio.restore(9)
    assert unknown.value.code == "unknown_version"
    # the call audio finds the published pack without `voice_pack` configured
    assert AnnouncementSettings.from_site(make_site(), tmp_path).pack_dir == studio.live
    assert AnnouncementSettings.from_site(make_site(), tmp_path / "other").pack_dir is None


def test_a_hand_made_pack_is_kept_as_a_version(tmp_path: Path) -> None:
    """With `voice_pack` naming a hand-made folder, the studio starts from it and keeps it."""
    live = tmp_path / "paket-lama"
    clip = processing.process(webm(word())).clip
    live.mkdir()
    (live / "satu.wav").write_bytes(wavs.to_bytes(clip))
    VoicePack(live, {("satu",): live / "satu.wav"}).save()
    studio = Studio(tmp_path / "voice", live)
    assert set(studio.draft().clips) == {("satu",)}
    studio.record(needed_clips(settings(tmp_path))[2], webm(word(pitch=300)))
    assert studio.publish() == 2
    assert live.is_symlink() and set(VoicePack.load(live).clips) == {("satu",), ("dua",)}
    assert VoicePack.load(live).lufs is None  # its old clips' level is not known
    assert [(v.number, v.clips, v.active) for v in studio.versions()] == [(2, 2, True),
                                                                          (1, 1, False)]
    studio.restore(1)
    assert set(VoicePack.load(live).clips) == {("satu",)}


def test_an_announcement_from_the_pack_is_its_clips_with_the_gaps(tmp_path: Path) -> None:
    studio = Studio(tmp_path / "voice", tmp_path / "voice" / "aktif")
    s = settings(tmp_path)
    record_all(studio, s)
    studio.publish()
    pack = VoicePack.load(studio.live)

    class NoSynthesis:
        name = "none"

        def synthesize(self, text: str) -> wavs.Clip:
            raise AssertionError(f"synthesized {text!r}")

        def close(self) -> None:
            pass

    text = s.text("A12", 3)
    plan = pack.plan(text)
    assert [" ".join(p.words) for p in plan] == ["nomor antrian", "a", "dua", "belas",
                                                 "silakan menuju loket", "tiga"]
    clips = [wavs.read(pack.clips[p.words]) for p in plan]
    spoken = PackSpeech(pack, NoSynthesis()).synthesize(text)
    pauses = sum(1 for p in plan[1:] if p.pause_before)
    expected = sum(c.duration for c in clips) + pauses * pack.pause_seconds + \
        (len(plan) - 1 - pauses) * pack.gap_seconds
    assert abs(spoken.duration - expected) < 0.002
    # the studio's pack says its level, so the mixer need not measure it: and it is right
    assert pack.lufs == processing.TARGET_LUFS
    speech = PackSpeech(pack, NoSynthesis())
    assert speech.level(text) == pack.lufs
    assert abs(processing.loudness(processing.samples_of(spoken), wavs.RATE) - pack.lufs) <= 1
    assert speech.level("nomor antrian zet satu") is None  # "zet" would be synthesized
    offset = 0
    for i, (piece, clip) in enumerate(zip(plan, clips, strict=True)):
        if i:
            offset += round((pack.pause_seconds if piece.pause_before else pack.gap_seconds)
                            * wavs.RATE) * 2
        assert spoken.frames[offset: offset + len(clip.frames)] == clip.frames, piece
        offset += len(clip.frames)


def test_export_import_round_trip_and_bad_files_refused(tmp_path: Path) -> None:
    s = settings(tmp_path)
    one = Studio(tmp_path / "one", tmp_path / "one" / "aktif")
    with pytest.raises(StudioError):
        one.export()
    record_all(one, s)
    one.publish()
    data = one.export()
    other = Studio(tmp_path / "two", tmp_path / "two" / "aktif")
    assert other.import_pack(data) == len(needed_clips(s))
    assert snapshot(other.draft_dir) == snapshot(one.live)
    assert other.active_dir() is None  # imported into the draft, not live until published
    other.publish()
    assert snapshot(other.live) == snapshot(one.live)
    before = snapshot(other.draft_dir)

    def rezip(change: dict[str, bytes | None]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
            for name in src.namelist():
                content = change.get(name, src.read(name))
                if content is not None:
                    dst.writestr(name, content)
        return out.getvalue()

    index = json.loads(zipfile.ZipFile(io.BytesIO(data)).read(EXPORT_INDEX))
    clip_name = next(n for n in index["files"] if n.endswith(".wav"))
    foreign_index = json.dumps({**index, "format": "other/1"}).encode()
    escape = json.dumps({**index, "files": {**index["files"], "../x.wav": "0"}}).encode()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(EXPORT_INDEX, json.dumps(
            {"format": index["format"], "files": {"x.wav": "0", "manifest.toml": "0"}}))
        archive.writestr("manifest.toml", "[clips]\n")
        archive.writestr("x.wav", bytes(64 * 1024 * 1024))  # 64 MB of zeros, 64 KB zipped
    for bad in (bomb.getvalue(), data[: len(data) // 2], b"PK\x03\x04" + bytes(100), b"bukan zip",
                rezip({clip_name: b"RIFF" + bytes(60)}), rezip({EXPORT_INDEX: None}),
                rezip({EXPORT_INDEX: foreign_index}), rezip({EXPORT_INDEX: escape}),
                rezip({EXPORT_INDEX: b"[1, 2]"})):
        with pytest.raises(StudioError) as refused:
            other.import_pack(bad)
        assert refused.value.code == "voice_pack_refused"
        assert "paket suara tidak diubah" in str(refused.value)
        assert bad != bomb.getvalue() or "checksum" not in str(refused.value)  # refused unread
        assert snapshot(other.draft_dir) == before


CLI_CONFIG = """
[site]
id = "uji"
name = "MPP Uji"

[[tenants]]
id = "samsat"
name = "Samsat"

[[services]]
code = "A"
name = "Perpanjangan STNK"
tenant = "samsat"

[[counters]]
number = 1
services = ["A"]
"""


def test_the_voice_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`antrian voice script|publish|versions|export|import|restore` on the studio's folders."""
    import argparse

    from audio import commands

    config = tmp_path / "site.toml"
    config.write_text(CLI_CONFIG, encoding="utf-8")

    def run(*argv: str) -> int:
        parser = argparse.ArgumentParser(prog="antrian")
        sub = parser.add_subparsers(dest="command", required=True)

        def common(p: argparse.ArgumentParser) -> None:
            p.add_argument("--config", default=str(config))
            p.add_argument("--data-dir", default=str(tmp_path / "data"))

        commands.register(sub, common)
        args = parser.parse_args(list(argv))
        return int(args.func(args))

    assert run("voice", "script") == 0
    out = capsys.readouterr().out
    assert "[ ] nomor antrian" in out and "0 dari 23 klip sudah direkam di draf." in out
    assert run("voice", "publish") == 2
    assert "belum berisi klip" in capsys.readouterr().err
    studio = Studio.for_site(None, tmp_path / "data")
    record_all(studio, settings(tmp_path))
    assert run("voice", "script") == 0
    assert "23 dari 23 klip" in capsys.readouterr().out
    assert run("voice", "publish") == 0 and run("voice", "publish") == 0
    assert run("voice", "versions") == 0
    out = capsys.readouterr().out
    assert "Versi 2: diterbitkan" in out and "23 klip (berlaku)" in out
    assert run("voice", "export", "--out", str(tmp_path / "paket.zip")) == 0
    assert run("voice", "restore", "1") == 0 and studio.versions()[1].active
    assert run("voice", "import", str(tmp_path / "paket.zip")) == 0
    assert "23 klip" in capsys.readouterr().out
    (tmp_path / "rusak.zip").write_bytes(b"bukan zip")
    assert run("voice", "import", str(tmp_path / "rusak.zip")) == 2
    assert "bukan paket suara antrian" in capsys.readouterr().err
    assert run("voice", "restore", "7") == 2
