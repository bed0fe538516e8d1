"""Where a service is served (display_server.wayfinding) and the kiosk's config keys: tenants'
`icon` (a built-in name or a logo file), `floor`, `zone`; services' `keywords`, `floor`,
`zone`; `[[kiosk.popular]]`. Bad values stop the start with the field's name."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import Api, site_document
from starlette.testclient import TestClient

from antrian.main import build_app
from display_server.config import ConfigError, load_config, parse_config
from display_server.wayfinding import ICONS, counters_text, place, ranges

ROOT = Path(__file__).resolve().parent.parent


def doc(**changes: Any) -> dict[str, Any]:
    d = site_document(f"w{uuid.uuid4().hex[:8]}")
    for key, value in changes.items():
        section, _, index = key.partition("_")
        if index:
            d[section][int(index)].update(value)
        else:
            d[section] = value
    return d


@pytest.mark.parametrize(("numbers", "text"), [
    ([], ""), ([4], "4"), ([15, 16], "15–16"), ([12, 13, 14], "12–14"), ([12, 14], "12, 14"),
    ([8, 1, 2, 3, 5, 7], "1–3, 5, 7–8"), ([2, 2, 3], "2–3"),
])
def test_counter_ranges(numbers: list[int], text: str) -> None:
    assert ranges(numbers) == text


def test_counters_text_names_the_counters() -> None:
    assert counters_text([15, 16]) == "Loket 15–16"
    assert counters_text([]) == ""


def test_place_of_a_service_falls_back_to_its_tenant() -> None:
    site = parse_config(doc(
        tenants_0={"floor": "Lantai 1", "zone": "Zona A", "icon": "car"},
        services_0={"zone": "Zona A2", "keywords": ["STNK", "pajak"]}))
    assert site.service("A").keywords == ("STNK", "pajak")  # type: ignore[union-attr]
    assert place(site, "A") == {
        "tenant_name": "Samsat", "counters": [1, 2, 3, 4], "counters_text": "Loket 1–4",
        "floor": "Lantai 1", "zone": "Zona A2", "where": "Lantai 1 · Zona A2"}
    assert place(site, "C")["where"] == "Lantai 1 · Zona A"
    assert place(site, "B") == {
        "tenant_name": "Disdukcapil", "counters": [1, 2, 3, 4], "counters_text": "Loket 1–4",
        "floor": None, "zone": None, "where": ""}


@pytest.mark.parametrize(("changes", "where", "says"), [
    ({"tenants_0": {"icon": "rocket"}}, "tenants[0].icon", "ikon 'rocket' tidak dikenal"),
    ({"tenants_0": {"icon": "logo/none.png"}}, "tenants[0].icon", "tidak dapat dibaca"),
    ({"tenants_0": {"icon": "logo.gif"}}, "tenants[0].icon", "berkas gambar"),
    ({"tenants_0": {"floor": ""}}, "tenants[0].floor", "kosong"),
    ({"services_1": {"keywords": ["KTP", 3]}}, "services[1].keywords", ""),
    ({"services_1": {"keywords": "KTP"}}, "services[1].keywords", ""),
    ({"services_1": {"zone": 2}}, "services[1].zone", ""),
    ({"kiosk": {"popular": [{"label": "KTP", "services": ["X"]}]}},
     "kiosk.popular[0].services", "'X'"),
    ({"kiosk": {"popular": [{"label": "KTP", "services": []}]}},
     "kiosk.popular[0].services", "sedikitnya satu layanan"),
    ({"kiosk": {"popular": [{"services": ["B"]}]}}, "kiosk.popular[0].label", ""),
    ({"kiosk": {"popular": [{"label": "KTP", "services": ["B"], "icon": "nope"}]}},
     "kiosk.popular[0].icon", "tidak dikenal"),
    ({"kiosk": {"popular": [{"label": "KTP", "services": ["B"], "colour": "red"}]}},
     "kiosk.popular[0].colour", ""),
])
def test_bad_values_name_the_field(changes: dict[str, Any], where: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(doc(**changes), "site.toml")
    assert f"site.toml: {where}: " in str(caught.value)
    assert says in str(caught.value)


def test_popular_buttons_keep_their_order_and_services() -> None:
    site = parse_config(doc(kiosk={"popular": [
        {"label": "KTP", "services": ["B"], "icon": "id-card"},
        {"label": "Kendaraan", "services": ["A", "C"]}]}))
    assert [(p.label, p.services, p.icon) for p in site.popular] == [
        ("KTP", ("B",), "id-card"), ("Kendaraan", ("A", "C"), None)]


def test_the_demo_site_is_filled_in() -> None:
    site = load_config()
    assert all(t.icon in ICONS for t in site.tenants)
    assert all(t.floor for t in site.tenants)
    assert all(s.keywords for s in site.services)
    skck = [s.code for s in site.services if "SKCK" in s.keywords]
    assert skck == ["D"] and site.service("D").tenant == "polres"  # type: ignore[union-attr]
    assert [p.label for p in site.popular][:4] == ["KTP", "Kartu Keluarga", "Akta", "SKCK"]
    assert place(site, "S")["counters_text"] == "Loket 15–16"


def test_every_builtin_icon_is_drawn() -> None:
    sprite = (ROOT / "display_screens" / "templates" / "kiosk_icons.html").read_text()
    drawn = set(re.findall(r'<symbol id="icon-([a-z-]+)"', sprite))
    assert ICONS - drawn == set()


def test_a_logo_beside_the_config_is_served(tmp_path: Path, redis_url: str) -> None:
    """`icon = "logo/samsat.svg"` is read relative to the config file and served at
    /kiosk/logo/{tenant}; other tenants' logos are 404."""
    (tmp_path / "logo").mkdir()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1"/></svg>'
    (tmp_path / "logo" / "samsat.svg").write_bytes(svg)
    site = parse_config(doc(tenants_0={"icon": "logo/samsat.svg"}),
                        str(tmp_path / "site.toml"))
    assert site.tenants[0].logo == str(tmp_path / "logo" / "samsat.svg")
    assert site.tenants[0].icon is None
    with TestClient(build_app(site, redis_url, tmp_path)) as client:
        web = Api(client, site, tmp_path)
        r = web.client.get("/kiosk/logo/samsat")
        assert r.status_code == 200 and r.content == svg
        assert r.headers["content-type"].startswith("image/svg+xml")
        assert web.client.get("/kiosk/logo/capil").status_code == 404
        assert web.client.get("/kiosk/logo/..%2fsite.toml").status_code == 404
        page = web.client.get("/kiosk").text
        assert 'src="/kiosk/logo/samsat"' in page
