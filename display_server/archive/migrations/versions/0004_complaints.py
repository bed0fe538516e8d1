"""complaints, complaint_photos, complaint_notes: the suggestion and complaint desk
(display_server/complaints.py), its photos kept in the archive so its backup holds them, and the
office's actions on each complaint.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("tracking", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("contact", sa.String(100)),
        sa.Column("has_photo", sa.Boolean, nullable=False),
        sa.Column("ticket_day", sa.String(10)),
        sa.Column("ticket_code", sa.String(32)),
        sa.Column("tenant", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answer", sa.Text),
        sa.Column("assigned_ms", sa.BigInteger),
        sa.Column("answered_ms", sa.BigInteger),
        sa.Column("closed_ms", sa.BigInteger),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ux_complaints_site_tracking", "complaints", ["site", "tracking"],
                    unique=True)
    op.create_index("ix_complaints_site_day", "complaints", ["site", "day"])
    op.create_index("ix_complaints_site_status", "complaints", ["site", "status"])
    op.create_table(
        "complaint_photos",
        sa.Column("complaint_id", sa.Integer,
                  sa.ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "complaint_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("complaint_id", sa.Integer,
                  sa.ForeignKey("complaints.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_complaint_notes_complaint", "complaint_notes", ["complaint_id"])


def downgrade() -> None:
    op.drop_index("ix_complaint_notes_complaint", "complaint_notes")
    op.drop_table("complaint_notes")
    op.drop_table("complaint_photos")
    op.drop_index("ix_complaints_site_status", "complaints")
    op.drop_index("ix_complaints_site_day", "complaints")
    op.drop_index("ux_complaints_site_tracking", "complaints")
    op.drop_table("complaints")
