"""message intake: raw messages, clusters (lures), their index, links, settings, drafts

Revision ID: messages_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "messages_0001"
down_revision = "core_0001"
branch_labels = ("messages",)
depends_on = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "message_raw",
        sa.Column("id", _KEY, primary_key=True, autoincrement=True),
        sa.Column("member", sa.String(32), nullable=False),
        sa.Column("submitted_by", sa.String(32), nullable=False),
        sa.Column("cluster_id", sa.BigInteger(), nullable=False),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
        sa.Column("stored_us", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("sender", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("reporter_ref", sa.String(200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_message_raw_stored", "message_raw", ["stored_us"])
    op.create_index("ix_message_raw_cluster", "message_raw", ["cluster_id"])
    op.create_table(
        "message_cluster",
        sa.Column("id", _KEY, primary_key=True, autoincrement=True),
        sa.Column("member", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("sample", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_us", sa.BigInteger(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.Column("senders", sa.Text(), nullable=False),
        sa.Column("countries", sa.Text(), nullable=False),
        sa.Column("observables", sa.Text(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_message_cluster_member", "message_cluster", ["member", "last_us"])
    op.create_table(
        "message_text",
        sa.Column("member", sa.String(32), nullable=False),
        sa.Column("text_hash", sa.LargeBinary(16), nullable=False),
        sa.Column("cluster_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("member", "text_hash", name=op.f("pk_message_text")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "message_band",
        sa.Column("band_hash", sa.BigInteger(), nullable=False),
        sa.Column("cluster_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("band_hash", "cluster_id", name=op.f("pk_message_band")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "message_link",
        sa.Column("cluster_id", sa.BigInteger(), nullable=False),
        sa.Column("report_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "report_id", "kind", name=op.f("pk_message_link")),
    )
    op.create_index("ix_message_link_report", "message_link", ["report_id"])
    op.create_table(
        "message_settings",
        sa.Column("member", sa.String(32), primary_key=True),
        sa.Column("min_count", sa.Integer(), nullable=False),
        sa.Column("min_senders", sa.Integer(), nullable=False),
        sa.Column("min_countries", sa.Integer(), nullable=False),
        sa.Column("auto_publish", sa.Boolean(), nullable=False),
        sa.Column("publish_tlp", sa.String(16), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "message_draft",
        sa.Column("id", _KEY, primary_key=True, autoincrement=True),
        sa.Column("member", sa.String(32), nullable=False),
        sa.Column("cluster_id", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("report_id", sa.String(100), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("published_us", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_message_draft_member", "message_draft", ["member", "status"])


def downgrade() -> None:
    for name in ("message_draft", "message_settings", "message_link", "message_band",
                 "message_text", "message_cluster", "message_raw"):
        op.drop_table(name)
