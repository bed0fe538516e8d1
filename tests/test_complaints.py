"""The suggestion and complaint desk through its HTTP API, on the archive in SQLite and
PostgreSQL: a complaint goes in with a photo and its visit, the visitor looks it up by its code,
the office assigns, answers and closes it; bad input is refused with the contract's error body
(text lengths, markup kept as text, image types read from the content, sizes, rate limit); the
visitor's view never holds the contact, the photo or another complaint; the service level and
`antrian report --complaints`."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Api, FakeClock, site_document, write_site
from PIL import Image, PngImagePlugin
from starlette.testclient import TestClient

from antrian.cli import main
from antrian.main import build_app
from display_server import complaints
from display_server import report as report_command
from display_server.archive import db
from display_server.complaints_config import Complaints
from display_server.config import parse_config
from texts import t

TRACKING = re.compile(r"PGD-[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}")
TEXT = "Petugas loket 3 tidak ramah dan antrean terlalu lama."


def image(kind: str, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, format=kind)
    return out.getvalue()


Desk = Callable[..., Api]


@pytest.fixture
def desk(redis_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Desk]:
    """A factory of whole apps with an archive (SQLite unless a URL is given) and the site's
    `[complaints]` (a generous rate unless one is given)."""
    clients: list[TestClient] = []

    def make(url: str | None = None, **rules: Any) -> Api:
        url = url or f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:6]}.sqlite3'}"
        db.upgrade(url)
        document = site_document(f"c-{uuid.uuid4().hex[:8]}")
        document["complaints"] = {"rate": "100/60", "max_photo_kb": 64, **rules}
        site = parse_config(document)
        client = TestClient(build_app(site, redis_url, tmp_path, clock=clock, database_url=url))
        client.__enter__()
        clients.append(client)
        return Api(client, site, tmp_path)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def send(api: Api, headers: dict[str, str] | None = None, photo: tuple[str, bytes, str] | None
         = None, **fields: str) -> httpx.Response:
    data = {"category": "petugas", "text": TEXT, **fields}
    files = {"photo": photo} if photo else None
    return api.client.post("/api/complaints", data=data, files=files, headers=headers or {})


def office(api: Api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.admin_token()}"}


def error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    return str(body["error"]["message"])


def test_a_complaint_from_a_visit_is_looked_up_assigned_answered_and_closed(
        desk: Desk, database_url: str) -> None:
    api = desk(database_url)
    ticket = api.ticket("A")
    jpeg = image("JPEG")
    r = send(api, contact="0812-3456-7890", ticket=ticket["status_url"].removeprefix("/t/"),
             photo=("foto.jpg", jpeg, "image/jpeg"))
    assert r.status_code == 201, r.text
    tracking = r.json()["tracking"]
    assert TRACKING.fullmatch(tracking) and r.json()["url"] == f"/pengaduan/{tracking}"

    seen = api.client.get(f"/api/complaints/{tracking}").json()
    assert seen["status"] == "baru" and seen["category"] == "petugas"
    assert seen["answer"] is None and seen["created_at"].startswith("2026-11-25T10:00")
    # typed the way people type it: lower case, spaces instead of dashes, no prefix
    typed = tracking.removeprefix("PGD-").replace("-", " ").lower()
    assert api.client.get(f"/api/complaints/{typed}").json()["tracking"] == tracking

    inbox = api.client.get("/api/complaints", headers=office(api)).json()["complaints"]
    assert [c["tracking"] for c in inbox] == [tracking]
    entry = inbox[0]
    assert entry["contact"] == "0812-3456-7890" and entry["text"] == TEXT
    assert entry["ticket"] == {"day": ticket["day"], "code": ticket["code"]}
    assert entry["has_photo"] and entry["tenant"] is None and not entry["overdue"]
    photo = api.client.get(f"/api/complaints/{tracking}/photo", headers=office(api))
    assert photo.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(photo.content)) as stored:  # re-encoded, the same picture
        assert (stored.format, stored.size) == ("JPEG", (40, 30))

    r = api.client.post(f"/api/complaints/{tracking}/assign", json={"tenant": "samsat"},
                        headers=office(api))
    assert r.status_code == 200 and r.json()["status"] == "diproses"
    assert api.client.get(f"/api/complaints/{tracking}").json()["status"] == "diproses"
    answer = "Mohon maaf, petugas sudah kami tegur.\nTerima kasih."
    r = api.client.post(f"/api/complaints/{tracking}/answer", json={"answer": answer},
                        headers=office(api))
    assert r.status_code == 200 and r.json()["tenant_name"] == "Samsat"
    seen = api.client.get(f"/api/complaints/{tracking}").json()
    assert seen["status"] == "dijawab" and seen["answer"] == answer
    assert api.client.post(f"/api/complaints/{tracking}/close", headers=office(api)
                           ).status_code == 200
    seen = api.client.get(f"/api/complaints/{tracking}").json()
    assert seen["status"] == "ditutup" and seen["answer"] == answer and seen["closed_at"]
    error(api.client.post(f"/api/complaints/{tracking}/answer", json={"answer": "lagi"},
                          headers=office(api)), 409, "complaint_closed")
    notes = api.client.get(f"/api/complaints/{tracking}/office", headers=office(api)).json()
    assert [n["action"] for n in notes["notes"]] == ["dikirim", "ditugaskan", "dijawab",
                                                     "ditutup"]
    # filters
    assert api.client.get("/api/complaints?status=baru", headers=office(api)
                          ).json()["complaints"] == []
    assert len(api.client.get("/api/complaints?tenant=samsat&status=ditutup",
                              headers=office(api)).json()["complaints"]) == 1
    error(api.client.get("/api/complaints?status=open", headers=office(api)), 400,
          "invalid_parameter")


def test_bad_input_is_refused_with_the_error_body(desk: Desk) -> None:
    api = desk()
    error(send(api, text=""), 400, "missing_field")
    error(api.client.post("/api/complaints", data={"text": TEXT}), 400, "missing_field")
    error(send(api, text="   pendek   "), 400, "invalid_field")
    error(send(api, text="x" * 2001), 400, "invalid_field")
    assert send(api, text="x" * 2000).status_code == 201
    error(send(api, category="keluhan"), 400, "invalid_field")
    error(send(api, contact="0" * 101), 400, "invalid_field")
    error(send(api, text=TEXT + "\x00"), 400, "invalid_field")
    error(send(api, lainnya="x"), 400, "unknown_field")
    error(send(api, ticket="2026-11-25/A001/" + "0" * 20), 400, "invalid_field")
    error(api.client.post("/api/complaints", json={"category": "petugas", "text": TEXT}),
          415, "unsupported_media_type")
    broken = api.client.post("/api/complaints", content=b"--x\r\nrusak",
                             headers={"content-type": "multipart/form-data; boundary=x"})
    assert broken.status_code == 400 and broken.json()["error"]["code"] in (
        "invalid_body", "missing_field")
    error(api.client.post("/api/complaints", content=b"--x\r\nContent-Type: text/plain\r\n\r\n"
                          b"isi\r\n--x--\r\n",
                          headers={"content-type": "multipart/form-data; boundary=x"}),
          400, "invalid_body")
    error(api.client.post("/api/complaints", content=b"a" * (200 * 1024),
                          headers={"content-type": "multipart/form-data; boundary=x"}),
          413, "payload_too_large")
    error(api.client.get("/api/complaints/PGD-22222-22222"), 404, "unknown_complaint")
    error(api.client.get("/api/complaints/0OI1"), 404, "unknown_complaint")


@pytest.mark.parametrize(("kb", "shown"), [(2048, "maks 2 MB)"), (1536, "maks 1,5 MB)"),
                                          (64, "maks 0,06 MB)")])
def test_the_forms_photo_limit_is_an_indonesian_number(desk: Desk, kb: int, shown: str) -> None:
    """Babel's id_ID number: "2 MB", "1,5 MB" (never "2.0 MB"); the kiosk's form offers no photo."""
    api = desk(max_photo_kb=kb)
    page = api.client.get("/pengaduan").text
    assert shown in page and 'id="photo"' in page
    kiosk = api.client.get("/pengaduan?dari=kiosk").text
    assert 'id="photo"' not in kiosk and 'id="keyboard"' in kiosk


def test_markup_is_stored_and_shown_as_text(desk: Desk) -> None:
    api = desk()
    markup = "<script>alert(1)</script> <b>tebal</b> & \"kutip\""
    tracking = send(api, text=markup).json()["tracking"]
    inbox = api.client.get("/api/complaints", headers=office(api)).json()["complaints"]
    assert inbox[0]["text"] == markup
    api.client.post(f"/api/complaints/{tracking}/answer", json={"answer": markup},
                    headers=office(api))
    assert api.client.get(f"/api/complaints/{tracking}").json()["answer"] == markup
    page = api.client.get(f"/pengaduan/{tracking}").text
    assert "<script>alert(1)</script>" not in page and "<b>tebal</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;tebal&lt;/b&gt; &amp;" in page


def test_photo_types_are_read_from_the_content(desk: Desk) -> None:
    api = desk()
    for name, kind in (("a.png", "PNG"), ("a.webp", "WEBP"), ("a.jpeg", "JPEG")):
        assert send(api, photo=(name, image(kind), "image/jpeg")).status_code == 201, name
    refused = {
        "a text file named .jpg": ("surat.jpg", b"bukan foto " * 20, "image/jpeg"),
        "an SVG": ("a.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
                            b"</script></svg>", "image/svg+xml"),
        "a GIF": ("a.gif", image("GIF"), "image/gif"),
        "a GIF named .png": ("a.png", image("GIF"), "image/png"),
        "a PDF": ("a.pdf", b"%PDF-1.4\n" + b"0" * 100, "application/pdf"),
        "a BMP": ("a.bmp", image("BMP"), "image/bmp"),
    }
    for case, photo in refused.items():
        assert error(send(api, photo=photo), 415, "unsupported_media_type") == (
            "Foto harus berupa berkas JPEG, PNG, atau WebP."), case
    error(send(api, photo=("a.jpg", image("JPEG")[:60], "image/jpeg")), 400, "invalid_field")
    big = image("PNG", (300, 300)) + b"\0" * (70 * 1024)  # over the site's 64 KB
    assert "64 KB" in error(send(api, photo=("a.png", big, "image/png")), 413,
                            "payload_too_large")
    inbox = api.client.get("/api/complaints", headers=office(api)).json()["complaints"]
    assert len(inbox) == 3  # nothing refused was stored


def test_a_phones_multi_picture_jpeg_is_taken_as_a_jpeg(desk: Desk) -> None:
    """MPO, the JPEG some phones write with a second picture in it (depth, a 3D pair): any
    browser shows it as a JPEG, so it is taken and stored as one, its first picture."""
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (220, 20, 20)).save(
        out, format="MPO", save_all=True, append_images=[Image.new("RGB", (40, 20), "blue")])
    with Image.open(io.BytesIO(out.getvalue())) as sent:
        assert sent.format == "MPO" and getattr(sent, "n_frames", 1) == 2
    api = desk()
    with stored_photo(api, out.getvalue()) as photo:
        assert photo.format == "JPEG" and getattr(photo, "n_frames", 1) == 1
        red = photo.convert("RGB").getpixel((10, 10))
    assert isinstance(red, tuple) and red[0] > 200 > 60 > max(red[1], red[2])


def tagged(kind: str, orientation: int = 1) -> bytes:
    """A 40 x 20 photo (left half red, right half blue) carrying what a phone's camera writes:
    EXIF with the camera, the time, GPS coordinates and an orientation; XMP; for PNG a text
    chunk too."""
    picture = Image.new("RGB", (40, 20), (220, 20, 20))
    picture.paste((20, 20, 220), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x010F] = "KameraPonsel"     # Make
    exif[0x0132] = "2026:11:25 09:41:07"  # DateTime
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps.update({1: "S", 2: (6.0, 7.0, 12.5), 3: "E", 4: (106.0, 9.0, 3.25)})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">GeoLokasiRumah</x:xmpmeta>'
    out = io.BytesIO()
    if kind == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "GeoLokasiRumah")
        picture.save(out, format=kind, exif=exif, pnginfo=info)
    else:
        picture.save(out, format=kind, exif=exif, xmp=xmp)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_a_photo_is_stored_without_its_exif_gps_and_other_metadata(desk: Desk,
                                                                    kind: str) -> None:
    """A phone photo's metadata says where the visitor lives and what they carry; the office
    gets the picture (upright by its EXIF orientation) and nothing else."""
    sent = tagged(kind, orientation=6)  # "rotate 90 degrees clockwise to show"
    with Image.open(io.BytesIO(sent)) as original:  # the test's photo does carry it all
        assert original.getexif()[0x010F] == "KameraPonsel"
        assert original.getexif().get_ifd(0x8825)[2] == (6.0, 7.0, 12.5)
    assert b"GeoLokasiRumah" in sent and b"KameraPonsel" in sent
    api = desk()
    tracking = send(api, photo=("foto", sent, "image/jpeg")).json()["tracking"]
    stored = api.client.get(f"/api/complaints/{tracking}/photo", headers=office(api)).content
    for trace in (b"KameraPonsel", b"GeoLokasiRumah", b"2026:11:25", b"Exif\0\0", b"eXIf",
                  b"xmpmeta"):
        assert trace not in stored, trace
    with Image.open(io.BytesIO(stored)) as photo:
        assert photo.format == kind and not photo.getexif()
        assert "exif" not in photo.info and "xmp" not in photo.info
        assert "Comment" not in photo.info
        # turned upright: 20 wide, 40 high, the red half (the left) now on top
        assert photo.size == (20, 40)
        top, bottom = photo.convert("RGB").getpixel((10, 5)), \
            photo.convert("RGB").getpixel((10, 35))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


def test_per_client_rate_limit_and_the_kiosk_token(desk: Desk) -> None:
    api = desk(rate="3/60")
    for _ in range(3):
        assert send(api).status_code == 201
    r = send(api)
    error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    assert send(api, headers=api.kiosk_auth()).status_code == 201
    error(send(api, headers=office(api)), 401, "unauthorized")


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_a_very_large_photo_is_stored_at_most_4096_pixels_on_its_longer_side(
        desk: Desk, kind: str) -> None:
    api = desk()
    sent = image(kind, (8200, 410))
    assert len(sent) < 64 * 1024  # within the site's cap: it is taken, not refused
    tracking = send(api, photo=("besar", sent, "image/jpeg")).json()["tracking"]
    stored = api.client.get(f"/api/complaints/{tracking}/photo", headers=office(api)).content
    with Image.open(io.BytesIO(stored)) as photo:
        assert photo.format == kind and photo.size == (4096, 205)  # its aspect kept
    small = send(api, photo=("kecil", image(kind, (4000, 30)), "image/png")).json()["tracking"]
    stored = api.client.get(f"/api/complaints/{small}/photo", headers=office(api)).content
    with Image.open(io.BytesIO(stored)) as photo:
        assert photo.size == (4000, 30)  # never made bigger or smaller below the cap


def stored_photo(api: Api, sent: bytes) -> Image.Image:
    """The photo the office gets back for a complaint sent with `sent`."""
    tracking = send(api, photo=("foto", sent, "image/jpeg")).json()["tracking"]
    stored = api.client.get(f"/api/complaints/{tracking}/photo", headers=office(api)).content
    return Image.open(io.BytesIO(stored))


def test_a_cmyk_jpeg_an_animated_webp_and_a_decompression_bomb(desk: Desk) -> None:
    """A CMYK JPEG (a scanned letter) keeps its colours; an animated WebP is stored as its
    first frame, not animated; a photo past 40 megapixels (here 41, a few KB of PNG that
    would take hundreds of MB decoded) is refused 400 before it is decoded."""
    api = desk()
    out = io.BytesIO()
    Image.new("CMYK", (40, 20), (0, 255, 255, 0)).save(out, format="JPEG")  # red in ink
    with stored_photo(api, out.getvalue()) as photo:
        assert photo.format == "JPEG" and photo.mode == "CMYK"
        red = photo.convert("RGB").getpixel((10, 10))
    assert isinstance(red, tuple) and red[0] > 200 > 60 > max(red[1], red[2])
    frames = [Image.new("RGB", (40, 20), colour) for colour in ("red", "lime", "blue")]
    out = io.BytesIO()
    frames[0].save(out, format="WEBP", save_all=True, append_images=frames[1:], lossless=True)
    with Image.open(io.BytesIO(out.getvalue())) as sent:
        assert getattr(sent, "n_frames", 1) == 3
    with stored_photo(api, out.getvalue()) as photo:
        assert photo.format == "WEBP" and getattr(photo, "n_frames", 1) == 1
        first = photo.convert("RGB").getpixel((10, 10))
    assert isinstance(first, tuple) and first[0] > 200 > 60 > max(first[1], first[2])
    out = io.BytesIO()
    Image.new("L", (6400, 6400)).save(out, format="PNG", optimize=True)
    assert len(out.getvalue()) < 64 * 1024  # within the site's cap: the pixels refuse it
    assert error(send(api, photo=("bom.png", out.getvalue(), "image/png")), 400,
                 "invalid_field") == t("complaint.error.photo_unreadable")
    inbox = api.client.get("/api/complaints", headers=office(api)).json()["complaints"]
    assert len(inbox) == 2


def test_tracking_code_lookups_are_rate_limited_per_client(desk: Desk) -> None:
    """50 bits of code and 60 lookups a minute per client (API and page together, found or
    not): guessing codes gets nowhere."""
    api = desk()
    mine = send(api).json()["tracking"]
    guesses = [f"PGD-{n:05d}-22222".replace("0", "2").replace("1", "3") for n in range(30)]
    for guess in guesses:
        error(api.client.get(f"/api/complaints/{guess}"), 404, "unknown_complaint")
    for _ in range(29):
        assert api.client.get(f"/pengaduan/{guesses[0]}").status_code == 404
    assert api.client.get(f"/api/complaints/{mine}").status_code == 200  # the 60th
    r = api.client.get(f"/api/complaints/{mine}")
    error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    page = api.client.get(f"/pengaduan/{mine}")
    assert page.status_code == 429 and "Baru" not in page.text
    # the kiosk, where many visitors look their codes up, is not limited
    assert api.client.get(f"/api/complaints/{mine}", headers=api.kiosk_auth()).status_code == 200


def test_the_visitor_sees_neither_the_contact_nor_the_photo_nor_another_complaint(
        desk: Desk) -> None:
    api = desk()
    mine = send(api, text="Toilet lantai dua kotor sekali.", contact="saya@contoh.id",
                photo=("a.png", image("PNG"), "image/png")).json()["tracking"]
    other = send(api, text="Rahasia orang lain: nomor KTP 3604.", contact="lain@contoh.id",
                 category="biaya").json()["tracking"]
    api.client.post(f"/api/complaints/{other}/answer", json={"answer": "Jawaban untuk lain"},
                    headers=office(api))
    seen = api.client.get(f"/api/complaints/{mine}")
    assert set(seen.json()) == {"tracking", "status", "status_name", "category",
                                "category_name", "created_at", "due", "answer", "answered_at",
                                "closed_at"}
    for leak in ("saya@contoh.id", "lain@contoh.id", "Rahasia", "Toilet", "Jawaban untuk",
                 other, "photo", "foto"):
        assert leak not in seen.text, leak
    page = api.client.get(f"/pengaduan/{mine}").text
    for leak in ("saya@contoh.id", "lain@contoh.id", "Rahasia", "Toilet", other, "/foto"):
        assert leak not in page, leak
    assert api.client.get(f"/pengaduan/{mine.lower()}").status_code == 200
    assert api.client.get("/pengaduan/PGD-ZZZZZ-ZZZZZ").status_code == 404


def test_office_endpoints_need_the_office(desk: Desk) -> None:
    api = desk()
    tracking = send(api, photo=("a.png", image("PNG"), "image/png")).json()["tracking"]
    counter = api.auth(1)
    for headers in ({}, counter, {"Authorization": "Bearer salah"}):
        for method, path, body in (
                ("GET", "/api/complaints", None),
                ("GET", f"/api/complaints/{tracking}/office", None),
                ("GET", f"/api/complaints/{tracking}/photo", None),
                ("POST", f"/api/complaints/{tracking}/assign", {"tenant": "samsat"}),
                ("POST", f"/api/complaints/{tracking}/answer", {"answer": "oke sekali"}),
                ("POST", f"/api/complaints/{tracking}/close", None)):
            r = api.client.request(method, path, json=body, headers=headers)
            error(r, 401, "unauthorized")
    for path in ("/admin/pengaduan", f"/admin/pengaduan/{tracking}",
                 f"/admin/pengaduan/{tracking}/foto"):
        assert api.client.get(path).status_code == 401, path
    r = api.client.post(f"/admin/pengaduan/{tracking}/close", data={"csrf": "x"})
    assert r.status_code == 401
    assert api.client.get(f"/api/complaints/{tracking}").json()["status"] == "baru"
    error(api.client.post(f"/api/complaints/{tracking}/assign", json={"tenant": "polisi"},
                          headers=office(api)), 400, "invalid_field")
    error(api.client.post("/api/complaints/PGD-22222-22222/close", headers=office(api)),
          404, "unknown_complaint")


def test_due_day_counts_working_days_or_calendar_days() -> None:
    rules = Complaints(answer_days=3)
    wednesday = date(2026, 11, 25)
    assert complaints.due_day(wednesday, rules) == date(2026, 11, 30)  # Thu, Fri, Mon
    assert complaints.due_day(wednesday, rules, [date(2026, 11, 27)]) == date(2026, 12, 1)
    friday = date(2026, 11, 27)
    assert complaints.due_day(friday, Complaints(answer_days=1)) == date(2026, 11, 30)
    assert complaints.due_day(wednesday, Complaints(answer_days=3, working_days=False)) \
        == date(2026, 11, 28)


def test_overdue_on_the_dashboard_and_in_the_report(desk: Desk, database_url: str,
                                                   clock: FakeClock, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Wednesday: three complaints, due Friday (2 working days). Friday the office answers one
    in time; Monday it answers one late and the third is still open: two overdue, one of them
    open (the inbox's and the dashboard's flag)."""
    api = desk(database_url, answer_days=2)
    on_time = send(api).json()["tracking"]
    late = send(api, category="sarana").json()["tracking"]
    still_open = send(api, category="sarana").json()["tracking"]
    assert api.client.get(f"/api/complaints/{on_time}").json()["due"] == "2026-11-27"
    clock.advance(days=2)  # Friday 10:00
    api.client.post(f"/api/complaints/{on_time}/assign", json={"tenant": "capil"},
                    headers=office(api))
    api.client.post(f"/api/complaints/{on_time}/answer", json={"answer": "Sudah kami cek."},
                    headers=office(api))
    assert api.client.get("/api/complaints?overdue=1", headers=office(api)
                          ).json()["complaints"] == []
    clock.advance(days=3)  # Monday 10:00
    api.client.post(f"/api/complaints/{late}/answer", json={"answer": "Maaf terlambat."},
                    headers=office(api))
    overdue = api.client.get("/api/complaints?overdue=1", headers=office(api)).json()
    assert [c["tracking"] for c in overdue["complaints"]] == [still_open]
    assert overdue["complaints"][0]["age_days"] == 5

    config = write_site(tmp_path / "site.toml", api.site.id)
    config.write_text(config.read_text() + "\n[complaints]\nanswer_days = 2\n")
    monkeypatch.setenv("ANTRIAN_DATABASE_URL", database_url)
    # the report's "today" (ages, overdue) is the test's Monday, not the day the test runs
    monkeypatch.setattr(report_command, "system_clock", clock)
    assert main(["report", "--complaints", "--config", str(config), "--from", "2026-11-25",
                 "--to", "2026-11-30", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {row["key"]: row for row in report["rows"]}
    assert list(rows) == ["petugas", "sarana"]
    assert rows["petugas"] | {"name": None} == {
        "key": "petugas", "name": None, "received": 1, "answered": 1, "closed": 0, "open": 0,
        "overdue": 0, "oldest_open_days": None, "median_days_to_answer": 2.0}
    assert rows["sarana"]["received"] == 2 and rows["sarana"]["overdue"] == 2
    assert rows["sarana"]["oldest_open_days"] == 5  # in on Wednesday, still open on Monday
    assert report["total"]["oldest_open_days"] == 5
    assert rows["sarana"]["open"] == 1 and rows["sarana"]["answered"] == 1
    assert report["total"]["received"] == 3 and report["total"]["overdue"] == 2
    assert report["total"]["median_days_to_answer"] == 3.5  # 2 and 5 days
    assert main(["report", "--complaints", "--by", "tenant", "--config", str(config),
                 "--from", "2026-11-25", "--to", "2026-11-30", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Kode,Nama,Diterima,Dijawab,Ditutup")
    assert "Lewat tenggat,Hari terlama belum dijawab,Median" in lines[0]
    assert lines[1].startswith("capil,Disdukcapil,1,1,0,0,0,,")
    assert lines[2].startswith("-,Belum diteruskan,2,1,0,1,2,5,")
    assert main(["report", "--complaints", "--config", str(config), "--from", "2026-11-25",
                 "--to", "2026-11-30"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "Lewat tenggat" in table[0] and "Median hari sampai dijawab" in table[0]
    assert table[-1].split()[:2] == ["total", "Jumlah"] and table[-1].endswith("3,5")
    assert main(["report", "--complaints", "--by", "service", "--format", "xlsx",
                 "--config", str(config)]) == 2


def test_the_inbox_pages_reach_every_entry_and_overdue_counts_them_all(
        desk: Desk, clock: FakeClock) -> None:
    """130 complaints on Wednesday (due Friday, 2 working days) still open on Monday, when 120
    more come in: the inbox, 100 a page newest first, reaches all 250; the overdue filter and
    the dashboard's flag hold all 130 old ones, though none of them is among the newest 100."""
    api = desk(answer_days=2)
    kiosk = api.kiosk_auth()  # no per-client limit
    old = {send(api, headers=kiosk).json()["tracking"] for _ in range(130)}
    clock.advance(days=5)  # Monday 10:00
    new = {send(api, headers=kiosk).json()["tracking"] for _ in range(120)}
    assert len(old) == 130 and len(new) == 120

    def inbox(query: str) -> dict[str, Any]:
        r = api.client.get(f"/api/complaints?{query}", headers=office(api))
        assert r.status_code == 200, r.text
        return dict(r.json())

    pages = [inbox(f"page={n}") for n in (1, 2, 3)]
    assert [(p["total"], p["page"], p["pages"], len(p["complaints"])) for p in pages] == [
        (250, 1, 3, 100), (250, 2, 3, 100), (250, 3, 3, 50)]
    seen = [c["tracking"] for p in pages for c in p["complaints"]]
    assert len(seen) == 250 and set(seen) == old | new
    assert set(seen[:120]) == new  # newest first
    assert inbox("")["complaints"] == pages[0]["complaints"]
    assert inbox("page=4")["complaints"] == [] and inbox("page=4")["total"] == 250
    for bad in ("page=0", "page=-1", "page=dua", "page=1234567"):
        error(api.client.get(f"/api/complaints?{bad}", headers=office(api)), 400,
              "invalid_parameter")

    late = [inbox(f"overdue=1&page={n}") for n in (1, 2)]
    assert [(p["total"], p["pages"], len(p["complaints"])) for p in late] == [
        (130, 2, 100), (130, 2, 30)]
    assert {c["tracking"] for p in late for c in p["complaints"]} == old
    assert all(c["overdue"] for p in late for c in p["complaints"])

    client = api.client
    client.get("/admin")
    signed = client.post("/admin/login", data={"token": api.admin_token(),
                                               "csrf": client.cookies.get("antrian_masuk")},
                         follow_redirects=False)
    assert signed.status_code == 303
    assert "130 lewat tenggat" in client.get("/admin").text
    page = client.get("/admin/pengaduan?overdue=1&page=2").text
    assert "Pengaduan 101–130 dari 130" in page and "Halaman 2 dari 2" in page
    assert 'href="/admin/pengaduan?overdue=1&amp;page=1" rel="prev"' in page
    assert 'rel="next"' not in page and page.count('<tr data-tracking=') == 30
    first = client.get("/admin/pengaduan").text
    assert "Pengaduan 1–100 dari 250" in first and 'rel="prev"' not in first
    assert 'href="/admin/pengaduan?page=2" rel="next"' in first
    assert client.get("/admin/pengaduan?page=nol").status_code == 400


@pytest.mark.parametrize("working_days", [True, False])
def test_overdue_since_agrees_with_each_days_due_day(working_days: bool) -> None:
    """The database filter `day <= overdue_since(today)` picks exactly the days whose due day
    is before today, for every day of two months, across weekends and holidays."""
    document = site_document("c-overdue")
    document["site"]["holidays"] = ["2026-12-24", "2026-12-25", "2026-12-31"]
    document["complaints"] = {"answer_days": 3, "working_days": working_days}
    site = parse_config(document)
    first = date(2026, 11, 20)
    for n in range(45):
        today = first + timedelta(days=n + 5)
        cutoff = complaints.overdue_since(site, today)
        for m in range(n + 5):
            day = first + timedelta(days=m)
            due = complaints.due_day(day, site.complaints, site.holidays)
            assert (day <= cutoff) == (today > due), (today, day)
    assert complaints.overdue_since(site, date(2026, 11, 30)) == (
        date(2026, 11, 24) if working_days else date(2026, 11, 26))


def test_the_complaints_section_of_the_site_config() -> None:
    document = site_document("c-config")
    assert [c.id for c in parse_config(document).complaints.categories][:2] == ["petugas",
                                                                                "waktu"]
    document["complaints"] = {"categories": [{"id": "antre", "name": "Antrean"}],
                              "answer_days": 3, "working_days": False}
    rules = parse_config(document).complaints
    assert rules.category("antre") is not None and rules.category("petugas") is None
    assert (rules.answer_days, rules.working_days) == (3, False)
    for bad, words in (({"answer_days": 0}, "[complaints] answer_days"),
                       ({"categories": [{"id": "Besar", "name": "x"}]}, "id kategori"),
                       ({"max_photo_kb": 10**6}, "max_photo_kb"),
                       ({"rate": "banyak"}, "[complaints] rate"),
                       ({"warna": "merah"}, "[complaints] warna")):
        document["complaints"] = bad
        with pytest.raises(ValueError, match=re.escape(words)):
            parse_config(document)


def test_the_office_pages_take_actions_only_with_the_session_and_its_csrf_token(
        desk: Desk) -> None:
    api = desk()
    tracking = send(api).json()["tracking"]
    client = api.client
    client.get("/admin")  # the sign-in form sets its nonce cookie
    nonce = client.cookies.get("antrian_masuk")
    assert nonce
    signed = client.post("/admin/login", data={"token": api.admin_token(), "csrf": nonce},
                         follow_redirects=False)
    assert signed.status_code == 303
    inbox = client.get("/admin/pengaduan?status=baru")
    assert inbox.status_code == 200 and tracking in inbox.text
    page = client.get(f"/admin/pengaduan/{tracking}").text
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found
    refused = client.post(f"/admin/pengaduan/{tracking}/close", data={"csrf": "0" * 40},
                          follow_redirects=False)
    assert refused.status_code == 403
    other_site = client.post(f"/admin/pengaduan/{tracking}/close",
                             data={"csrf": found[1]}, headers={"Origin": "http://jahat.example"},
                             follow_redirects=False)
    assert other_site.status_code == 403
    assert api.client.get(f"/api/complaints/{tracking}").json()["status"] == "baru"
    done = client.post(f"/admin/pengaduan/{tracking}/close", data={"csrf": found[1]},
                       follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/pengaduan/{tracking}?ok=close"
    assert api.client.get(f"/api/complaints/{tracking}").json()["status"] == "ditutup"
    assert client.get("/admin/pengaduan?status=salah").status_code == 400
