"""Process settings: read once from the environment, a bad value named before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_site

from display_server.settings import Kiosk, Rate, Settings, SettingsError


def test_defaults_without_environment() -> None:
    """An empty environment gives the documented defaults."""
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.ticket_rate == Rate(30, 60)


def test_values_are_parsed() -> None:
    """Each variable reaches its field with the right type."""
    settings = Settings.from_env({
        "ANTRIAN_TICKET_RATE": "5/10", "ANTRIAN_REDIS_POOL_SIZE": "20",
        "ANTRIAN_TRUSTED_PROXIES": "10.0.0.1, 192.168.1.0/24",
        "ANTRIAN_PUBLIC_URL": "https://antrian.example.go.id/",
        "ANTRIAN_HEARTBEAT_SECONDS": "2.5",
    })
    assert settings.ticket_rate == Rate(5, 10)
    assert settings.redis_pool_size == 20
    assert settings.trusted_proxies == ("10.0.0.1", "192.168.1.0/24")
    assert settings.public_url == "https://antrian.example.go.id"
    assert settings.heartbeat_s == 2.5


@pytest.mark.parametrize(("name", "value"), [
    ("ANTRIAN_TICKET_RATE", "banyak"), ("ANTRIAN_TICKET_RATE", "0/60"),
    ("ANTRIAN_KIOSK_RATE", "12 per menit"), ("ANTRIAN_REDIS_POOL_SIZE", "\u00b2"),
    ("ANTRIAN_REDIS_POOL_SIZE", "1"), ("ANTRIAN_HEARTBEAT_SECONDS", "-1"),
    ("ANTRIAN_TRUSTED_PROXIES", "proxy.local"), ("ANTRIAN_PUBLIC_URL", "ftp://x"),
    ("ANTRIAN_MAX_CONNECTIONS", "99999999999"), ("ANTRIAN_KIOSK_PRINTER", "lp0"),
])
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    """A typo is one error that names the variable and the value, not a 500 per request."""
    with pytest.raises(SettingsError) as info:
        Settings.from_env({name: value})
    assert name in str(info.value) and repr(value) in str(info.value)


def test_the_environment_overrides_the_sites_kiosk_section() -> None:
    """The site TOML's `[kiosk]` values are the settings unless a variable names another."""
    kiosk = Kiosk(Rate(20, 60), "/dev/usb/lp0", "https://antrian.serangkab.example")
    from_site = Settings.from_env({}, kiosk=kiosk)
    assert (from_site.kiosk_rate, from_site.printer, from_site.public_url) == (
        Rate(20, 60), "/dev/usb/lp0", "https://antrian.serangkab.example")
    overridden = Settings.from_env({"ANTRIAN_KIOSK_RATE": "5/60",
                                    "ANTRIAN_KIOSK_PRINTER": "tcp://10.0.0.9:9100"}, kiosk=kiosk)
    assert (overridden.kiosk_rate, overridden.printer, overridden.public_url) == (
        Rate(5, 60), "tcp://10.0.0.9:9100", "https://antrian.serangkab.example")
    assert Settings.from_env({}).kiosk_rate == Rate(12, 60)


def test_serve_refuses_to_start_with_a_bad_setting(tmp_path: Path) -> None:
    """`antrian serve` stops at once with the variable's name on stderr and exit code 2."""
    env = {**os.environ, "ANTRIAN_KIOSK_RATE": "dua belas", "ANTRIAN_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "antrian", "serve", "--port", "1"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "ANTRIAN_KIOSK_RATE" in done.stderr and "Traceback" not in done.stderr


def test_serve_refuses_to_start_with_a_bad_kiosk_value_in_the_toml(tmp_path: Path) -> None:
    """A typo in the site TOML's `[kiosk]` stops `antrian serve` with the field's name."""
    config = write_site(tmp_path / "site.toml", "kiosk-typo")
    config.write_text(config.read_text() + '\n[kiosk]\nrate = "dua belas"\n')
    env = {**os.environ, "ANTRIAN_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "antrian", "serve", "--port", "1",
                           "--config", str(config)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "kiosk.rate" in done.stderr and "Traceback" not in done.stderr
