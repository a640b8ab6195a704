"""Tables of the lure index: one row per lure, one row per LSH band of each lure.

``lure_band`` is the index: its primary key ``(band_hash, lure_id)`` is a B-tree, so a query
looks up its own band keys and reads candidate lure ids from the index alone (on SQLite the
table is ``WITHOUT ROWID``: the key is the table). Band hashes mix in the band number. There
is deliberately no foreign key and no index on ``lure_id``: each would be written for every
band row; a lure's band rows are found again from its stored signature when it is removed.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
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
    Column("band_hash", BigInteger, nullable=False),
    Column("lure_id", BigInteger, nullable=False),  # lure.id
    PrimaryKeyConstraint("band_hash", "lure_id"),
    sqlite_with_rowid=False,
)
