"""The first schema: events, visits, legs and archiver_state (display_server/archive/tables.py).

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("site", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(48), primary_key=True),
        sa.Column("ms", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("ticket", sa.String(32)),
        sa.Column("service", sa.String(32)),
        sa.Column("counter", sa.Integer),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_events_site_day", "events", ["site", "day"])
    op.create_index("ix_events_site_ms", "events", ["site", "ms"])
    op.create_table(
        "visits",
        sa.Column("site", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("priority", sa.String(32), nullable=False),
        sa.Column("issued_ms", sa.BigInteger, nullable=False),
        sa.Column("first_call_ms", sa.BigInteger),
        sa.Column("first_counter", sa.Integer),
        sa.Column("recalls", sa.Integer, nullable=False),
        sa.Column("transfers", sa.Integer, nullable=False),
        sa.Column("final_service", sa.String(32), nullable=False),
        sa.Column("final_counter", sa.Integer),
        sa.Column("outcome", sa.String(16)),
        sa.Column("finished_ms", sa.BigInteger),
        sa.Column("officer", sa.String(128)),
    )
    op.create_index("ix_visits_site_day", "visits", ["site", "day"])
    op.create_index("ix_visits_site_service_day", "visits", ["site", "service", "day"])
    op.create_index("ix_visits_site_tenant_day", "visits", ["site", "tenant", "day"])
    op.create_table(
        "legs",
        sa.Column("site", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("leg", sa.Integer, primary_key=True),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("enqueued_ms", sa.BigInteger, nullable=False),
        sa.Column("first_call_ms", sa.BigInteger),
        sa.Column("counter", sa.Integer),
        sa.Column("called_ms_at_counter", sa.BigInteger),
        sa.Column("outcome", sa.String(16)),
        sa.Column("finished_ms", sa.BigInteger),
    )
    op.create_index("ix_legs_site_day", "legs", ["site", "day"])
    op.create_index("ix_legs_site_service_day", "legs", ["site", "service", "day"])
    op.create_index("ix_legs_site_tenant_day", "legs", ["site", "tenant", "day"])
    op.create_index("ix_legs_site_counter_day", "legs", ["site", "counter", "day"])
    op.create_table(
        "archiver_state",
        sa.Column("site", sa.String(64), primary_key=True),
        sa.Column("last_event_id", sa.String(48), nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("closed_day", sa.String(10)),
        sa.Column("trimmed", sa.Boolean, nullable=False),
        sa.Column("alarm", sa.Text),
    )


def downgrade() -> None:
    for table in ("archiver_state", "legs", "visits", "events"):
        op.drop_table(table)
