"""The archive's database: its URL (ANTRIAN_DATABASE_URL, default an SQLite file in the data
dir), the engine for it, and `upgrade` (Alembic to the newest schema, configured in code)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_FILE = "archive.sqlite3"
MIGRATION_LOCK = 0x616E7472  # the PostgreSQL advisory lock its migrations take ("antr")


class DatabaseError(ValueError):
    """An archive URL the server cannot use; the message names it (without its password)."""


def database_url(data_dir: Path, env: dict[str, str] | None = None) -> str:
    """ANTRIAN_DATABASE_URL, or the SQLite file in the data dir; `postgresql://` takes the
    psycopg 3 driver."""
    raw = (os.environ if env is None else env).get("ANTRIAN_DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite:///{data_dir / SQLITE_FILE}"
    try:
        url = make_url(raw)
    except ArgumentError:
        raise DatabaseError(f"ANTRIAN_DATABASE_URL: not a database URL: {raw!r}") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername not in ("sqlite", "postgresql+psycopg"):
        raise DatabaseError(f"ANTRIAN_DATABASE_URL: expected sqlite:/// or postgresql://, "
                            f"got {url.drivername}://")
    return url.render_as_string(hide_password=False)


def engine(url: str) -> Engine:
    """An engine for the archive. SQLite runs in WAL mode (readers do not block the archiver)
    and waits up to 30 s for a lock."""
    created = create_engine(url, pool_pre_ping=True)
    if created.dialect.name == "sqlite":
        event.listen(created, "connect", _sqlite_pragmas)
    return created


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config() -> Config:
    """Alembic's configuration, without an alembic.ini. (Alembic is imported when a migration
    runs: importing it logs its plugins, which every other command can do without.)"""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(db: Engine, revision: str = "head", *, down: bool = False) -> None:
    """Run Alembic up (or down) to `revision` on the database of `db`."""
    from alembic import command

    config = alembic_config()
    with db.begin() as connection:
        # processes starting at once on one archive (several hosts behind one address, or
        # processes of one machine) migrate one after the other: the next finds it at head
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK})
        elif connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # the database's write lock
        config.attributes["connection"] = connection
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


def upgrade(url: str) -> None:
    """Bring the archive at `url` to the newest schema (creating it when empty)."""
    db = engine(url)
    try:
        migrate(db)
    finally:
        db.dispose()
