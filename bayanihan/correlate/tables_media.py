"""Tables of the media index: fingerprints only, never the media itself."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, LargeBinary, SmallInteger, String, Table

from bayanihan.store.schema import BigKey, metadata

media_items = Table(
    "media_items",
    metadata,
    Column("pk", BigKey, primary_key=True, autoincrement=True),
    Column("media_ref", String(300), nullable=False),  # the STIX object the media belongs to
    Column("kind", String(8), nullable=False),  # image | video | audio
    Column("sha256", String(64), nullable=False),
    Column("frames", Integer, nullable=False),
    Column("duration", Float, nullable=True),
    Column("pdq", String(64), nullable=True),
    Column("chromaprint", LargeBinary, nullable=True),  # uint32 little-endian sub-fingerprints
    Column("created_us", BigInteger, nullable=False),
)
Index("ix_media_items_ref", media_items.c.media_ref)
Index("ix_media_items_sha256", media_items.c.sha256)

#: One row per image, or per second of video.
media_hashes = Table(
    "media_hashes",
    metadata,
    Column("pk", BigKey, primary_key=True, autoincrement=True),
    Column("item_pk", BigInteger, nullable=False),
    Column("frame", Integer, nullable=False),
    Column("phash", BigInteger, nullable=False),  # signed 64-bit form of the unsigned hash
    Column("dhash", BigInteger, nullable=False),
    Column("phash_mirror", BigInteger, nullable=False),
)
Index("ix_media_hashes_item", media_hashes.c.item_pk)

#: pHash split in eight bytes: two hashes within distance 7 share at least one (pigeonhole).
media_hash_bands = Table(
    "media_hash_bands",
    metadata,
    Column("band", SmallInteger, primary_key=True),
    Column("key", SmallInteger, primary_key=True),
    Column("hash_pk", BigInteger, primary_key=True),
)

#: Chromaprint sub-fingerprint values -> where they occur, for candidate voting.
audio_keys = Table(
    "audio_keys",
    metadata,
    Column("key", BigInteger, nullable=False),
    Column("item_pk", BigInteger, nullable=False),
    Column("pos", Integer, nullable=False),
)
Index("ix_audio_keys_key", audio_keys.c.key)
