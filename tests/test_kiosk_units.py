"""The Chromium command of the TV and kiosk units, exactly as the unit writes it (its flags and
`${ANTRIAN_SERVER}/display` or `/kiosk`), run as an unprivileged user on an X display (Xvfb):
the page loads from a real server and opens the display WebSocket. What systemd adds (the
user, the hardening, the restarts) is checked by systemd-analyze in test_install.py."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ServerProcess, free_port, wait_until, write_site

ROOT = Path(__file__).resolve().parent.parent


def exec_start(unit: str) -> list[str]:
    """The unit's ExecStart as argv, its continuation lines joined."""
    text = (ROOT / "systemd" / unit).read_text().replace("\\\n", " ")
    match = re.search(r"^ExecStart=(.*)$", text, re.M)
    assert match
    return shlex.split(match.group(1))


@pytest.fixture
def display() -> Iterator[str]:
    """An X display of its own (Xvfb), like the kiosk session's :0."""
    binary = shutil.which("Xvfb")
    assert binary, "apt-get install xvfb (./dev test does)"
    number = free_port() % 1000 + 100
    process = subprocess.Popen([binary, f":{number}", "-screen", "0", "1280x720x24",
                                "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: Path(f"/tmp/.X11-unix/X{number}").exists(), what="Xvfb")
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.skipif(os.geteuid() != 0, reason="runs Chromium as user nobody (runuser)")
@pytest.mark.parametrize(("unit", "page"), [("antrian-tv.service", "/display"),
                                            ("antrian-kiosk.service", "/kiosk")])
def test_the_units_chromium_opens_its_page_and_the_display_socket(
        unit: str, page: str, display: str, tmp_path: Path, redis_url: str) -> None:
    argv = exec_start(unit)
    assert argv[0] == "/usr/bin/chromium" and argv[-1] == f"${{ANTRIAN_SERVER}}{page}"
    config = write_site(tmp_path / "site.toml", f"unit{free_port()}", counters=2)
    server = ServerProcess(config, redis_url, tmp_path / "data",
                           extra_args=["--log-level", "info"])
    (tmp_path / "data").mkdir()
    server.start()
    home = Path(tempfile.mkdtemp(prefix="antrian-unit-"))  # nobody's, outside pytest's 0700
    shutil.chown(home, "nobody")
    argv = [server.url + page if arg == argv[-1] else arg for arg in argv]
    argv = [f"--user-data-dir={home}/chromium" if arg.startswith("--user-data-dir=") else arg
            for arg in argv]
    browser = subprocess.Popen(
        ["runuser", "-u", "nobody", "--", "env", f"DISPLAY={display}", f"HOME={home}", *argv],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        def log() -> str:
            return server.log.read_text()

        wait_until(lambda: f'"GET {page} HTTP/1.1" 200' in log(), timeout=60,
                   what=f"Chromium's GET {page} (server log {server.log})")
        if page == "/display":
            wait_until(lambda: re.search(r'"WebSocket /ws/display[^"]*" \[accepted\]', log()),
                       timeout=60, what="the TV's WebSocket")
        assert browser.poll() is None  # still running: kiosk mode has no dialog to end on
    finally:
        os.killpg(browser.pid, signal.SIGTERM)
        browser.wait(15)
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
