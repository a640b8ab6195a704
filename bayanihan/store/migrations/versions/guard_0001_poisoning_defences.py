"""poisoning defences: key_quarantine, protected_value, guard_approval

Revision ID: guard_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "guard_0001"
down_revision = "core_0001"
branch_labels = ("guard",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_quarantine",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("org", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_org", sa.String(length=32), nullable=True),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_key_quarantine")),
    )
    op.create_table(
        "protected_value",
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("by_org", sa.String(length=32), nullable=True),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("value", name=op.f("pk_protected_value")),
    )
    op.create_table(
        "guard_approval",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("confirmed_by", sa.Text(), nullable=False),
        sa.Column("by_org", sa.String(length=32), nullable=True),
        sa.Column("by_key", sa.String(length=32), nullable=True),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", name=op.f("pk_guard_approval")),
    )


def downgrade() -> None:
    op.drop_table("guard_approval")
    op.drop_table("protected_value")
    op.drop_table("key_quarantine")
