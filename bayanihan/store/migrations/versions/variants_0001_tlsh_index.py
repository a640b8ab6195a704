"""TLSH variant index: variant_digest (digest, log-length, 16 band keys) and variant_object.

Revision ID: variants_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "variants_0001"
down_revision = "core_0001"
branch_labels = ("variants",)
depends_on = None

# Fixed here on purpose: a migration must not change when the application code does.
KEY_COLUMNS = tuple(f"k{i:02d}" for i in range(16))
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "variant_digest",
        sa.Column("id", ID, autoincrement=True),
        sa.Column("digest", sa.LargeBinary(35), nullable=False),
        sa.Column("lvalue", sa.SmallInteger(), nullable=False),
        *(sa.Column(name, sa.SmallInteger(), nullable=False) for name in KEY_COLUMNS),
        sa.PrimaryKeyConstraint("id", name="pk_variant_digest"),
        sa.UniqueConstraint("digest", name="uq_variant_digest_digest"),
    )
    for name in KEY_COLUMNS:
        op.create_index(f"ix_variant_digest_{name}", "variant_digest", [name, "lvalue"])
    op.create_table(
        "variant_object",
        sa.Column("object_ref", sa.String(255), nullable=False),
        sa.Column("digest_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("object_ref", name="pk_variant_object"),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["variant_digest.id"],
            name="fk_variant_object_digest_id_variant_digest",
        ),
    )
    op.create_index("ix_variant_object_digest_id", "variant_object", ["digest_id"])


def downgrade() -> None:
    op.drop_table("variant_object")
    op.drop_table("variant_digest")
