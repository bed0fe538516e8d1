"""Alembic's environment: migrates the connection that display_server.archive.db hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from display_server.archive.tables import metadata

connection = context.config.attributes["connection"]
assert isinstance(connection, Connection)
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
