"""`[signage]` in the site config: each bad value named by its field, texts within their dates,
the folder's media listed and served by name only (no paths, hidden files or links out), and
the `[announcement]` burst settings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from test_config import MINIMAL, write

from display_server.config import ConfigError, load_config
from display_server.signage import Notice, media, media_file, parse_signage

BAD = [
    ('[signage]\ncolour = "red"\n', ["signage.colour", "kunci tidak dikenal"]),
    ('[signage]\nfolder = "tidak-ada"\n', ["signage.folder", "tidak dapat dibaca"]),
    ('[signage]\nfolder = "site.toml"\n', ["signage.folder", "lokasi folder"]),
    ('[signage]\nlogo = "papan"\n', ["signage.logo", "lokasi berkas"]),
    ('[signage]\nlogo = "catatan.txt"\n', ["signage.logo", ".png"]),
    ("[signage]\nquiet_seconds = 0\n", ["signage.quiet_seconds", "1 sampai 3600"]),
    ('[signage]\nslide_seconds = "10"\n', ["signage.slide_seconds"]),
    ('[[signage.texts]]\ntext = ""\n', ["signage.texts[0].text", "wajib diisi"]),
    ('[[signage.texts]]\ntext = "x"\nstart = "besok"\n', ["signage.texts[0].start", "2026-12-25"]),
    ('[[signage.texts]]\ntext = "x"\nstart = 2026-12-20\nend = 2026-12-01\n',
     ["signage.texts[0].end", "sebelum tanggal mulai"]),
    ("[[signage.texts]]\ntext = \"x\"\nwhen = 1\n", ["signage.texts[0].when"]),
    ("[signage.prayer]\nlatitude = 95\nlongitude = 106\n", ["signage.prayer.latitude", "-90"]),
    ("[signage.prayer]\nlatitude = -6\n", ["signage.prayer.longitude"]),
    ('[signage.prayer]\nlatitude = -6\nlongitude = 106\npause_announcements = "ya"\n',
     ["signage.prayer.pause_announcements"]),
    ("[signage.prayer]\nlatitude = -6\nlongitude = 106\npause_minutes = 0\n",
     ["signage.prayer.pause_minutes"]),
    ('[announcement]\nmerge_template = "loket {counter}"\n', ["merge_template", "{ticket}"]),
    ("[announcement]\nmerge_max = 9\n", ["merge_max", "1 sampai 6"]),
]


@pytest.mark.parametrize(("extra", "expected"), BAD)
def test_a_bad_signage_value_names_its_field(tmp_path: Path, extra: str,
                                             expected: list[str]) -> None:
    (tmp_path / "papan").mkdir()
    (tmp_path / "catatan.txt").write_text("x")
    path = write(tmp_path, MINIMAL + "\n" + extra)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    for part in expected:
        assert part in message, message


def test_a_full_signage_section_is_read(tmp_path: Path) -> None:
    (tmp_path / "papan").mkdir()
    (tmp_path / "logo.svg").write_text("<svg/>")
    path = write(tmp_path, MINIMAL + """
[signage]
folder = "papan"
logo = "logo.svg"
quiet_seconds = 30
[[signage.texts]]
text = "Libur   bersama"
start = 2026-12-24
end = "2026-12-26"
[signage.prayer]
latitude = -6.08
longitude = 106.33
pause_announcements = true
""")
    signage = load_config(path).signage
    assert signage.folder == tmp_path / "papan" and signage.logo == tmp_path / "logo.svg"
    assert signage.quiet_seconds == 30 and signage.slide_seconds == 10
    assert signage.texts == (Notice("Libur bersama", date(2026, 12, 24), date(2026, 12, 26)),)
    assert signage.prayer is not None and signage.prayer.pause_minutes == 10


def test_texts_show_only_within_their_dates() -> None:
    notice = Notice("x", date(2026, 12, 24), date(2026, 12, 26))
    assert [notice.shown_on(date(2026, 12, d)) for d in (23, 24, 26, 27)] == [
        False, True, True, False]
    assert Notice("x").shown_on(date(2000, 1, 1))
    assert Notice("x", end=date(2026, 1, 1)).shown_on(date(2025, 1, 1))


def test_the_folder_serves_its_own_media_by_name_only(tmp_path: Path) -> None:
    folder = tmp_path / "papan"
    folder.mkdir()
    for name in ("b.png", "a.mp4", ".tersembunyi.png", "catatan.txt", "nama berspasi.png"):
        (folder / name).write_bytes(b"x")
    (folder / "sub").mkdir()
    (tmp_path / "rahasia.png").write_bytes(b"x")
    (folder / "tautan.png").symlink_to(tmp_path / "rahasia.png")
    signage = parse_signage({"folder": "papan"}, str(tmp_path / "site.toml"))
    assert media(signage) == [("a.mp4", "video/mp4"), ("b.png", "image/png")]
    assert media_file(signage, "b.png") == ((folder / "b.png").resolve(), "image/png")
    for bad in ("../rahasia.png", ".tersembunyi.png", "catatan.txt", "sub", "tautan.png",
                "nama berspasi.png", "b.png/..", ""):
        assert media_file(signage, bad) is None, bad
