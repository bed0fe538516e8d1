"""The voice studio (/admin/suara) in Chromium with a WAV file as the microphone: every clip of a
tiny site's pack is recorded, listened to and accepted; the draft's manifest, levels (pyloudnorm,
within 1 LU of -16 LUFS) and trimmed ends are checked; a preview and, once published, a real
call's audio are the pack's clips with the set gaps; a bad upload is refused with the pack
unchanged; export then import in the page. A take recorded again before and after it is
accepted, a preview mixing a recorded word with synthesis, a version restored in the page."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ServerProcess, free_port
from playwright.sync_api import Browser, Page, sync_playwright
from test_audio_studio import snapshot, webm, word
from test_pages_support import CHROMIUM, CHROMIUM_ARGS, admin_sign_in, screenshot, until

from audio import processing, wavs
from audio.chime import chime
from audio.mix import TAIL_SECONDS
from audio.packspeech import PackSpeech
from audio.render import CHIME_GAP_SECONDS, Renderer
from audio.settings import AnnouncementSettings
from audio.voicepack import VoicePack
from display_server.config import load_config

MIC_RATE = 48000


def microphone_wav(path: Path) -> Path:
    """What the fake microphone plays in a loop: 0.5 s of silence, then 0.5 s of a voiced
    sound (a 200 Hz tone with harmonics)."""
    t = np.arange(MIC_RATE // 2) / MIC_RATE
    voiced = sum(np.sin(2 * np.pi * 200 * k * t) / k for k in (1, 2, 3, 4))
    voiced = 0.25 * voiced / np.max(np.abs(voiced))
    samples = np.concatenate([np.zeros(MIC_RATE // 2), voiced])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(MIC_RATE)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture
def tiny(tmp_path: Path, redis_url: str) -> Iterator[ServerProcess]:
    """A server of a tiny site: one service (prefix A), three counters."""
    config = tmp_path / "site.toml"
    config.write_text(
        '[site]\nid = "suara-uji"\nname = "MPP Suara"\ntimezone = "Asia/Jakarta"\n\n'
        '[[tenants]]\nid = "samsat"\nname = "Samsat"\n\n'
        '[[services]]\ncode = "A"\nname = "Perpanjangan STNK"\ntenant = "samsat"\n\n'
        + "".join(f'[[counters]]\nnumber = {n}\nservices = ["A"]\n\n' for n in (1, 2, 3)))
    (tmp_path / "data").mkdir()
    server = ServerProcess(config, redis_url, tmp_path / "data", port=free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def studio_browser(tmp_path: Path) -> Iterator[Browser]:
    mic = microphone_wav(tmp_path / "mikrofon.wav")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={mic}"])
        yield browser
        browser.close()


def read_wav(data: bytes) -> wavs.Clip:
    return wavs.read(data)


class NoSynthesis:
    """Speech that fails if asked: every word must come from the pack."""

    name = "none"

    def synthesize(self, text: str) -> wavs.Clip:
        raise AssertionError(f"synthesized {text!r}")

    def close(self) -> None:
        pass


def composed(server: ServerProcess, pack: VoicePack, ticket: str, counter: int) -> wavs.Clip:
    """The announcement of a call made here from ``pack``'s clips only, with the server's
    settings: chime, gap, then the clips joined with the pack's gaps."""
    settings = AnnouncementSettings.from_site(load_config(str(server.config)), server.data_dir)
    renderer = Renderer(settings, PackSpeech(pack, NoSynthesis()))
    spoken = PackSpeech(pack, NoSynthesis()).synthesize(renderer.text(ticket, counter))
    whole = renderer.compose(renderer.text(ticket, counter))
    assert whole.duration >= chime().duration * 0.5 + spoken.duration
    return whole


def said_from_clips(whole: wavs.Clip, pack: VoicePack, text: str) -> None:
    """``whole`` is the chime, the set gap, then ``text``'s clips from ``pack`` in order with
    the pack's gaps (its pause at a comma), then the tail: each clip's own samples at its
    place and of its length, the gaps silent. Only the speech's ends may lose a few ms of
    near-silence (trimmed so the chime's gap and the tail are the set ones)."""
    plan = pack.plan(text)
    assert all(p.recorded for p in plan), text
    rate, head = whole.rate, chime().n_frames + round(CHIME_GAP_SECONDS * whole.rate)
    tail = round(TAIL_SECONDS * rate) * 2
    body, at, trimmed = whole.frames[head * 2: len(whole.frames) - tail], 0, 0
    assert whole.frames[len(whole.frames) - tail:] == bytes(tail)
    for i, piece in enumerate(plan):
        frames = wavs.read(pack.clips[piece.words]).frames
        half = len(frames) // 4 * 2
        if i == 0:  # where the speech starts: the first clip, perhaps without its first ms
            at = body.find(frames[half:])
            assert at >= 0, (piece, "not found")
            trimmed = half - at
            assert trimmed >= 0 and body[:at] == frames[trimmed:half], piece
            at += len(frames) - half
            continue
        gap = round((pack.pause_seconds if piece.pause_before else pack.gap_seconds) * rate)
        assert body[at: at + gap * 2] == bytes(gap * 2), (piece, "gap")
        at += gap * 2
        if i < len(plan) - 1:
            assert body[at: at + len(frames)] == frames, piece
            at += len(frames)
        else:  # the last clip, perhaps without its last ms
            assert frames.startswith(body[at:]) and len(body) - at >= half, piece
            trimmed += len(frames) - (len(body) - at)
    assert trimmed / 2 / rate <= 0.06  # a few ms of each end's near-silence at most


def clip_rows(page: Page) -> list[dict[str, Any]]:
    return list(page.eval_on_selector_all(
        ".s-clip", "rows => rows.map(r => ({id: r.dataset.clip, recorded: r.dataset.recorded,"
        " read: r.querySelector('.s-read').textContent}))"))


def test_recording_every_clip_of_a_small_pack(tiny: ServerProcess, studio_browser: Browser,
                                              tmp_path: Path) -> None:
    context = studio_browser.new_context(viewport={"width": 1280, "height": 900},
                                         bypass_csp=True)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    admin_sign_in(page, tiny)
    page.click("#studio-link")
    page.wait_for_selector("#studio[data-ready='1']")
    rows = clip_rows(page)
    ids = [r["id"] for r in rows]
    assert ids == ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan",
                   "sembilan", "sepuluh", "sebelas", "belas", "puluh", "ratus", "seratus",
                   "ribu", "seribu", "a", "nomor_antrian", "silakan_menuju_loket", "nomor",
                   "ke_loket"]
    assert page.text_content("#progress") == f"0 / {len(ids)} klip sudah direkam"
    assert page.is_hidden("#export")  # nothing published yet: no export to offer (a 404)

    # a recording that is not audio, sent as the page would: refused, draft unchanged
    csrf = page.get_attribute("#studio", "data-csrf") or ""
    bad = page.request.post(f"{tiny.url}/admin/suara/klip/satu", data=b"bukan suara",
                            headers={"X-CSRF-Token": csrf, "Content-Type": "audio/webm"})
    assert bad.status == 422 and bad.json()["error"]["code"] == "not_audio"
    assert "bukan rekaman suara" in bad.json()["error"]["message"]
    forged = page.request.post(f"{tiny.url}/admin/suara/klip/satu", data=b"x",
                               headers={"X-CSRF-Token": "salah"})
    assert forged.status == 403
    unknown = page.request.post(f"{tiny.url}/admin/suara/klip/..%2Fx", data=b"x",
                                headers={"X-CSRF-Token": csrf})
    assert unknown.status in (400, 404)

    for n, clip_id in enumerate(ids, start=1):
        row = f'.s-clip[data-clip="{clip_id}"]'
        page.click(f'{row} [data-act="record"]')
        page.wait_for_selector(f'{row}[data-recording="1"]')
        page.wait_for_timeout(1700)  # a whole voiced sound at least, between silences
        page.click(f'{row} [data-act="stop"]')
        page.wait_for_selector(f'{row} [data-act="accept"]:visible')
        page.click(f'{row} [data-act="listen"]')
        page.click(f'{row} [data-act="accept"]')
        page.wait_for_selector(f'{row}[data-recorded="1"], #studio-error:not([hidden])',
                               timeout=15000)
        assert page.is_hidden("#studio-error"), page.text_content("#studio-error")
        until(lambda n=n: page.text_content("#done") == str(n), timeout=10,
              what=f"{n} clips done")
        assert page.is_hidden("#studio-error"), page.text_content("#studio-error")
    assert page.text_content("#progress") == f"{len(ids)} / {len(ids)} klip sudah direkam"
    screenshot(page, "voice-studio")

    draft = VoicePack.load(tiny.data_dir / "voice" / "draft")
    assert sorted("_".join(key) for key in draft.clips) == sorted(ids)
    assert draft.lufs == processing.TARGET_LUFS  # the manifest says every clip is levelled
    assert all(path.parent == draft.folder and path.is_file() for path in draft.clips.values())
    for key, path in draft.clips.items():
        clip = wavs.read(path)
        assert clip.format == (wavs.RATE, 1, 2)
        samples = processing.samples_of(clip)
        level = processing.loudness(samples, clip.rate)
        assert abs(level - processing.TARGET_LUFS) <= 1.0, (key, level)
        # trimmed as the server trims: each end within KEEP_SECONDS (and the fade) of the last
        # sample less than TRIM_BELOW_PEAK_DB under the peak (1 dB of slack for the resampling
        # and the rounding; an absolute -40 dBFS failed a take whose peak sat ~5 dB under full
        # scale after levelling: its kept tail was then just under -40 dBFS)
        floor = np.max(np.abs(samples)) * 10 ** (-(processing.TRIM_BELOW_PEAK_DB + 1) / 20)
        loud = np.flatnonzero(np.abs(samples) > floor)
        edge = processing.KEEP_SECONDS + processing.FADE_SECONDS + 0.005
        assert loud[0] / clip.rate <= edge and (len(samples) - loud[-1]) / clip.rate <= edge, key
        # a take of ~1.7 s (longer when the machine is slow to stop the recorder), trimmed
        longest = processing.MAX_WORD_SECONDS if len(key) == 1 else processing.MAX_PHRASE_SECONDS
        assert 0.2 <= clip.duration <= longest, (key, clip.duration)

    # silent, too long and clipped recordings through the server: refused, the draft unchanged
    before = snapshot(tiny.data_dir / "voice" / "draft")
    for data, code in ((webm(np.zeros(48000)), "recording_silent"),
                       (webm(np.concatenate([word()] * 6)), "recording_too_long"),
                       (webm(np.clip(word(level=1.0) * 8, -1, 1)), "recording_clipped")):
        refused = page.request.post(f"{tiny.url}/admin/suara/klip/tiga", data=data,
                                    headers={"X-CSRF-Token": csrf, "Content-Type": "audio/webm"})
        assert refused.status == 422 and refused.json()["error"]["code"] == code
        assert "rekam ulang" in refused.json()["error"]["message"].lower()
    assert snapshot(tiny.data_dir / "voice" / "draft") == before

    # the listen-back and a preview of a call, from the draft's clips
    back = page.request.get(f"{tiny.url}/admin/suara/klip/tiga.wav")
    assert back.ok and read_wav(back.body()).frames == wavs.read(draft.clips[("tiga",)]).frames
    preview = page.request.get(f"{tiny.url}/admin/suara/pratinjau.wav?tiket=A12&loket=3")
    assert preview.ok
    plan = draft.plan("Nomor antrian a dua belas, silakan menuju loket tiga")
    assert [" ".join(p.words) for p in plan] == ["nomor antrian", "a", "dua", "belas",
                                                 "silakan menuju loket", "tiga"]
    assert read_wav(preview.body()).frames == composed(tiny, draft, "A12", 3).frames
    said_from_clips(read_wav(preview.body()), draft,
                    "Nomor antrian a dua belas, silakan menuju loket tiga")
    page.fill("#preview-number", "7")
    page.click("#preview-button")
    page.wait_for_function("document.getElementById('preview-audio').readyState >= 2")

    # before publishing, calls are still said by espeak-ng (the server's renderer starts now)
    tiny.api.ticket("A")
    tiny.api.ticket("A")
    before = tiny.api.call(1)
    spoken = tiny.api.client.get(f"/audio/calls/{before['event_id']}.wav", timeout=60)
    assert spoken.status_code == 200
    assert wavs.read(spoken.content).frames != composed(tiny, draft, "A001", 1).frames

    page.click("#publish")
    page.wait_for_selector('#versions tr[data-version="1"]')
    assert "Versi 1 diterbitkan" in (page.text_content("#studio-message") or "")
    assert page.is_visible("#export")  # now there is a pack to download

    # a real call is announced with the published pack (the server picks it up)
    event = tiny.api.call(2)
    audio = tiny.api.client.get(f"/audio/calls/{event['event_id']}.wav")
    assert audio.status_code == 200
    live = VoicePack.load(tiny.data_dir / "voice" / "aktif")
    code = event["ticket"]["code"]
    assert wavs.read(audio.content).frames == composed(tiny, live, code, 2).frames
    site = AnnouncementSettings.from_site(load_config(str(tiny.config)), tiny.data_dir)
    said_from_clips(wavs.read(audio.content), live, site.text(code, 2))

    # export, then the same file imported into the draft; a foreign file is refused
    exported = page.request.get(f"{tiny.url}/admin/suara/ekspor")
    assert exported.ok and exported.headers["content-type"] == "application/zip"
    (tmp_path / "paket.zip").write_bytes(exported.body())
    (tmp_path / "lain.zip").write_bytes(_foreign_zip())
    page.set_input_files("#import-file", str(tmp_path / "lain.zip"))
    page.click("#import-form button")
    page.wait_for_selector("#studio-error:not([hidden])")
    assert "bukan paket suara" in (page.text_content("#studio-error") or "")
    page.set_input_files("#import-file", str(tmp_path / "paket.zip"))
    page.click("#import-form button")
    until(lambda: "diunggah ke draf" in (page.text_content("#studio-message") or ""),
          timeout=10, what="the import")
    assert f"{len(ids)} klip" in (page.text_content("#studio-message") or "")
    context.close()
    assert not errors, errors


def _foreign_zip() -> bytes:
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("manifest.toml", "[clips]\n")
        archive.writestr("readme.txt", "bukan dari antrian")
    return out.getvalue()


def test_the_studio_needs_the_office_session(tiny: ServerProcess) -> None:
    client = tiny.api.client
    page = client.get("/admin/suara", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/admin"
    for method, path in (("GET", "/admin/suara/naskah"), ("POST", "/admin/suara/klip/satu"),
                         ("GET", "/admin/suara/pratinjau.wav?tiket=A1&loket=1"),
                         ("POST", "/admin/suara/terbitkan"), ("GET", "/admin/suara/ekspor"),
                         ("POST", "/admin/suara/impor"), ("GET", "/admin/suara/klip/satu.wav"),
                         ("POST", "/admin/suara/versi/1/pulihkan")):
        answer = client.request(method, path, content=b"x")
        assert answer.status_code == 401, path
        assert answer.json()["error"]["code"] == "unauthorized"


def take(page: Page, clip_id: str, seconds: float) -> None:
    """Record ``clip_id`` for about ``seconds`` and stop: the take waits to be accepted."""
    row = f'.s-clip[data-clip="{clip_id}"]'
    page.click(f'{row} [data-act="record"]')
    page.wait_for_selector(f'{row}[data-recording="1"]')
    page.wait_for_timeout(seconds * 1000)
    page.click(f'{row} [data-act="stop"]')
    page.wait_for_selector(f'{row} [data-act="accept"]:visible')


def accept(page: Page, clip_id: str) -> None:
    row = f'.s-clip[data-clip="{clip_id}"]'
    page.click(f'{row} [data-act="accept"]')
    page.wait_for_selector(f'{row}[data-taken="0"], #studio-error:not([hidden])',
                           timeout=15000)
    assert page.is_hidden("#studio-error"), page.text_content("#studio-error")


def test_rerecord_preview_with_synthesis_and_restore_in_the_page(
        tiny: ServerProcess, studio_browser: Browser) -> None:
    """A take is recorded again before it is accepted and an accepted clip is replaced by
    another (still one clip done); the preview of a call says the recorded word from the
    draft and synthesizes the rest; a version is restored from the versions table."""
    page = studio_browser.new_context(bypass_csp=True).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    admin_sign_in(page, tiny)
    page.goto(f"{tiny.url}/admin/suara")
    page.wait_for_selector("#studio[data-ready='1']")
    row = '.s-clip[data-clip="dua"]'
    draft_dir = tiny.data_dir / "voice" / "draft"

    take(page, "dua", 1.2)
    take(page, "dua", 1.2)  # not liked: recorded again before accepting
    accept(page, "dua")
    until(lambda: page.text_content("#done") == "1", timeout=10, what="one clip done")
    first = wavs.read(VoicePack.load(draft_dir).clips[("dua",)]).frames
    assert page.text_content(f'{row} [data-act="record"]') == "Rekam ulang"

    # the preview: "dua" is the draft's clip, every other word synthesized
    preview = read_wav(page.request.get(
        f"{tiny.url}/admin/suara/pratinjau.wav?tiket=A12&loket=3").body())
    at = preview.frames.find(first)
    assert at > 0 and at % 2 == 0  # the recorded clip, sample for sample
    heard = preview.duration - chime().duration - CHIME_GAP_SECONDS - TAIL_SECONDS
    assert heard > len(first) / 2 / wavs.RATE + 1.5  # "nomor antrian a ... belas, silakan ..."
    speech = wavs.Clip(preview.rate, 1, 2, preview.frames[at + len(first):])
    assert processing.loudness(processing.samples_of(wavs.trim(speech)), wavs.RATE) > -30

    page.click("#publish")
    page.wait_for_selector('#versions tr[data-version="1"]')
    take(page, "dua", 2.4)  # an accepted clip recorded again: it replaces the old one
    accept(page, "dua")
    second = wavs.read(VoicePack.load(draft_dir).clips[("dua",)]).frames
    assert second != first
    assert page.text_content("#done") == "1"
    page.click("#publish")
    page.wait_for_selector('#versions tr[data-version="2"] strong')
    live = tiny.data_dir / "voice" / "aktif"
    assert wavs.read(VoicePack.load(live).clips[("dua",)]).frames == second

    page.click('#versions tr[data-version="1"] button[data-act="restore"]')
    page.wait_for_selector('#versions tr[data-version="1"] strong')
    assert page.is_visible('#versions tr[data-version="2"] button[data-act="restore"]')
    assert wavs.read(VoicePack.load(live).clips[("dua",)]).frames == first
    assert "Versi 1" in (page.text_content("#studio-message") or "")
    page.context.close()
    assert not errors, errors
