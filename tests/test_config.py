"""Site config: the embedded Serang demo, validation errors, and opening hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from display_screens.settings_admin import hours_text, parse_hours_text
from display_server.announcement import Announcement
from display_server.config import ConfigError, SiteConfig, load_config
from display_server.hours import (
    OpeningHours,
    canonical,
    describe,
    is_open,
    parse_hours,
    written,
)
from display_server.settings import Kiosk, Rate

JAKARTA_FRIDAY = date(2026, 7, 10)  # an ordinary Friday
MONDAY = date(2026, 7, 6)
TUESDAY = date(2026, 7, 7)

FRIDAY_SHORT = {
    "senin": "08:00-15:00",
    "selasa": "08:00-15:00",
    "rabu": "08:00-15:00",
    "kamis": "08:00-15:00",
    "jumat": "08:00-11:30",
}

BASE_SITE = """
[site]
id = "demo"
name = "MPP Uji"
timezone = "Asia/Jakarta"
"""

BASE_TENANTS = """
[[tenants]]
id = "samsat"
name = "Samsat"
"""

BASE_SERVICES = """
[[services]]
code = "A"
name = "Perpanjangan STNK"
tenant = "samsat"
"""

BASE_COUNTERS = """
[[counters]]
number = 1
services = ["A"]
"""

MINIMAL = BASE_SITE + BASE_TENANTS + BASE_SERVICES + BASE_COUNTERS


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> SiteConfig:
    monkeypatch.delenv("ANTRIAN_CONFIG", raising=False)
    return load_config(None)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def at(cfg: SiteConfig, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=cfg.tz)


# ------------------------------------------------------------------ demo site


def test_demo_site_identity(demo: SiteConfig) -> None:
    """The embedded demo is the MPP of Kabupaten Serang in Asia/Jakarta."""
    assert demo.id == "serang"
    assert demo.name == "Mal Pelayanan Publik Kabupaten Serang"
    assert demo.timezone == "Asia/Jakarta"
    assert demo.source == "<demo serang.toml>"
    assert (demo.priority_every, demo.grace_minutes) == (3, 15)
    assert date(2026, 12, 25) in demo.holidays and date(2027, 1, 1) in demo.holidays


def test_demo_has_29_counters_numbered_1_to_29(demo: SiteConfig) -> None:
    """Counters are exactly 1..29, each named after its loket number."""
    assert sorted(c.number for c in demo.counters) == list(range(1, 30))
    for counter in demo.counters:
        assert counter.name.startswith(f"Loket {counter.number} – ")


def test_demo_has_24_tenants_and_no_immigration(demo: SiteConfig) -> None:
    """24 filled tenant spaces, and Kantor Imigrasi (own office in Ciruas) is not one."""
    assert len(demo.tenants) == 24
    assert len({t.id for t in demo.tenants}) == 24
    for tenant in demo.tenants:
        assert "imigrasi" not in tenant.id and "imigrasi" not in tenant.name.lower()
    for service in demo.services:
        assert "paspor" not in service.name.lower()
        assert "imigrasi" not in service.name.lower()


def test_demo_every_service_is_served(demo: SiteConfig) -> None:
    """Every service is served by at least one counter, and every counter's codes exist."""
    codes = {s.code for s in demo.services}
    served = {code for c in demo.counters for code in c.services}
    assert served == codes
    assert 35 <= len(demo.services) <= 45


def test_demo_every_tenant_has_a_service_and_a_counter(demo: SiteConfig) -> None:
    """Each tenant offers a service that a counter of that tenant serves."""
    for tenant in demo.tenants:
        own = {s.code for s in demo.services if s.tenant == tenant.id}
        assert own, tenant.id
        assert any(own & set(c.services) for c in demo.counters), tenant.id
    for counter in demo.counters:
        tenants = {demo.service(code).tenant for code in counter.services}  # type: ignore[union-attr]
        assert len(tenants) == 1, counter.number


def test_demo_priority_screens_and_announcement(demo: SiteConfig) -> None:
    """Priority categories, screen profiles and announcement settings are present."""
    assert [(p.id, p.name) for p in demo.priority_categories] == [
        ("lansia", "Lansia"),
        ("disabilitas", "Penyandang Disabilitas"),
        ("ibu-hamil", "Ibu Hamil/Membawa Balita"),
    ]
    samsat = demo.screen("samsat")
    assert samsat is not None
    assert {demo.service(c).tenant for c in samsat.services} == {"samsat"}  # type: ignore[union-attr]
    assert demo.screen("lantai-1") is not None
    assert demo.announcement == Announcement(
        template="Nomor antrian {ticket}, silakan menuju loket {counter}",
        number_style="words",
        repeat=1,
        max_age_seconds=120,
    )
    text = " ".join(demo.running_text).lower()
    assert "tidak dipungut biaya" in text and "survei" in text


def test_demo_opening_hours(demo: SiteConfig) -> None:
    """Pengadilan Agama opens Tuesday/Thursday only; Kemenag Monday/Wednesday/Friday."""
    pa = next(s for s in demo.services if s.tenant == "pa")
    assert not is_open(pa.hours, at(demo, MONDAY, 9), demo.holidays)
    assert is_open(pa.hours, at(demo, TUESDAY, 9), demo.holidays)
    for service in (s for s in demo.services if s.tenant == "kemenag"):
        assert is_open(service.hours, at(demo, MONDAY, 9), demo.holidays)
        assert not is_open(service.hours, at(demo, TUESDAY, 9), demo.holidays)
        assert is_open(service.hours, at(demo, JAKARTA_FRIDAY, 11), demo.holidays)
        assert not is_open(service.hours, at(demo, JAKARTA_FRIDAY, 13), demo.holidays)


def test_env_var_selects_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ANTRIAN_CONFIG is used when no path is given."""
    monkeypatch.setenv("ANTRIAN_CONFIG", write(tmp_path, MINIMAL))
    cfg = load_config(None)
    assert cfg.id == "demo" and [c.number for c in cfg.counters] == [1]


# --------------------------------------------------------------- bad configs

BAD_CONFIGS = [
    pytest.param(
        MINIMAL.replace('tenant = "samsat"', 'tenant = "imigrasi"'),
        ["services[0].tenant", "tenan 'imigrasi' tidak dikenal"],
        id="unknown-tenant",
    ),
    pytest.param(
        MINIMAL + BASE_SERVICES,
        ["services[1].code", "kode layanan 'A' tercantum dua kali"],
        id="duplicate-service-code",
    ),
    pytest.param(
        MINIMAL.replace('code = "A"', 'code = "a1"'),
        ["services[0].code", "'a1'"],
        id="bad-code-pattern",
    ),
    pytest.param(
        MINIMAL.replace('code = "A"', 'code = "ABCD"'),
        ["services[0].code", "'ABCD'"],
        id="code-too-long",
    ),
    pytest.param(
        MINIMAL.replace('services = ["A"]', 'services = ["A", "Z"]'),
        ["counters[0].services", "layanan 'Z' tidak dikenal"],
        id="counter-unknown-service",
    ),
    pytest.param(
        MINIMAL + BASE_COUNTERS,
        ["counters[1].number", "Loket 1 tercantum dua kali"],
        id="duplicate-counter",
    ),
    pytest.param(
        MINIMAL.replace('timezone = "Asia/Jakarta"', 'timezone = "Asia/Jakarta"\ncolour = "red"'),
        ["site.colour", "kunci tidak dikenal"],
        id="unknown-site-key",
    ),
    pytest.param(
        MINIMAL.replace('tenant = "samsat"', 'tenant = "samsat"\nprefix = "A"'),
        ["services[0].prefix", "kunci tidak dikenal"],
        id="unknown-service-key",
    ),
    pytest.param(
        MINIMAL + "\n[extra]\nx = 1\n",
        ["extra", "kunci tidak dikenal"],
        id="unknown-top-level-table",
    ),
    pytest.param(
        MINIMAL.replace('"Asia/Jakarta"', '"Asia/Jakrta"'),
        ["site.timezone", "'Asia/Jakrta'"],
        id="bad-timezone",
    ),
    pytest.param(
        MINIMAL.replace('tenant = "samsat"', 'tenant = "samsat"\nhours = "15:00-08:00"'),
        ["services[0].hours", "'15:00-08:00'", "berakhir sebelum dimulai"],
        id="hours-range-backwards",
    ),
    pytest.param(
        MINIMAL.replace('tenant = "samsat"', 'tenant = "samsat"\nhours = "jam 8 sampai 15"'),
        ["services[0].hours", "'jam 8 sampai 15'", "harus rentang"],
        id="hours-not-a-range",
    ),
    pytest.param(
        MINIMAL.replace('tenant = "samsat"', 'tenant = "samsat"\ndays = ["senin", "sabtuu"]'),
        ["services[0]", "hari 'sabtuu' tidak dikenal"],
        id="bad-day-name",
    ),
    pytest.param(
        MINIMAL.replace(
            'tenant = "samsat"', 'tenant = "samsat"\nhours = { jumaat = "08:00-11:30" }'
        ),
        ["services[0].hours", "hari 'jumaat' tidak dikenal"],
        id="bad-day-in-hours-table",
    ),
    pytest.param(
        MINIMAL.replace('tenant = "samsat"', 'tenant = "samsat"\nquota = 0'),
        ["services[0].quota", "antara 1 dan 9999"],
        id="quota-zero",
    ),
    pytest.param(
        MINIMAL.replace('id = "demo"', 'id = "demo"\nholidays = ["2026-02-30"]'),
        ["site.holidays", "'2026-02-30'"],
        id="bad-holiday",
    ),
    pytest.param(
        MINIMAL + BASE_TENANTS,
        ["tenants[1].id", "tenan 'samsat' tercantum dua kali"],
        id="duplicate-tenant",
    ),
    pytest.param(
        MINIMAL + '\n[[screens]]\nid = "lobi"\nname = "Lobi"\nservices = ["Q"]\n',
        ["screens[0].services", "layanan 'Q' tidak dikenal"],
        id="screen-unknown-service",
    ),
    pytest.param(
        MINIMAL.replace("number = 1", 'number = "1"'),
        ["counters[0].number", "bertipe int"],
        id="counter-number-not-int",
    ),
    pytest.param(
        BASE_TENANTS + BASE_SERVICES,
        ["site", "wajib diisi"],
        id="missing-site",
    ),
    pytest.param(MINIMAL + '[kiosk]\nrate = "12 per menit"\n', ["kiosk.rate", "JUMLAH/DETIK"],
                 id="kiosk-rate"),
    pytest.param(MINIMAL + '[kiosk]\nrate = "0/60"\n', ["kiosk.rate"], id="kiosk-rate-zero"),
    pytest.param(MINIMAL + '[kiosk]\nprinter = "lp0"\n', ["kiosk.printer", "/dev/usb/lp0"],
                 id="kiosk-printer"),
    pytest.param(MINIMAL + '[kiosk]\npublic_url = "ftp://x"\n', ["kiosk.public_url"],
                 id="kiosk-public-url"),
    pytest.param(MINIMAL + "[kiosk]\nrate = 12\n", ["kiosk.rate", "bertipe str"],
                 id="kiosk-rate-not-text"),
    pytest.param(MINIMAL + '[kiosk]\nspeed = "fast"\n', ["kiosk.speed", "kunci tidak dikenal"],
                 id="kiosk-unknown-key"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_CONFIGS)
def test_invalid_config_names_the_field(tmp_path: Path, text: str, expected: list[str]) -> None:
    """An invalid config raises ConfigError naming the file and the bad field."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    for part in expected:
        assert part in message


def test_minimal_config_is_valid(tmp_path: Path) -> None:
    """The base of the invalid-config table is itself valid."""
    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.counters[0].name == "Loket 1"
    assert cfg.services[0].hours is None


def test_kiosk_section_is_read(tmp_path: Path) -> None:
    """`[kiosk]` gives the kiosk page's rate, the server's printer and the public base URL;
    without it each is unset (the defaults of the environment's settings apply)."""
    cfg = load_config(write(tmp_path, MINIMAL + '[kiosk]\nrate = "20/60"\n'
                            'printer = "tcp://192.168.1.50:9100"\n'
                            'public_url = "https://antrian.serangkab.example/"\n'))
    assert cfg.kiosk == Kiosk(Rate(20, 60), "tcp://192.168.1.50:9100",
                              "https://antrian.serangkab.example")
    assert load_config(write(tmp_path, MINIMAL)).kiosk == Kiosk()


def test_invalid_toml_reports_line(tmp_path: Path) -> None:
    """A TOML syntax error names the file and the line."""
    path = write(tmp_path, '[site]\nid = "demo"\nname = MPP tanpa kutip\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: TOML tidak sah")
    assert "line 3" in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A path that cannot be read is a ConfigError naming it."""
    path = str(tmp_path / "tidak-ada.toml")
    with pytest.raises(ConfigError, match="konfigurasi tidak dapat dibaca"):
        load_config(path)


# --------------------------------------------------------------------- hours


def friday_short() -> OpeningHours:
    return parse_hours(None, dict(FRIDAY_SHORT))


def test_friday_short_service_open_at_11_closed_at_13() -> None:
    """A service open until 11.30 on Fridays takes tickets at 11.00 but not at 13.00."""
    hours = friday_short()
    tz = ZoneInfo("Asia/Jakarta")

    def open_at(day: date, hour: int, minute: int = 0) -> bool:
        return is_open(hours, datetime.combine(day, time(hour, minute), tzinfo=tz), frozenset())

    assert open_at(JAKARTA_FRIDAY, 11)
    assert open_at(JAKARTA_FRIDAY, 11, 29)
    assert not open_at(JAKARTA_FRIDAY, 11, 30)
    assert not open_at(JAKARTA_FRIDAY, 13)
    assert not open_at(JAKARTA_FRIDAY, 7, 59)
    assert open_at(MONDAY, 13)
    assert not open_at(date(2026, 7, 11), 9)  # Saturday


def test_is_open_uses_local_time_of_utc_instant(demo: SiteConfig) -> None:
    """A UTC instant is judged in the site's zone: 04:00 UTC is 11:00 WIB (open)."""
    service = next(s for s in demo.services if s.tenant == "kejari" and s.hours is not None)
    assert describe(service.hours) == "Senin–Kamis 08.00–15.00; Jumat 08.00–11.30"
    open_utc = datetime.combine(JAKARTA_FRIDAY, time(4, 0), tzinfo=UTC)
    closed_utc = datetime.combine(JAKARTA_FRIDAY, time(6, 0), tzinfo=UTC)
    assert is_open(service.hours, open_utc.astimezone(demo.tz), demo.holidays)
    assert not is_open(service.hours, closed_utc.astimezone(demo.tz), demo.holidays)


def test_holidays_are_closed(demo: SiteConfig) -> None:
    """On a holiday even an always-open service takes no tickets."""
    christmas = date(2026, 12, 25)
    always = demo.service("A")
    assert always is not None and always.hours is None
    assert is_open(None, at(demo, JAKARTA_FRIDAY, 9), demo.holidays)
    assert not is_open(None, at(demo, christmas, 9), demo.holidays)
    assert not is_open(friday_short(), at(demo, christmas, 9), frozenset({christmas}))
    assert is_open(friday_short(), at(demo, christmas, 9), frozenset())


def test_describe_texts() -> None:
    """describe() groups consecutive days with equal hours, in Indonesian."""
    assert describe(friday_short()) == "Senin–Kamis 08.00–15.00; Jumat 08.00–11.30"
    assert describe(None) == "Setiap hari"
    assert describe(parse_hours(["selasa", "kamis"], "08:00-14:00")) == (
        "Selasa, Kamis 08.00–14.00"
    )
    assert describe(parse_hours(["senin", "selasa"], ["13:00-15:00", "08:00-12:00"])) == (
        "Senin–Selasa 08.00–12.00, 13.00–15.00"
    )
    assert describe(parse_hours(["sabtu"], None)) == "Sabtu 00.00–24.00"


def test_parse_hours_days_and_numbers() -> None:
    """Days may be names in any case or numbers 1-7 (1 = Senin)."""
    hours = parse_hours(["Senin", 5], "08:00-15:00")
    assert hours.on(0) == hours.on(4) == ((time(8), time(15)),)
    assert all(hours.on(d) == () for d in (1, 2, 3, 5, 6))


def test_hours_as_indonesians_write_them_are_the_same_hours() -> None:
    """'08.00–11.30' (as the pages and the settings form write times) is 08:00-11:30; the
    settings form saves it as the TOML writes it and shows the TOML's ranges the page's way."""
    same = parse_hours(None, "08:00-11:30")
    for text in ("08.00–11.30", "08.00-11.30", "08.00 – 11.30", "08:00—11:30"):
        assert parse_hours(None, text) == same, text
    assert canonical("08.00–11.30") == "08:00-11:30" and canonical("jam 8") == "jam 8"
    assert written("08:00-11:30") == "08.00–11.30"
    assert parse_hours_text("senin=08.00 - 12.00, 13.00–15.00; jumat=08.00–11.00") == {
        "senin": ["08:00-12:00", "13:00-15:00"], "jumat": "08:00-11:00"}
    assert hours_text({"senin": ["08:00-12:00", "13:00-15:00"], "jumat": "08:00-11:00"}) == (
        "senin=08.00–12.00, 13.00–15.00; jumat=08.00–11.00")


@pytest.mark.parametrize(
    ("days", "hours", "needle"),
    [
        (None, "15:00-08:00", "berakhir sebelum dimulai"),
        (None, "08:00-08:00", "berakhir sebelum dimulai"),
        (None, "jam 8", "harus rentang"),
        (None, "8.00-11.30", "harus rentang jam seperti '08.00-15.00', bukan '8.00-11.30'"),
        (None, "08,00-11,30", "harus rentang jam seperti '08.00-15.00', bukan '08,00-11,30'"),
        (None, [], "harus rentang atau daftar rentang"),
        (["sabtuu"], None, "hari 'sabtuu' tidak dikenal"),
        ([0], None, "hari 0 tidak dikenal"),
        ([], None, "days harus daftar yang tidak kosong"),
        ("senin", None, "days harus daftar yang tidak kosong"),
    ],
)
def test_parse_hours_rejects(days: object, hours: object, needle: str) -> None:
    """parse_hours raises ValueError with a message saying what is wrong."""
    with pytest.raises(ValueError, match=needle):
        parse_hours(days, hours)


def test_times_with_offsets_are_rejected(tmp_path: Path) -> None:
    """A range with a UTC offset is a ConfigError, not a later TypeError."""
    for hours in ("08:00+07:00-15:00", "08:00Z-15:00Z"):
        text = MINIMAL.replace('tenant = "samsat"', f'tenant = "samsat"\nhours = "{hours}"')
        with pytest.raises(ConfigError, match=r"services\[0\]\.hours"):
            load_config(write(tmp_path, text))
