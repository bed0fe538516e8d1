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


def first_lines(config: Path, data_dir: Path, redis_url: str, *options: str) -> list[str]:
    """Start `antrian serve`, read its stdout up to the block's last line, check the server
    answers on 127.0.0.1, stop it."""
    port = free_port()
    args = [sys.executable, "-m", "antrian", "serve", "--config", str(config), "--data-dir",
            str(data_dir), "--port", str(port), "--redis-url", redis_url, "--log-level",
            "warning", *options]
    env = {k: v for k, v in os.environ.items() if k != "ANTRIAN_REDIS_URL"}
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, start_new_session=True)
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
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    return [line.replace(str(port), "PORT") for line in lines]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site.toml", f"serve-{os.getpid()}-{tmp_path.name[-6:]}")


def test_prints_the_pages_urls_first(config: Path, tmp_path: Path, redis_url: str) -> None:
    lines = first_lines(config, tmp_path, redis_url)
    assert lines[0] == "Server antrian MPP Uji siap. Buka di peramban:"
    urls = [line.split()[-1] for line in lines[1:6]]
    assert urls == ["http://127.0.0.1:PORT/", "http://127.0.0.1:PORT/display",
                    "http://127.0.0.1:PORT/kiosk", "http://127.0.0.1:PORT/counter/1",
                    "http://127.0.0.1:PORT/admin"]
    assert "Layar Petugas Loket 1" in lines[4]
    assert "antrian token --counter N" in lines[6] and str(tmp_path) in lines[6]
    assert lines[-1] == "Tekan Ctrl+C untuk berhenti."


def test_on_every_address_it_shows_this_machines(config: Path, tmp_path: Path,
                                                 redis_url: str) -> None:
    lines = first_lines(config, tmp_path, redis_url, "--host", "0.0.0.0")
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
