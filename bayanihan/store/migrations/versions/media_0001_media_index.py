"""media index: perceptual fingerprints of images, video frames and audio

Revision ID: media_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "media_0001"
down_revision = "core_0001"
branch_labels = ("media",)
depends_on = None

BigKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "media_items",
        sa.Column("pk", BigKey, primary_key=True, autoincrement=True),
        sa.Column("media_ref", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("frames", sa.Integer, nullable=False),
        sa.Column("duration", sa.Float, nullable=True),
        sa.Column("pdq", sa.String(64), nullable=True),
        sa.Column("chromaprint", sa.LargeBinary, nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_media_items_ref", "media_items", ["media_ref"])
    op.create_index("ix_media_items_sha256", "media_items", ["sha256"])
    op.create_table(
        "media_hashes",
        sa.Column("pk", BigKey, primary_key=True, autoincrement=True),
        sa.Column("item_pk", sa.BigInteger, nullable=False),
        sa.Column("frame", sa.Integer, nullable=False),
        sa.Column("phash", sa.BigInteger, nullable=False),
        sa.Column("dhash", sa.BigInteger, nullable=False),
        sa.Column("phash_mirror", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_media_hashes_item", "media_hashes", ["item_pk"])
    op.create_table(
        "media_hash_bands",
        sa.Column("band", sa.SmallInteger, primary_key=True),
        sa.Column("key", sa.SmallInteger, primary_key=True),
        sa.Column("hash_pk", sa.BigInteger, primary_key=True),
    )
    op.create_table(
        "audio_keys",
        sa.Column("key", sa.BigInteger, nullable=False),
        sa.Column("item_pk", sa.BigInteger, nullable=False),
        sa.Column("pos", sa.Integer, nullable=False),
    )
    op.create_index("ix_audio_keys_key", "audio_keys", ["key"])


def downgrade() -> None:
    op.drop_table("audio_keys")
    op.drop_table("media_hash_bands")
    op.drop_table("media_hashes")
    op.drop_table("media_items")
