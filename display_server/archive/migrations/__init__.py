"""Alembic's migration environment of the archive (configured in code: no alembic.ini)."""
