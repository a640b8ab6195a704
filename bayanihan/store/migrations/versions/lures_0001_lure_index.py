"""lure index: lures and their LSH bands

Revision ID: lures_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lures_0001"
down_revision = "core_0001"
branch_labels = ("lures",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lure",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("lure_ref", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("script", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lure")),
        sa.UniqueConstraint("lure_ref", name=op.f("uq_lure_lure_ref")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "lure_band",
        sa.Column("band_no", sa.SmallInteger(), nullable=False),
        sa.Column("band_hash", sa.BigInteger(), nullable=False),
        sa.Column("lure_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["lure_id"], ["lure.id"], name=op.f("fk_lure_band_lure_id_lure"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("band_hash", "band_no", "lure_id", name=op.f("pk_lure_band")),
        sqlite_with_rowid=False,
    )
    # Deleting a lure finds its bands through this index.
    op.create_index("ix_lure_band_lure_id", "lure_band", ["lure_id"])


def downgrade() -> None:
    op.drop_index("ix_lure_band_lure_id", table_name="lure_band")
    op.drop_table("lure_band")
    op.drop_table("lure")
