"""`antrian install`: the steps of each role, a dry run that changes nothing, a real run into a
throwaway root that a second run leaves as it is, and the shipped units as systemd reads them."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from antrian import install
from antrian.cli import main

ROOT = Path(__file__).resolve().parent.parent
ANTRIAN = [sys.executable, "-m", "antrian"]
OUTCOME = re.compile(r"^\[(\d+)/(\d+)\] (.*): (sudah|akan diubah|diubah|dilewati \(.*\))$")

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="useradd --root and chown need root")


def tree(root: Path) -> dict[str, tuple[object, ...]]:
    """Every path under root with its type, mode, owner, group and content (or link target)."""
    found: dict[str, tuple[object, ...]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            what: object = os.readlink(path)
        elif path.is_file():
            what = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            what = "dir"
        found[str(path.relative_to(root))] = (what, info.st_mode, info.st_uid, info.st_gid)
    return found


def debian_root(root: Path, packages: tuple[str, ...] = ()) -> Path:
    """A small Debian-like tree: root in passwd, the groups the roles join, Debian's redis.conf
    line, and a dpkg database where `packages` are installed."""
    etc = root / "etc"
    (etc / "redis").mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    (etc / "group").write_text("root:x:0:\naudio:x:29:\nvideo:x:44:\nredis:x:120:\n")
    (etc / "gshadow").write_text("root:*::\naudio:*::\nvideo:*::\nredis:!::\n")
    (etc / "redis" / "redis.conf").write_text("bind 127.0.0.1 -::1\nport 6379\n")
    dpkg = root / "var" / "lib" / "dpkg"
    dpkg.mkdir(parents=True)
    (dpkg / "status").write_text("".join(
        f"Package: {name}\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n"
        f"Maintainer: x <x@example.org>\nDescription: x\n\n" for name in packages))
    return root


def run_install(*args: str) -> list[tuple[str, str]]:
    """Run `antrian install` (the command's own entry, in this process) and return its steps as
    (description, outcome)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["install", *args])
    assert code == 0, out.getvalue() + err.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Memasang peran ")
    steps = [OUTCOME.match(line) for line in lines if line.startswith("[")]
    assert all(steps), lines
    return [(m.group(3), m.group(4)) for m in steps if m]


@pytest.mark.parametrize("role", install.ROLES)
def test_dry_run_lists_every_step_of_the_role_and_changes_nothing(role: str,
                                                                  tmp_path: Path) -> None:
    root = debian_root(tmp_path / "box", packages=install.PACKAGES[role][:1])
    before = tree(root)
    steps = run_install("--role", role, "--dry-run", "--root", str(root))
    assert [d for d, _ in steps] == [install.describe(s) for s in install.plan(role)]
    assert tree(root) == before
    outcomes = dict(steps)
    # only the first package is in the dpkg database: the step would install the others
    assert outcomes[install.describe(install.Packages(install.PACKAGES[role]))] == "akan diubah"
    assert outcomes["Pengguna sistem antrian (direktori rumah /var/lib/antrian)"] == "akan diubah"
    assert outcomes["Direktori /var/lib/antrian (pemilik antrian:antrian, mode 0750)"] \
        == "akan diubah"
    units = [s.unit for s in install.plan(role) if isinstance(s, install.Enable)]
    assert units == {"server": ["antrian.service"], "tv": ["antrian-tv.service"],
                     "kiosk": ["antrian-kiosk.service"], "counter": []}[role] \
        + [u for u in install.server_units()
           if u.endswith(".timer") and "@" not in u and role == "server"]
    for unit in units:
        assert outcomes[f"Unit {unit} diaktifkan"] == "akan diubah"


@needs_root
def test_server_role_into_a_root_twice_the_second_run_changes_nothing(tmp_path: Path) -> None:
    root = debian_root(tmp_path / "box", packages=install.PACKAGES["server"])
    first = run_install("--role", "server", "--root", str(root))
    assert dict(first)[install.describe(install.Packages(install.PACKAGES["server"]))] == "sudah"
    assert [o for _, o in first].count("diubah") == len(first) - 1
    # what the box now has
    passwd = (root / "etc/passwd").read_text()
    uid = int(re.search(r"^antrian:x:(\d+):", passwd, re.M).group(1))  # type: ignore[union-attr]
    state = (root / "var/lib/antrian").stat()
    assert (state.st_uid, state.st_mode & 0o7777) == (uid, 0o750)
    assert "redis:x:120:antrian" in (root / "etc/group").read_text()
    assert (root / "etc/antrian/site.toml").read_text() == install.DEMO_SITE.read_text()
    env = (root / "etc/antrian/antrian.env").read_text()
    assert "ANTRIAN_REDIS_URL=unix:///run/redis/redis-server.sock?db=0" in env
    assert (root / "etc/antrian/antrian.env").stat().st_mode & 0o777 == 0o640
    assert (root / "etc/redis/redis.conf").read_text().endswith(
        "include /etc/redis/antrian.conf\n")
    wants = root / "etc/systemd/system/multi-user.target.wants/antrian.service"
    assert os.readlink(wants) == "/etc/systemd/system/antrian.service"
    unit = (root / "etc/systemd/system/antrian.service").read_text()
    assert f"ExecStart={ROOT}/.venv/bin/antrian serve" in unit
    # the site edits its TOML; the second run keeps it and changes nothing at all
    (root / "etc/antrian/site.toml").write_text("# the site's own\n")
    before = tree(root)
    second = run_install("--role", "server", "--root", str(root))
    assert [d for d, _ in second] == [d for d, _ in first]
    assert {o for _, o in second} == {"sudah"}
    assert tree(root) == before


@needs_root
@pytest.mark.parametrize("role", ["tv", "kiosk", "counter"])
def test_screen_roles_into_a_root_twice(role: str, tmp_path: Path) -> None:
    root = debian_root(tmp_path / "box")  # no package installed, and no apt-get to install
    first = run_install("--role", role, "--root", str(root), "--server", "http://10.1.1.5:8000")
    assert first[0][1] == f"dilewati (tidak ada apt-get di {root})"
    assert (root / "etc/antrian/antrian.env").read_text() == "ANTRIAN_SERVER=http://10.1.1.5:8000\n"
    if role != "counter":
        lightdm = (root / "etc/lightdm/lightdm.conf.d/50-antrian.conf").read_text()
        assert "autologin-user=antrian" in lightdm and "autologin-session=antrian-kiosk" in lightdm
        assert "xserver-command=X -s 0 -dpms" in lightdm  # no blanking, no power saving
        session = root / "etc/antrian/kiosk-session"
        assert session.stat().st_mode & 0o111 and "xset s off" in session.read_text()
        unit = root / f"etc/systemd/system/graphical.target.wants/antrian-{role}.service"
        assert os.readlink(unit) == f"/etc/systemd/system/antrian-{role}.service"
        assert "audio:x:29:antrian" in (root / "etc/group").read_text()
    before = tree(root)
    second = run_install("--role", role, "--root", str(root), "--server", "http://10.1.1.5:8000")
    assert {o for _, o in second[1:]} == {"sudah"}
    assert second[0] == first[0]  # the packages still missing, and said why
    assert tree(root) == before


def test_an_unknown_role_is_refused_in_indonesian() -> None:
    done = subprocess.run([*ANTRIAN, "install", "--role", "printer", "--dry-run"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "printer" in done.stderr and "server" in done.stderr and "invalid" not in done.stderr


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "systemd").glob("*.service"))
                         + sorted(p.name for p in (ROOT / "systemd").glob("*.timer")))
def test_every_unit_passes_systemd_analyze_verify(name: str, tmp_path: Path) -> None:
    """Each unit as `antrian install` writes it (run from this clone instead of /opt/antrian):
    systemd-analyze prints nothing (it warns and exits 0 on a directive it cannot parse)."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze missing: apt-get install systemd (./dev test does)"
    (tmp_path / name).write_text(install.unit_text(name))
    done = subprocess.run([analyze, "verify", str(tmp_path / name)], capture_output=True,
                          text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_units_are_hardened_and_restart_always() -> None:
    for path in sorted((ROOT / "systemd").glob("*.service")):
        text = path.read_text()
        settings = set(re.findall(r"^(\w+=.*)$", text, re.M))
        # every unit, the backup's oneshot too: its own user, hardened
        assert {"User=antrian", "NoNewPrivileges=yes", "ProtectSystem=strict",
                "ProtectHome=yes", "PrivateTmp=yes"} <= settings, path.name
        if "Type=oneshot" in settings:  # a timer's job (the backup) runs and ends
            assert not re.search(r"^Restart=", text, re.M), path.name
            continue
        assert "Restart=always" in settings, path.name
    for name, data in (("antrian.service", "/var/lib/antrian"),
                       ("antrian@.service", "/var/lib/antrian/sites/%i")):
        server = (ROOT / "systemd" / name).read_text()
        assert re.search(r"^After=.*redis-server\.service", server, re.M), name
        assert re.search(r"^Wants=.*redis-server\.service", server, re.M), name
        assert "LimitNOFILE=65536" in server and f"ReadWritePaths={data}\n" in server, name
    for name in ("antrian-backup.service", "antrian-backup@.service"):
        backup = (ROOT / "systemd" / name).read_text()
        assert re.search(r"^After=.*redis-server\.service", backup, re.M), name
        assert re.search(r"^Wants=.*redis-server\.service", backup, re.M), name
        assert re.search(r"^ExecStart=.* backup .*--out-dir \S+ --keep 14$", backup, re.M), name
    for name in ("antrian-backup.timer", "antrian-backup@.timer"):
        timer = (ROOT / "systemd" / name).read_text()
        assert "OnCalendar=*-*-* 02:30:00" in timer and "Persistent=true" in timer, name
    for role, page in (("tv", "display"), ("kiosk", "kiosk")):
        unit = (ROOT / f"systemd/antrian-{role}.service").read_text()
        for flag in ("--kiosk", "--noerrdialogs", "--autoplay-policy=no-user-gesture-required",
                     "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
                     "--disable-backgrounding-occluded-windows", f"${{ANTRIAN_SERVER}}/{page}"):
            assert flag in unit, (role, flag)
