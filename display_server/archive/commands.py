"""`antrian db upgrade`: migrate the archive (ANTRIAN_DATABASE_URL) to the newest schema; and
the same migration as `antrian serve` runs it before starting the workers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from display_server.archive.db import DatabaseError, database_url, upgrade
from display_server.paths import data_dir
from texts import t


def migrate(directory: Path) -> str | None:
    """Upgrade the archive of this data dir and environment; its URL, or None after printing
    why it cannot be used (an unreachable server, a bad URL)."""
    try:
        url = database_url(directory)
    except DatabaseError as exc:
        print("antrian:", exc, file=sys.stderr)
        return None
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        upgrade(url)
    except (SQLAlchemyError, OSError) as exc:
        error = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print("antrian:", t("cli.db_unreachable", url=shown, error=error), file=sys.stderr)
        return None
    return url


def _db(args: argparse.Namespace) -> int:
    url = migrate(data_dir(args.data_dir))
    if url is None:
        return 1
    print(t("cli.db_upgraded", url=make_url(url).render_as_string(hide_password=True)))
    return 0


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("db", help=t("help.archive_database"))
    common(p)
    p.add_argument("action", choices=["upgrade"],
                   help=t("help.archive_action"))
    p.set_defaults(func=_db)
