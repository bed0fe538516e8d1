"""`antrian demo` drives a running server the way visitors and officers would: tickets only for
services open now, one quiet Indonesian status line, and a clear refusal (no traceback, no new
secret) when its data dir is not the server's."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT
from test_pages_support import close_service_today

from antrian.demo import StatusLine, simulate, status_text
from display_server.config import load_config
from display_server.tokens import SECRET_FILE, load_secret


def demo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("ANTRIAN_DATA_DIR", "ANTRIAN_CONFIG")}
    return subprocess.run([sys.executable, "-m", "antrian", "demo", *args], cwd=ROOT,
                          env={**environment, **(env or {})}, capture_output=True, text=True,
                          timeout=120)


async def test_demo_issues_tickets_and_calls_them(server_factory: Any, tmp_path: Path) -> None:
    """A seeded run of 200 steps issues tickets and calls some, and the server agrees."""
    server = server_factory()
    site = load_config(str(server_factory.config))
    done = await simulate(server.url, site, load_secret(tmp_path), steps=200, pause=0,
                          rng=random.Random(7))
    assert sum(done.values()) == 200
    assert done["ticket"] > 50 and done["call-next"] > 30
    assert done["error"] == 0
    state = httpx.get(server.url + "/api/state").json()
    issued_waiting = sum(state["waiting"].values())
    assert issued_waiting < done["ticket"]
    assert state["recent"], "the TVs would show calls"


class Recording(random.Random):
    """A seeded Random that remembers the lists of service codes it chose from."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.offered: list[list[str]] = []

    def choice(self, seq: Any) -> Any:
        if seq and all(isinstance(x, str) for x in seq):
            self.offered.append(list(seq))
        return super().choice(seq)


async def test_tickets_only_for_services_open_now(server_factory: Any, tmp_path: Path) -> None:
    """Service C is closed now: the demo never asks for its tickets (it reads /api/services'
    `open`), nor for D's once its quota is reached; it shows 3 open services, and meets no
    error."""
    close_service_today(server_factory.config)
    server = server_factory()
    site = load_config(str(server_factory.config))
    services = httpx.get(server.url + "/api/services").json()["services"]
    assert [s["code"] for s in services if not s["open"]] == ["C"]
    shown: set[int] = set()
    rng = Recording(3)
    done = await simulate(server.url, site, load_secret(tmp_path), steps=300, pause=0, rng=rng,
                          report=lambda tally, open_now: shown.add(open_now))
    assert done["error"] == 0 and done["ticket"] > 80
    assert done["refused"] <= 10  # D's quota once, and a few of the counters' 409s
    assert shown == {3}
    assert len(rng.offered) > 80
    assert all("C" not in offered and {"A", "B"} <= set(offered) for offered in rng.offered)
    assert ["A", "B"] in [sorted(offered) for offered in rng.offered]  # D's quota (3) ran out
    waiting = {s["code"]: s["waiting"] for s in
               httpx.get(server.url + "/api/services").json()["services"]}
    assert waiting["C"] == 0


def test_status_line_is_indonesian_and_updates_in_place(tmp_path: Path) -> None:
    from collections import Counter

    done = Counter({"ticket": 1234, "call-next": 7, "done": 5, "skip": 1, "refused": 2})
    assert status_text(done, 3) == ("3 layanan buka · tiket 1.234 · dipanggil 7 · dilayani 5 · "
                                    "dilewati 1 · ditolak wajar 2 · galat 0")

    class Terminal:
        def __init__(self) -> None:
            self.written = ""

        def isatty(self) -> bool:
            return True

        def write(self, text: str) -> int:
            self.written += text
            return len(text)

        def flush(self) -> None:
            pass

    terminal = Terminal()
    line = StatusLine(terminal)  # type: ignore[arg-type]
    line.update(done, 3)
    line.close()
    assert terminal.written.count("\r\x1b[K") == 2 and terminal.written.count("\n") == 1


def test_command_prints_one_quiet_status_line(server_factory: Any, tmp_path: Path) -> None:
    """Into a pipe: the start line, then status lines only; no per-request log line."""
    server = server_factory()
    result = demo("--server", server.url, "--config", str(server_factory.config),
                  "--data-dir", str(tmp_path), "--steps", "60", "--rate", "1000",
                  "--seed", "5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Simulasi antrian di {server.url} (Ctrl+C untuk berhenti)"
    assert all("layanan buka · tiket" in line for line in lines[1:]) and len(lines) <= 3
    assert "galat 0" in lines[-1]
    assert "HTTP Request" not in result.stderr and result.stderr == ""


def test_a_data_dir_the_server_does_not_share_is_one_line(server_factory: Any,
                                                          tmp_path: Path) -> None:
    """Another data dir's secret: the server refuses the codes; the demo says so in one
    Indonesian line and exits 1, without a traceback."""
    server = server_factory()
    other = tmp_path / "other"
    other.mkdir()
    load_secret(other)  # a second, different secret
    result = demo("--server", server.url, "--config", str(server_factory.config),
                  "--data-dir", str(other), "--steps", "5")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "menolak kode akses demo" in result.stderr and str(other) in result.stderr


def test_never_creates_a_secret(server_factory: Any, tmp_path: Path) -> None:
    """Without --data-dir the demo looks in the default data dir; finding no secret there, it
    says so and creates neither the secret nor the folder."""
    server = server_factory()
    home = tmp_path / "xdg"
    result = demo("--server", server.url, "--config", str(server_factory.config), "--steps",
                  "5", env={"XDG_DATA_HOME": str(home)})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(home / "antrian" / SECRET_FILE) in result.stderr
    assert not home.exists()


def test_token_says_when_it_creates_the_secret(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`antrian token` in a data dir without a secret creates one and says so on stderr (a
    server with another data dir would refuse the code); the next time it says nothing."""
    from antrian.cli import main

    assert main(["token", "--admin", "--data-dir", str(tmp_path)]) == 0
    first = capsys.readouterr()
    assert "Rahasia situs baru dibuat" in first.err and str(tmp_path / SECRET_FILE) in first.err
    assert main(["token", "--admin", "--data-dir", str(tmp_path)]) == 0
    again = capsys.readouterr()
    assert again.err == "" and again.out == first.out
