"""The `antrian` command's own behaviour: tokens, config errors, a missing redis-server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import write_site

from display_server.tokens import admin_token, counter_token, load_secret


def antrian(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "antrian", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


def test_token_prints_the_counter_token(tmp_path: Path) -> None:
    """`antrian token --counter N` prints the token the server accepts for counter N."""
    config = write_site(tmp_path / "site.toml", "cli-site")
    out = antrian("token", "--counter", "3", "--config", str(config), "--data-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == counter_token(load_secret(tmp_path), "cli-site", 3)
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0
    office = antrian("token", "--admin", "--config", str(config), "--data-dir", str(tmp_path))
    assert office.stdout.strip() == admin_token(load_secret(tmp_path), "cli-site")
    assert office.stdout.strip() != out.stdout.strip()


def test_token_for_an_unknown_counter_is_a_clear_error(tmp_path: Path) -> None:
    """An unknown counter exits 2 with the list of counters, no traceback."""
    config = write_site(tmp_path / "site.toml", "cli-site")
    out = antrian("token", "--counter", "42", "--config", str(config), "--data-dir", str(tmp_path))
    assert out.returncode == 2
    assert "Loket 42 tidak ada" in out.stderr and "Traceback" not in out.stderr


def test_a_bad_config_names_the_field_and_exits_2(tmp_path: Path) -> None:
    """A config error is one line naming file and field, for every command."""
    bad = tmp_path / "bad.toml"
    bad.write_text(write_site(tmp_path / "ok.toml", "x").read_text().replace(
        'tenant = "capil"', 'tenant = "nope"', 1))
    for command in (["token", "--counter", "1"], ["serve", "--redis-url", "redis://127.0.0.1:1"]):
        out = antrian(*command, "--config", str(bad), "--data-dir", str(tmp_path))
        assert out.returncode == 2
        assert "services[1].tenant: tenan 'nope' tidak dikenal" in out.stderr
        assert "Traceback" not in out.stderr


def test_serve_without_redis_server_refuses_clearly(tmp_path: Path) -> None:
    """With no Redis URL and no redis-server on PATH, serve says what to install and exits 1."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    out = antrian("serve", "--data-dir", str(tmp_path / "data"),
                  env={"PATH": str(bin_dir), "ANTRIAN_REDIS_URL": ""})
    assert out.returncode == 1
    assert "redis-server" in out.stderr and "apt-get install redis-server" in out.stderr
    assert "Traceback" not in out.stderr
