"""quarantine reaches campaigns (held_link, held_campaign); a write limit shared by processes
(write_rate)

Revision ID: guard_0002
Revises: guard_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "guard_0002"
down_revision = "guard_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_link",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("report_a", sa.String(length=100), nullable=False),
        sa.Column("report_b", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("row", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("source", "report_a", "report_b", "kind",
                                name=op.f("pk_held_link")),
    )
    op.create_index("ix_held_link_b", "held_link", ["report_b"])
    op.create_table(
        "held_campaign",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("report_id", sa.String(length=100), nullable=False),
        sa.Column("campaign_id", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "report_id", name=op.f("pk_held_campaign")),
    )
    op.create_table(
        "write_rate",
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.Column("ok", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_write_rate")),
    )


def downgrade() -> None:
    op.drop_table("write_rate")
    op.drop_table("held_campaign")
    op.drop_index("ix_held_link_b", table_name="held_link")
    op.drop_table("held_link")
