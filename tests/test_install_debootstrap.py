"""`antrian install --role server` inside a throwaway Debian 12 root made by debootstrap: the
packages really installed through the root's apt-get, the user, the units enabled, and the
root's own redis-server (Debian's redis.conf with our snippet included) started and asked.

It downloads a minimal Debian (about 60 MB) and the server's packages, so it runs only when
DEBOOTSTRAP_MIRROR names a Debian mirror URL (about 2 minutes on 2 cores); without it, skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from antrian import install as install_plan

ROOT = Path(__file__).resolve().parent.parent
MIRROR = os.environ.get("DEBOOTSTRAP_MIRROR", "")

pytestmark = pytest.mark.skipif(
    not MIRROR or os.geteuid() != 0 or shutil.which("debootstrap") is None,
    reason="set DEBOOTSTRAP_MIRROR (a Debian mirror URL), as root, with debootstrap installed")


def snapshot(root: Path) -> list[str]:
    """Every path of the root with its mode, owner, size, mtime and link (apt's caches aside)."""
    done = subprocess.run(
        ["find", ".", "-xdev", "(", "-path", "./var/cache/apt", "-o", "-path",
         "./var/lib/apt/lists", "-o", "-path", "./proc", ")", "-prune", "-o", "-printf",
         "%p %m %U %G %s %T@ %l\n"], cwd=root, capture_output=True, text=True, check=True)
    return sorted(done.stdout.splitlines())


def install(root: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "antrian", "install", "--role", "server",
                           "--root", str(root)], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_server_role_in_a_debootstrap_root(tmp_path: Path) -> None:
    root = tmp_path / "bookworm"
    subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(root), MIRROR],
                   check=True, capture_output=True)
    steps = len(install_plan.plan("server"))  # 18: packages, user, dirs, Redis, units
    first = install(root)
    assert "Paket Debian: redis-server" in first and f"Selesai: {steps} langkah diubah" in first
    for binary in ("usr/bin/redis-server", "usr/bin/espeak-ng", "usr/bin/aplay"):
        assert (root / binary).exists(), binary
    assert (root / "etc/systemd/system/multi-user.target.wants/antrian.service").is_symlink()
    assert (root / "etc/systemd/system/timers.target.wants/antrian-backup.timer").is_symlink()
    before = snapshot(root)
    second = install(root)
    assert f"Selesai: 0 langkah diubah, {steps} sudah, 0 dilewati." in second
    assert snapshot(root) == before
    # Debian's own redis.conf, with the include the install added, as the redis user
    (root / "run/redis").mkdir(parents=True, exist_ok=True)
    subprocess.run(["chroot", str(root), "chown", "redis:redis", "/run/redis"], check=True)
    subprocess.run(["chroot", str(root), "runuser", "-u", "redis", "--", "redis-server",
                    "/etc/redis/redis.conf", "--port", "0", "--daemonize", "yes"], check=True)
    socket = root / "run/redis/redis-server.sock"
    pid_file = root / "run/redis/redis-server.pid"
    try:
        deadline = time.monotonic() + 15
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        client = redis.Redis(unix_socket_path=str(socket), decode_responses=True)
        got = {key: client.config_get(key)[key] for key in (
            "appendonly", "appendfsync", "maxmemory-policy", "unixsocketperm")}
        assert got == {"appendonly": "yes", "appendfsync": "everysec",
                       "maxmemory-policy": "noeviction", "unixsocketperm": "770"}
    finally:
        if pid_file.exists():
            subprocess.run(["kill", pid_file.read_text().strip()], check=False)
