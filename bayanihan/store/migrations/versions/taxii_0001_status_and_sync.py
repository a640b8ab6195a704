"""taxii: status resources, paging secret, sync cursors

Revision ID: taxii_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "taxii_0001"
down_revision = "core_0001"
branch_labels = ("taxii",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "taxii_status",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org", sa.String(length=32), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_status")),
    )
    op.create_index("ix_taxii_status_created_us", "taxii_status", ["created_us"])
    op.create_table(
        "taxii_secret",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_secret")),
    )
    op.create_table(
        "taxii_sync_cursor",
        sa.Column("remote", sa.String(length=1000), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("cursor", sa.String(length=64), nullable=False),
        sa.Column("objects", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("remote", "direction", name=op.f("pk_taxii_sync_cursor")),
    )


def downgrade() -> None:
    op.drop_table("taxii_sync_cursor")
    op.drop_table("taxii_secret")
    op.drop_index("ix_taxii_status_created_us", table_name="taxii_status")
    op.drop_table("taxii_status")
