"""report index: reports by vector, channel, time, text, and their facets

Revision ID: reports_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "reports_0001"
down_revision = "core_0001"
branch_labels = ("reports",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_index",
        sa.Column("object_pk", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(length=300), nullable=False),
        sa.Column("vector", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("first_seen_us", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_us", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["object_pk"], ["stix_objects.pk"],
                                name=op.f("fk_report_index_object_pk_stix_objects"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("object_pk", name=op.f("pk_report_index")),
    )
    op.create_index("ix_report_index_vector_last", "report_index", ["vector", "last_seen_us"])
    op.create_index("ix_report_index_id", "report_index", ["id"])
    op.create_table(
        "report_facets",
        sa.Column("object_pk", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["object_pk"], ["report_index.object_pk"],
                                name=op.f("fk_report_facets_object_pk_report_index"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("object_pk", "facet", "value", name=op.f("pk_report_facets")),
    )
    op.create_index("ix_report_facets_value", "report_facets", ["facet", "value", "object_pk"])


def downgrade() -> None:
    op.drop_index("ix_report_facets_value", table_name="report_facets")
    op.drop_table("report_facets")
    op.drop_index("ix_report_index_id", table_name="report_index")
    op.drop_index("ix_report_index_vector_last", table_name="report_index")
    op.drop_table("report_index")
