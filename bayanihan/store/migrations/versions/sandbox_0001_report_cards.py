"""sandbox: suites, runs with their report cards, publications

Revision ID: sandbox_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sandbox_0001"
down_revision = "core_0001"
branch_labels = ("sandbox",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_suite",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("meta", sa.Text(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("added_us", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_sandbox_suite")),
    )
    op.create_table(
        "sandbox_run",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("suite_name", sa.String(length=64), nullable=False),
        sa.Column("suite_version", sa.Integer(), nullable=False),
        sa.Column("suite_sha256", sa.String(length=64), nullable=False),
        sa.Column("tool_spec", sa.Text(), nullable=False),
        sa.Column("tool_sha256", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("grade", sa.String(length=32), nullable=False),
        sa.Column("started", sa.String(length=40), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("verdicts", sa.LargeBinary(), nullable=False),
        sa.Column("stored_us", sa.BigInteger(), nullable=False),
        sa.Column("stored_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_sandbox_run")),
    )
    op.create_index("ix_sandbox_run_started", "sandbox_run", ["started"])
    op.create_table(
        "sandbox_publication",
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.Text(), nullable=True),
        sa.Column("published_us", sa.BigInteger(), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["sandbox_run.run_id"],
                                name=op.f("fk_sandbox_publication_run_id_sandbox_run")),
        sa.PrimaryKeyConstraint("object_id", name=op.f("pk_sandbox_publication")),
    )
    op.create_index("ix_sandbox_publication_run_id", "sandbox_publication", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_sandbox_publication_run_id", table_name="sandbox_publication")
    op.drop_table("sandbox_publication")
    op.drop_index("ix_sandbox_run_started", table_name="sandbox_run")
    op.drop_table("sandbox_run")
    op.drop_table("sandbox_suite")
