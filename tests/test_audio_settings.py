"""Announcement settings built from the site config's `[announcement]` table."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import site_document

from audio.settings import AnnouncementSettings, ServiceNames
from display_server.announcement import DEFAULT_TEMPLATE
from display_server.config import parse_config


def build(data: dict[str, object], **templates: str) -> AnnouncementSettings:
    """The settings of a site whose config has `data` as `[announcement]` and `templates` as
    its services' own announcements."""
    doc = site_document("uji")
    doc["announcement"] = data
    for service in doc["services"]:
        if service["code"] in templates:
            service["announcement"] = templates[service["code"]]
    return AnnouncementSettings.from_site(parse_config(doc), Path("/srv/antrian"))


def test_defaults() -> None:
    """An empty table gives the documented defaults, with the cache under the data dir."""
    settings = build({})
    assert settings.template == DEFAULT_TEMPLATE
    assert (settings.number_style, settings.repeat, settings.rate, settings.voice) == (
        "words", 1, 150, "id"
    )
    assert settings.max_age_seconds == 120.0
    assert settings.pack_dir is None
    assert settings.cache_dir == Path("/srv/antrian/audio-cache")
    assert settings.cache_max_bytes == 200 * 1024 * 1024


def test_every_key_is_read() -> None:
    """Each documented key lands in its field; a relative voice pack is under the data dir."""
    settings = build(
        {
            "template": "Antrian {ticket} ke loket {counter}",
            "number_style": "digits",
            "repeat": 2,
            "max_age_seconds": 60,
            "rate": 170,
            "voice": "poz/id",
            "voice_pack": "voices/serang",
        }
    )
    assert settings.template == "Antrian {ticket} ke loket {counter}"
    assert (settings.number_style, settings.repeat, settings.rate) == ("digits", 2, 170)
    assert settings.max_age_seconds == 60.0 and isinstance(settings.max_age_seconds, float)
    assert settings.voice == "poz/id"
    assert settings.pack_dir == Path("/srv/antrian/voices/serang")
    assert build({"voice_pack": "/opt/pack"}).pack_dir == Path("/opt/pack")


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"tempo": 1}, "tempo"),
        ({"template": "Loket {counter}"}, "template"),
        ({"template": 5}, "template"),
        ({"number_style": "roman"}, "number_style"),
        ({"repeat": 0}, "repeat"),
        ({"repeat": "2"}, "repeat"),
        ({"repeat": True}, "repeat"),
        ({"max_age_seconds": 0}, "max_age_seconds"),
        ({"max_age_seconds": "soon"}, "max_age_seconds"),
        ({"rate": 5}, "rate"),
        ({"voice": ""}, "voice"),
        ({"voice_pack": ""}, "voice_pack"),
        ({"voice_pack": 3}, "voice_pack"),
    ],
)
def test_bad_values_name_the_key(data: dict[str, object], key: str) -> None:
    """A bad or unknown key is refused with its name in the message."""
    with pytest.raises(ValueError, match=rf"^<memory>: \[announcement\] {key}: "):
        build(data)


def test_bad_service_template_names_the_service() -> None:
    """A broken per-service template points at that service's `announcement` key."""
    where = r"services\[1\]\.announcement: "
    with pytest.raises(ValueError, match=where + r".*tempat isian \{loket\} tidak dikenal"):
        build({}, B="Nomor {ticket} di {loket}")


def test_text_uses_the_service_template_and_names() -> None:
    """A service with its own template and names is announced with them; others use the default."""
    settings = AnnouncementSettings(
        service_templates={"B": "Nomor antrian {ticket} {tenant}, silakan ke loket {counter}"},
        service_names={"B": ServiceNames("Perpanjangan STNK", "Samsat")},
    )
    assert settings.text("B012", 3) == "Nomor antrian be dua belas Samsat, silakan ke loket tiga"
    assert settings.text("A001", 29) == (
        "Nomor antrian a satu, silakan menuju loket dua puluh sembilan"
    )
    assert settings.text("A001", 4, service="B").endswith("Samsat, silakan ke loket empat")
    assert settings.templates() == [DEFAULT_TEMPLATE, settings.merge_template,
                                    settings.service_templates["B"]]


def test_vocabulary_includes_names_only_where_spoken() -> None:
    """Service and tenant names join the vocabulary only for services whose template says them."""
    settings = AnnouncementSettings(
        service_templates={"B": "Antrian {ticket} {tenant}, loket {counter}"},
        service_names={"A": ServiceNames("Kartu Keluarga", "Disdukcapil"),
                       "B": ServiceNames("Balik Nama", "Samsat")},
    )
    words = settings.vocabulary()
    assert {"nomor", "antrian", "silakan", "samsat", "seribu", "zet"} <= set(words)
    assert not {"kartu", "disdukcapil", "balik"} & set(words)
