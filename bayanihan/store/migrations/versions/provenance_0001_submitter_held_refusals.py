"""provenance: submitting key per version, objects held for a marking, sync refusals

Revision ID: provenance_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "provenance_0001"
down_revision = "core_0001"
branch_labels = ("provenance",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stix_objects") as batch:
        batch.add_column(sa.Column("submitted_key", sa.String(length=32), nullable=True))
    op.create_table(
        "held_objects",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("object_id", sa.String(length=300), nullable=False),
        sa.Column("waiting_for", sa.String(length=300), nullable=False),
        sa.Column("author_org", sa.String(length=32), nullable=True),
        sa.Column("submitted_key", sa.String(length=32), nullable=True),
        sa.Column("audience", sa.Text(), nullable=True),
        sa.Column("held_us", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_held_objects")),
    )
    op.create_index("ix_held_objects_waiting_for", "held_objects", ["waiting_for"])
    op.create_table(
        "sync_refusals",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("remote", sa.String(length=1000), nullable=False),
        sa.Column("object_id", sa.String(length=300), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("refused_us", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_sync_refusals")),
    )
    op.create_index("ix_sync_refusals_remote", "sync_refusals", ["remote", "pk"])


def downgrade() -> None:
    op.drop_index("ix_sync_refusals_remote", table_name="sync_refusals")
    op.drop_table("sync_refusals")
    op.drop_index("ix_held_objects_waiting_for", table_name="held_objects")
    op.drop_table("held_objects")
    with op.batch_alter_table("stix_objects") as batch:
        batch.drop_column("submitted_key")
