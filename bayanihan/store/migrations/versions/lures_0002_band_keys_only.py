"""lure index: band rows keyed by (band_hash, lure_id) only

No band number, no foreign key, no index on lure_id: each was written for every band row
(42 per lure) and none is needed by a lookup. Rows are copied over.

Revision ID: lures_0002
Revises: lures_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lures_0002"
down_revision = "lures_0001"
branch_labels = None
depends_on = None


def _move_aside() -> None:
    """Rename the table (and, on PostgreSQL, its key, whose name is schema-wide)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE lure_band RENAME CONSTRAINT pk_lure_band TO pk_lure_band_old")
    op.rename_table("lure_band", "lure_band_old")


def upgrade() -> None:
    op.drop_index("ix_lure_band_lure_id", table_name="lure_band")
    _move_aside()
    op.create_table(
        "lure_band",
        sa.Column("band_hash", sa.BigInteger(), nullable=False),
        sa.Column("lure_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("band_hash", "lure_id", name=op.f("pk_lure_band")),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO lure_band (band_hash, lure_id) "
               "SELECT DISTINCT band_hash, lure_id FROM lure_band_old")
    op.drop_table("lure_band_old")


def downgrade() -> None:
    """Back to lures_0001. The band number is not recoverable from the key and is set to 0;
    the code of that revision never reads it."""
    _move_aside()
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
    op.execute("INSERT INTO lure_band (band_no, band_hash, lure_id) "
               "SELECT 0, band_hash, lure_id FROM lure_band_old")
    op.drop_table("lure_band_old")
    op.create_index("ix_lure_band_lure_id", "lure_band", ["lure_id"])
