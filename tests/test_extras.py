"""The thermal printer (`antrian[printer]`) and the terminal app (`antrian[counter]`) are optional:
without them the server, the kiosk and the CLI work, and what needs them says how to install it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT

# Python imports sitecustomize at start: with it, the process finds neither extra, as after a
# plain `pip install antrian`.
NO_EXTRAS = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("escpos", "textual"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
"""


@pytest.fixture
def without_extras(tmp_path: Path) -> dict[str, str]:
    """The environment of a Python process that has neither python-escpos nor Textual."""
    site = tmp_path / "without-extras"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_EXTRAS)
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path}


def test_server_and_kiosk_run_without_the_extras(server_factory: Any, tmp_path: Path,
                                                 without_extras: dict[str, str]) -> None:
    """A server with a printer configured but no python-escpos still issues the ticket and
    tells the kiosk, in Indonesian, that it was not printed and what to install."""
    device = tmp_path / "lp0"
    server = server_factory(extra_env={**without_extras, "ANTRIAN_KIOSK_PRINTER": str(device)})
    r = httpx.post(server.url + "/kiosk/tickets", json={"service": "A"}, timeout=10)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["code"] == "A001" and ticket["printed"] is False
    assert "belum terpasang" in ticket["print_error"]
    assert "antrian[printer]" in ticket["print_error"]
    assert not device.exists()
    assert httpx.get(server.url + "/display", timeout=10).status_code == 200


def test_counter_app_without_textual_says_how_to_install_it(
        without_extras: dict[str, str]) -> None:
    """`antrian counter` on a machine without Textual ends with the install hint, no traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "antrian", "counter", "--counter", "1",
         "--server", "http://127.0.0.1:9", "--token", "x"],
        cwd=ROOT, env={**os.environ, **without_extras}, capture_output=True, text=True,
        timeout=60, check=False)
    assert done.returncode == 1
    assert "belum terpasang" in done.stderr and "antrian[counter]" in done.stderr
    assert "Traceback" not in done.stderr
