"""`antrian counter` with bad input: a clear message and exit status, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, free_port
from test_counter_client import Site, plain_http, start_site  # noqa: F401  (fixture)


@pytest.fixture
def site(server_factory: Any) -> Site:
    return start_site(server_factory)


def counter(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "ANTRIAN_TOKEN"}
    return subprocess.run([sys.executable, "-m", "antrian", "counter", *args],
                          cwd=ROOT, env={**environ, **(env or {})}, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def refused(result: subprocess.CompletedProcess[str], status: int, *words: str) -> None:
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_unknown_counter_lists_the_counters(site: Site) -> None:
    """Counter 99 of a 29-counter site: says so and lists the counters there are."""
    result = counter("--counter", "99", "--server", site.server.url, "--token", site.api.token(1))
    refused(result, 2, "Loket 99 tidak ada di server ini", "1, 2, 3", "29")


def test_wrong_token_from_the_environment(site: Site) -> None:
    """ANTRIAN_TOKEN is used; a wrong one gets the server's 401 message."""
    result = counter("--counter", "1", "--server", site.server.url,
                     env={"ANTRIAN_TOKEN": "salah"})
    refused(result, 2, "Kode akses loket tidak ada atau salah.")


def test_another_counters_token(site: Site) -> None:
    """Counter 2's token for counter 1: the server's 403 message."""
    result = counter("--counter", "1", "--server", site.server.url, "--token", site.api.token(2))
    refused(result, 2, "Kode akses ini milik loket lain.")


def test_a_server_that_is_not_antrian(plain_http: str) -> None:  # noqa: F811
    """A web server that is not ours is named as such."""
    result = counter("--counter", "1", "--server", plain_http, "--token", "t")
    refused(result, 2, "bukan server antrian")


def test_a_server_that_does_not_answer() -> None:
    """Nothing listens at the URL: exit 1, saying it cannot be reached."""
    url = f"http://127.0.0.1:{free_port()}"
    result = counter("--counter", "1", "--server", url, "--token", "t")
    refused(result, 1, f"Server {url} tidak dapat dihubungi.")


def test_a_server_url_without_scheme() -> None:
    """`localhost:8000` is not a URL: shows an example of one."""
    result = counter("--counter", "1", "--server", "localhost:8000", "--token", "t")
    refused(result, 2, "Alamat server tidak sah", "http://")


def test_no_token_says_where_to_get_one() -> None:
    """Without flag, file or environment: names all three."""
    result = counter("--counter", "1", "--server", "http://127.0.0.1:1")
    refused(result, 2, "--token-file", "ANTRIAN_TOKEN", "antrian token --counter N")


def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    """A token file with mode 644 is not used; the message says how to fix it."""
    path = tmp_path / "token"
    path.write_text("abc\n")
    path.chmod(0o644)
    result = counter("--counter", "1", "--server", "http://127.0.0.1:1", "--token-file", str(path))
    refused(result, 2, "terbuka untuk pengguna lain", f"chmod 600 {path}")


def test_a_missing_token_file(tmp_path: Path) -> None:
    """A token file that does not exist is named."""
    path = tmp_path / "nope"
    result = counter("--counter", "1", "--server", "http://127.0.0.1:1", "--token-file", str(path))
    refused(result, 2, f"Berkas kode akses {path} tidak dapat dibaca")


@pytest.mark.parametrize(("text", "words"), [
    ('[keys\n"+" = "call_next"\n', ("bukan TOML yang sah", "line 1")),
    ('"+" = "call_next"\n', ("harus berisi satu tabel [keys]",)),
    ('[keys]\n"+" = "panggil_dua_kali"\n', ("'panggil_dua_kali'", "call_next, recall")),
    ('[keys]\n"numpad_plus" = "call_next"\n', ("'numpad_plus' tidak dikenal",)),
])
def test_a_malformed_keypad_file(tmp_path: Path, text: str, words: tuple[str, ...]) -> None:
    """Bad TOML, a wrong shape, an unknown action or key: the file and the fix are named."""
    path = tmp_path / "keypad.toml"
    path.write_text(text)
    result = counter("--counter", "1", "--server", "http://127.0.0.1:1", "--token", "t",
                     "--keymap", str(path))
    refused(result, 2, str(path), *words)
