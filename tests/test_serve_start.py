"""`antrian serve` says where it serves: one Indonesian block with the pages' URLs for the address
it listens on (this machine's addresses for 0.0.0.0) and how to get the access codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port, write_site

from antrian.startup import base_urls, machine_addresses


def first_lines(config: Path, data_dir: Path, redis_url: str | None, *options: str,
                log_level: str = "warning") -> tuple[list[str], list[str], str]:
    """Start `antrian serve`, read its stdout up to the block's last line, check the server
    answers on 127.0.0.1, stop it: the block's lines, what stdout said after, and stderr."""
    port = free_port()
    args = [sys.executable, "-m", "antrian", "serve", "--config", str(config), "--data-dir",
            str(data_dir), "--port", str(port), "--log-level", log_level, *options]
    if redis_url:
        args += ["--redis-url", redis_url]
    env = {k: v for k, v in os.environ.items() if k != "ANTRIAN_REDIS_URL"}
    errors = data_dir / f"serve-{port}.err"
    with errors.open("w") as stderr:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=stderr, text=True, start_new_session=True)
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if "Ctrl+C" in line or len(lines) > 20:
                break
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server never answered /"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl+C in its terminal
        try:
            rest, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            rest, _ = process.communicate(timeout=5)
    return ([line.replace(str(port), "PORT") for line in lines], rest.splitlines(),
            errors.read_text())


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site.toml", f"serve-{os.getpid()}-{tmp_path.name[-6:]}")


def test_prints_the_pages_urls_first(config: Path, tmp_path: Path, redis_url: str) -> None:
    """The block comes first; uvicorn's English start and stop lines are left out (its
    warnings and access log are not), and Ctrl+C ends with one Indonesian line."""
    lines, after, errors = first_lines(config, tmp_path, redis_url, log_level="info")
    assert lines[0] == "Server antrian MPP Uji — buka di peramban:"
    urls = [line.split()[-1] for line in lines[1:6]]
    assert urls == ["http://127.0.0.1:PORT/", "http://127.0.0.1:PORT/display",
                    "http://127.0.0.1:PORT/kiosk", "http://127.0.0.1:PORT/counter/1",
                    "http://127.0.0.1:PORT/admin"]
    assert "Layar Petugas Loket 1" in lines[4]
    assert "antrian token --counter N" in lines[6] and str(tmp_path) in lines[6]
    assert lines[-1] == "Tekan Ctrl+C untuk berhenti."
    assert [line for line in after if not line.startswith("INFO: ")] == [
        "Server antrian berhenti."]  # access log lines aside
    for chatter in ("Uvicorn running", "Started server process", "Application startup",
                    "Shutting down", "Finished server process", "alembic", "Traceback"):
        assert chatter not in errors


def test_ctrl_c_stops_its_own_redis_quietly(config: Path, tmp_path: Path) -> None:
    """Without a Redis URL serve runs its own redis-server, outside the terminal's process
    group: Ctrl+C reaches serve only, which stops Redis; nothing died and was restarted."""
    lines, after, errors = first_lines(config, tmp_path, None)
    assert lines[-1] == "Tekan Ctrl+C untuk berhenti."
    assert after == ["Server antrian berhenti."]
    assert "restarting" not in errors and "Traceback" not in errors, errors


def test_on_every_address_it_shows_this_machines(config: Path, tmp_path: Path,
                                                 redis_url: str) -> None:
    lines, _, _ = first_lines(config, tmp_path, redis_url, "--host", "0.0.0.0")
    block = "\n".join(lines)
    assert "0.0.0.0" not in block
    shown = [f"http://{a}:PORT" for a in machine_addresses()] or ["http://127.0.0.1:PORT"]
    assert lines[2].split()[-1] == f"{shown[0]}/display"
    assert "http://127.0.0.1:PORT/" in block


def test_base_urls() -> None:
    assert base_urls("10.1.2.3", 8080) == ["http://10.1.2.3:8080"]
    assert base_urls("::1", 8000) == ["http://[::1]:8000"]
    every = base_urls("0.0.0.0", 8000)
    assert every[-1] == "http://127.0.0.1:8000"
    assert all("0.0.0.0" not in url for url in every)
    assert base_urls("::", 8000)[-1] == "http://127.0.0.1:8000"
