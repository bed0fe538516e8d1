"""report_months: the visit report's tallies of a month whose every day is closed, kept so a
year's report reads twelve rows instead of a year of visits (display_server/reporting/months.py).

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "report_months",
        sa.Column("site", sa.String(64), primary_key=True),
        sa.Column("by", sa.String(16), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("computed_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_months")
