"""export index: indicator_value (kind, value, skeleton per indicator version), export_mark

Revision ID: exports_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "exports_0001"
down_revision = "core_0001"
branch_labels = ("exports",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_value",
        sa.Column("object_pk", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("skeleton", sa.String(length=300), nullable=True),
        sa.Column("indicator_id", sa.String(length=300), nullable=False),
        sa.Column("vector", sa.String(length=32), nullable=True),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("valid_from_us", sa.BigInteger(), nullable=False),
        sa.Column("valid_until_us", sa.BigInteger(), nullable=True),
        sa.Column("version_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("object_pk", "kind", "value", name="pk_indicator_value"),
    )
    op.create_index("ix_indicator_value_kind_value", "indicator_value", ["kind", "value"])
    op.create_index("ix_indicator_value_skeleton", "indicator_value", ["skeleton"])
    op.create_index("ix_indicator_value_indicator", "indicator_value", ["indicator_id"])
    op.create_table(
        "indicator_report",
        sa.Column("indicator_id", sa.String(length=300), nullable=False),
        sa.Column("report_id", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("indicator_id", "report_id", name="pk_indicator_report"),
    )
    op.create_index("ix_indicator_report_report", "indicator_report", ["report_id"])
    op.create_table(
        "export_mark",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_export_mark"),
    )


def downgrade() -> None:
    op.drop_table("export_mark")
    op.drop_table("indicator_report")
    op.drop_table("indicator_value")
