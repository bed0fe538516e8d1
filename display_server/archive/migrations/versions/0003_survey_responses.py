"""survey_responses: the satisfaction survey's answers (SKM), one row per served ticket, written
from the `survey` events (display_server/archive/writing.py).

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("site", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("event_id", sa.String(48), nullable=False),
        sa.Column("ms", sa.BigInteger, nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("counter", sa.Integer),
        sa.Column("officer", sa.String(128)),
        sa.Column("via", sa.String(16), nullable=False),
        *(sa.Column(f"u{n}", sa.SmallInteger, nullable=False) for n in range(1, 10)),
        sa.Column("gender", sa.String(16)),
        sa.Column("age", sa.String(16)),
        sa.Column("education", sa.String(16)),
        sa.Column("occupation", sa.String(16)),
        sqlite_with_rowid=False,  # stored in key order: a range of days is read in one sweep
    )
    op.create_index("ux_survey_responses_site_event", "survey_responses", ["site", "event_id"],
                    unique=True)


def downgrade() -> None:
    op.drop_table("survey_responses")
