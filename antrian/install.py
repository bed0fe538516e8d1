"""`antrian install --role server|tv|kiosk|counter`: a Debian 12 box set up for its role.

`plan` is pure: it returns the role's steps as data (packages, the system user, groups,
directories, files, a line in a file, units to enable). `run` is the thin executor: each step is
checked first and changed only when it is not already so, and printed with its outcome in
Indonesian ("sudah" when nothing had to change), so a second run changes nothing. `--dry-run`
only checks; `--root DIR` works on the tree under DIR (packages and users in its dpkg and
passwd files, units enabled with `systemctl --root`)."""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from texts import N_, t

APP_DIR = Path(__file__).resolve().parent.parent  # the clone the units run (/opt/antrian)
UNITS_DIR = APP_DIR / "systemd"
DEMO_SITE = APP_DIR / "display_server" / "sites" / "serang.toml"
REDIS_SNIPPET = APP_DIR / "deploy" / "redis" / "antrian.conf"
ROLES = ("server", "tv", "kiosk", "counter")
USER = "antrian"
STATE = "/var/lib/antrian"
ETC = "/etc/antrian"
ENV_FILE = f"{ETC}/antrian.env"
DEFAULT_SERVER = "http://127.0.0.1:8000"

# The Chromium flags of a lobby TV and a kiosk (systemd/antrian-tv.service, -kiosk.service):
# sound without a tap, no throttling of a page in the background, no dialogs.
PACKAGES = {
    "server": ("redis-server", "python3-venv", "espeak-ng", "libespeak-ng1", "alsa-utils"),
    "tv": ("chromium", "lightdm", "xserver-xorg", "x11-xserver-utils", "fonts-dejavu-core"),
    "kiosk": ("chromium", "lightdm", "xserver-xorg", "x11-xserver-utils", "fonts-dejavu-core",
              "cups"),
    "counter": ("python3-venv", "chromium"),
}
ROLE_NAMES = {"server": N_("install.role.server"), "tv": N_("install.role.tv"),
              "kiosk": N_("install.role.kiosk"), "counter": N_("install.role.counter")}

# lightdm logs the antrian user in to a session that only turns blanking off and stays; the
# Chromium unit (a system unit, hardened) shows the page on that display.
LIGHTDM_CONF = """[Seat:*]
autologin-user=antrian
autologin-user-timeout=0
autologin-session=antrian-kiosk
user-session=antrian-kiosk
xserver-command=X -s 0 -dpms
"""
XSESSION = """[Desktop Entry]
Name=antrian-kiosk
Exec=/etc/antrian/kiosk-session
Type=Application
"""
KIOSK_SESSION = """#!/bin/sh
# The X session of a lobby TV or kiosk: no screen saver, no blanking, no power saving;
# Chromium runs from antrian-tv.service / antrian-kiosk.service on this display.
xset s off
xset s noblank
xset -dpms
exec sleep infinity
"""


@dataclass(frozen=True)
class Packages:
    names: tuple[str, ...]


@dataclass(frozen=True)
class User:
    name: str
    home: str
    shell: str


@dataclass(frozen=True)
class Member:
    user: str
    group: str


@dataclass(frozen=True)
class Directory:
    path: str
    mode: int
    owner: str
    group: str


@dataclass(frozen=True)
class File:
    path: str
    content: str
    mode: int = 0o644
    owner: str = "root"
    group: str = "root"
    seed: bool = False  # written only when absent (the site's own edits are kept)
    restart: str = ""  # a running unit that reads it, restarted when it changed


@dataclass(frozen=True)
class Line:
    path: str
    line: str
    restart: str = ""


@dataclass(frozen=True)
class Enable:
    unit: str


Step = Packages | User | Member | Directory | File | Line | Enable


def unit_text(name: str) -> str:
    """A unit of systemd/ as installed: run from this clone (the units name /opt/antrian)."""
    return (UNITS_DIR / name).read_text().replace("/opt/antrian", str(APP_DIR))


def env_file(role: str, server: str) -> str:
    """The environment file the role's units read (`EnvironmentFile=`)."""
    if role == "server":
        return (f"ANTRIAN_CONFIG={ETC}/site.toml\nANTRIAN_DATA_DIR={STATE}\n"
                "ANTRIAN_REDIS_URL=unix:///run/redis/redis-server.sock?db=0\n")
    return f"ANTRIAN_SERVER={server}\n"


def server_units() -> list[str]:
    """The server's units: the display server, the announcer (installed; enabled on the machine
    by the hall's speakers), the backup service and timer when this clone has them, and the
    templates of one server and one nightly backup per site on the shared Redis (installed,
    never enabled here: `systemctl enable antrian@<site> antrian-backup@<site>.timer`)."""
    return ["antrian.service", "antrian-announcer.service",
            *sorted(p.name for p in UNITS_DIR.glob("antrian-backup.*")),
            *sorted(p.name for p in UNITS_DIR.glob("antrian@*.service")),
            *sorted(p.name for p in UNITS_DIR.glob("antrian-backup@.*"))]


def plan(role: str, server: str = DEFAULT_SERVER) -> list[Step]:
    """The steps that set a box up for `role`, in order; pure (reads only this clone's files)."""
    if role not in ROLES:
        raise ValueError(role)
    kiosk = role in ("tv", "kiosk")
    steps: list[Step] = [
        Packages(PACKAGES[role]),
        User(USER, STATE, "/bin/sh" if kiosk else "/usr/sbin/nologin"),
        Directory(ETC, 0o750, "root", USER),
        File(ENV_FILE, env_file(role, server), 0o640, "root", USER, seed=True),
        Directory(STATE, 0o750, USER, USER),
    ]
    if role == "server":
        steps += [
            File(f"{ETC}/site.toml", DEMO_SITE.read_text(), 0o640, "root", USER, seed=True),
            Member(USER, "redis"),
            File("/etc/redis/antrian.conf", REDIS_SNIPPET.read_text(),
                 restart="redis-server.service"),
            Line("/etc/redis/redis.conf", "include /etc/redis/antrian.conf",
                 restart="redis-server.service"),
        ]
        units = server_units()
        steps += [File(f"/etc/systemd/system/{u}", unit_text(u)) for u in units]
        steps += [Enable(u) for u in units  # templates (name@) are enabled per site
                  if u == "antrian.service" or (u.endswith(".timer") and "@" not in u)]
    elif kiosk:
        unit = f"antrian-{role}.service"
        steps += [
            Member(USER, "audio"),
            Member(USER, "video"),
            File("/etc/lightdm/lightdm.conf.d/50-antrian.conf", LIGHTDM_CONF),
            File("/usr/share/xsessions/antrian-kiosk.desktop", XSESSION),
            File(f"{ETC}/kiosk-session", KIOSK_SESSION, 0o755),
            File(f"/etc/systemd/system/{unit}", unit_text(unit)),
            Enable(unit),
        ]
    return steps


def describe(step: Step) -> str:
    """The step in Indonesian, as printed."""
    match step:
        case Packages(names):
            return t("install.step.packages", names=" ".join(names))
        case User(name, home, _):
            return t("install.step.user", user=name, home=home)
        case Member(user, group):
            return t("install.step.member", user=user, group=group)
        case Directory(path, mode, owner, group):
            return t("install.step.directory", path=path, owner=owner, group=group,
                     mode=f"{mode:04o}")
        case File(path, seed=True):
            return t("install.step.seed", path=path)
        case File(path, mode=mode):
            return t("install.step.file", path=path, mode=f"{mode:04o}")
        case Line(path, line):
            return t("install.step.line", path=path, line=line)
        case Enable(unit):
            return t("install.step.enable", unit=unit)
    raise TypeError(step)


class Skip(Exception):
    """The step cannot be checked or done on this root; the message says why."""


class Failed(Exception):
    """A command of a step failed; the message is its output."""


@dataclass
class Box:
    """The machine (or the tree under `root`) the steps are checked against and applied to."""

    root: Path

    @property
    def is_host(self) -> bool:
        return self.root == Path("/")

    def at(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def command(self, *args: str) -> str:
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise Failed((done.stderr or done.stdout).strip() or " ".join(args))
        return done.stdout

    def table(self, name: str) -> list[list[str]]:
        """The rows of /etc/passwd or /etc/group of the root (empty when it has none)."""
        path = self.at(f"/etc/{name}")
        if not path.exists():
            return []
        return [row.split(":") for row in path.read_text().splitlines() if row.count(":") >= 3]

    def owned(self, path: Path, owner: str, group: str) -> bool:
        """Whether `path` belongs to owner:group (False while either does not exist yet)."""
        info = path.stat()
        try:
            return info.st_uid == self.uid(owner) and info.st_gid == self.gid(group)
        except Failed:
            return False

    def uid(self, user: str) -> int:
        if self.is_host:
            try:
                return pwd.getpwnam(user).pw_uid
            except KeyError:
                raise Failed(t("install.no_user", user=user)) from None
        for row in self.table("passwd"):
            if row[0] == user:
                return int(row[2])
        raise Failed(t("install.no_user", user=user))

    def gid(self, group: str) -> int:
        if self.is_host:
            try:
                return grp.getgrnam(group).gr_gid
            except KeyError:
                raise Failed(t("install.no_group", group=group)) from None
        for row in self.table("group"):
            if row[0] == group:
                return int(row[2])
        raise Failed(t("install.no_group", group=group))

    def root_option(self) -> list[str]:
        return [] if self.is_host else ["--root", str(self.root)]


# Each step kind: `check` says whether it is already so (or raises Skip), `apply` makes it so.
def _packages_missing(box: Box, step: Packages) -> list[str]:
    admin = box.at("/var/lib/dpkg")
    if not (admin / "status").exists():
        raise Skip(t("install.no_dpkg", root=box.root))
    done = subprocess.run(["dpkg-query", f"--admindir={admin}", "-W",
                           "-f=${Package} ${db:Status-Status}\n", *step.names],
                          capture_output=True, text=True, check=False)
    installed = {line.split()[0] for line in done.stdout.splitlines()
                 if line.endswith(" installed")}
    return [name for name in step.names if name not in installed]


def _install_packages(box: Box, step: Packages) -> None:
    missing = _packages_missing(box, step)
    if not box.is_host and not box.at("/usr/bin/apt-get").exists():
        raise Skip(t("install.no_apt", root=box.root))
    prefix = [] if box.is_host else ["chroot", str(box.root)]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *missing]):
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, env=env,
                              check=False)
        if done.returncode != 0:
            raise Failed(done.stderr.strip()[-500:])


def _user_exists(box: Box, step: User) -> bool:
    if not box.is_host and not box.at("/etc/passwd").exists():
        raise Skip(t("install.no_passwd", root=box.root))
    return any(row[0] == step.name for row in box.table("passwd"))


def _add_user(box: Box, step: User) -> None:
    box.command("useradd", *box.root_option(), "--system", "--user-group", "--home-dir",
                step.home, "--no-create-home", "--shell", step.shell, step.name)


def _is_member(box: Box, step: Member) -> bool:
    rows = [row for row in box.table("group") if row[0] == step.group]
    if not rows:
        raise Skip(t("install.group_missing", group=step.group))
    return step.user in rows[0][3].split(",")


def _add_member(box: Box, step: Member) -> None:
    box.command("usermod", *box.root_option(), "--append", "--groups", step.group, step.user)


def _directory_ok(box: Box, step: Directory) -> bool:
    path = box.at(step.path)
    if not path.is_dir():
        return False
    return (path.stat().st_mode & 0o7777) == step.mode and box.owned(path, step.owner,
                                                                     step.group)


def _make_directory(box: Box, step: Directory) -> None:
    path = box.at(step.path)
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, box.uid(step.owner), box.gid(step.group))
    path.chmod(step.mode)


def _file_ok(box: Box, step: File) -> bool:
    path = box.at(step.path)
    if not path.is_file():
        return False
    if step.seed:
        return True
    return (path.read_text() == step.content and (path.stat().st_mode & 0o7777) == step.mode
            and box.owned(path, step.owner, step.group))


def _write_file(box: Box, step: File) -> None:
    path = box.at(step.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.antrian-new")
    fresh.write_text(step.content)
    os.chown(fresh, box.uid(step.owner), box.gid(step.group))
    fresh.chmod(step.mode)
    fresh.replace(path)


def _line_ok(box: Box, step: Line) -> bool:
    path = box.at(step.path)
    if not path.is_file():
        raise Skip(t("install.file_missing", path=step.path))
    return step.line in path.read_text().splitlines()


def _add_line(box: Box, step: Line) -> None:
    path = box.at(step.path)
    text = path.read_text()
    path.write_text(f"{text}{'' if text.endswith(chr(10)) or not text else chr(10)}"
                    f"{step.line}\n")


def systemd_running() -> bool:
    """Whether this machine was booted with systemd (sd_booted's test)."""
    return Path("/run/systemd/system").is_dir()


def _enabled(box: Box, step: Enable) -> bool:
    if box.is_host and not systemd_running():
        raise Skip(t("install.no_systemd"))
    done = subprocess.run(["systemctl", *box.root_option(), "is-enabled", step.unit],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() == "enabled"


def _enable(box: Box, step: Enable) -> None:
    box.command("systemctl", *box.root_option(), "enable", step.unit)


def check(box: Box, step: Step) -> bool:
    """Whether the step is already so on the box (Skip when it cannot be told there)."""
    match step:
        case Packages():
            return not _packages_missing(box, step)
        case User():
            return _user_exists(box, step)
        case Member():
            return _is_member(box, step)
        case Directory():
            return _directory_ok(box, step)
        case File():
            return _file_ok(box, step)
        case Line():
            return _line_ok(box, step)
        case Enable():
            return _enabled(box, step)
    raise TypeError(step)


def apply(box: Box, step: Step) -> None:
    """Make the step so on the box."""
    match step:
        case Packages():
            _install_packages(box, step)
        case User():
            _add_user(box, step)
        case Member():
            _add_member(box, step)
        case Directory():
            _make_directory(box, step)
        case File():
            _write_file(box, step)
        case Line():
            _add_line(box, step)
        case Enable():
            _enable(box, step)


def run(steps: Sequence[Step], root: Path, *, dry_run: bool, out: TextIO) -> int:
    """Check each step and, unless `dry_run`, apply the ones not already so; print one line per
    step. 0 when every step is so (or skipped with a reason), 1 when one failed."""
    box = Box(root)
    counts = {"done": 0, "changed": 0, "skipped": 0}
    units_changed = False
    restarts: list[str] = []
    for number, step in enumerate(steps, 1):
        try:
            if check(box, step):
                outcome, counts["done"] = t("install.already"), counts["done"] + 1
            elif dry_run:
                outcome, counts["changed"] = t("install.would"), counts["changed"] + 1
            else:
                apply(box, step)
                outcome, counts["changed"] = t("install.changed"), counts["changed"] + 1
                units_changed |= isinstance(step, File) and "/systemd/" in step.path
                if isinstance(step, File | Line) and step.restart not in ("", *restarts):
                    restarts.append(step.restart)
        except Skip as skip:
            outcome, counts["skipped"] = t("install.skipped", reason=skip), counts["skipped"] + 1
        except (Failed, OSError, KeyError) as exc:
            failed = t("install.failed", error=exc)
            print(f"[{number}/{len(steps)}] {describe(step)}: {failed}", file=out, flush=True)
            return 1
        print(f"[{number}/{len(steps)}] {describe(step)}: {outcome}", file=out, flush=True)
    if box.is_host and systemd_running():
        if units_changed:
            box.command("systemctl", "daemon-reload")
        for unit in restarts:  # only a running one: an enabled one reads it when it starts
            box.command("systemctl", "try-restart", unit)
            print(t("install.restarted", unit=unit), file=out)
    changed, done, skipped = counts["changed"], counts["done"], counts["skipped"]
    print(t("install.summary_dry", changed=changed, done=done, skipped=skipped) if dry_run
          else t("install.summary", changed=changed, done=done, skipped=skipped), file=out)
    return 0


def _install(args: argparse.Namespace) -> int:
    root = Path(args.root or "/").resolve()
    if not args.dry_run and os.geteuid() != 0:
        print("antrian:", t("install.not_root"), file=sys.stderr)
        return 1
    if shutil.which("systemctl") is None and args.root:
        print("antrian:", t("install.no_systemctl"), file=sys.stderr)
        return 1
    print(t("install.header", role=t(ROLE_NAMES[args.role]), root=root))
    if args.dry_run:
        print(t("install.dry_run"))
    return run(plan(args.role, args.server), root, dry_run=args.dry_run, out=sys.stdout)


def register(sub: Any) -> None:
    """`antrian install`."""
    install = sub.add_parser("install", help=t("help.install"))
    install.add_argument("--role", required=True, choices=ROLES)
    install.add_argument("--dry-run", action="store_true", help=t("help.install_dry_run"))
    install.add_argument("--root", help=t("help.install_root"))
    install.add_argument("--server", default=DEFAULT_SERVER,
                         help=t("help.install_server"))
    install.set_defaults(func=_install)
