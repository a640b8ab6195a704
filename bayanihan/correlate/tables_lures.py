"""Tables of the lure index: one row per lure, one row per LSH band of each lure.

``lure_band`` is the index: its primary key ``(band_hash, band_no, lure_id)`` is a B-tree, so
a query looks up its own band keys and reads candidate lure ids from the index alone (on
SQLite the table is ``WITHOUT ROWID``: the key is the table). Band hashes mix in the band
number, so ``band_hash IN (...)`` is the lookup; ``band_no`` says which band a row is.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
)

from bayanihan.store.schema import metadata

lure = Table(
    "lure",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=True),
    Column("lure_ref", String(200), nullable=False, unique=True),
    Column("language", String(16), nullable=True),
    Column("script", String(16), nullable=False),
    Column("signature", LargeBinary, nullable=False),  # MinHash, uint32 little-endian
    Column("embedding", LargeBinary, nullable=True),  # int8 unit vector x 127, or NULL
    sqlite_autoincrement=True,  # ids never reused: embedding caches load "id > last seen"
)

lure_band = Table(
    "lure_band",
    metadata,
    Column("band_no", SmallInteger, nullable=False),
    Column("band_hash", BigInteger, nullable=False),
    Column("lure_id", BigInteger, ForeignKey("lure.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("band_hash", "band_no", "lure_id"),
    Index("ix_lure_band_lure_id", "lure_id"),
    sqlite_with_rowid=False,
)
