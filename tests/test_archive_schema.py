"""The archive's schema: Alembic builds it from empty on SQLite and PostgreSQL, it is exactly
tables.py, and the first revision goes down and up again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import ROOT
from postgres_server import PostgresServer

from display_server.archive import db
from display_server.archive.tables import metadata

TABLES = {"events", "visits", "legs", "archiver_state"}


def differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))


def test_upgrade_from_empty_builds_the_tables_of_tables_py(database_url: str) -> None:
    db.upgrade(database_url)
    db.upgrade(database_url)  # a second start finds it at head and changes nothing
    engine = db.engine(database_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
        assert differences(engine) == []
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT version_num FROM alembic_version")) \
                == ScriptDirectory.from_config(db.alembic_config()).get_current_head()
    finally:
        engine.dispose()


def test_first_revision_downgrades_to_empty_and_upgrades_again(database_url: str) -> None:
    engine = db.engine(database_url)
    try:
        db.migrate(engine)
        db.migrate(engine, "base", down=True)
        assert TABLES & set(sa.inspect(engine).get_table_names()) == set()
        db.migrate(engine)
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_database_url_defaults_to_sqlite_in_the_data_dir_and_takes_psycopg(tmp_path: Path) -> None:
    assert db.database_url(tmp_path, {}) == f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    assert db.database_url(tmp_path, {"ANTRIAN_DATABASE_URL": "postgresql://u:p@h:5/x"}) \
        == "postgresql+psycopg://u:p@h:5/x"



def test_processes_starting_together_migrate_one_empty_archive_once(
        postgres: PostgresServer, tmp_path: Path) -> None:
    """Several processes (hosts behind one address) started at once on one empty PostgreSQL
    archive each migrate it first, as `antrian serve` does: every one succeeds (they take
    turns), and the schema is built once."""
    env = {**os.environ}
    for attempt in range(3):
        url = postgres.create_database()
        env["ANTRIAN_DATABASE_URL"] = url
        runs = [subprocess.Popen([sys.executable, "-m", "antrian", "db", "upgrade",
                                  "--data-dir", str(tmp_path)], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(3)]
        for run in runs:
            _out, err = run.communicate(timeout=120)
            assert run.returncode == 0, (attempt, err[-500:])
        engine = db.engine(url)
        try:
            assert differences(engine) == []
        finally:
            engine.dispose()
