"""Tables of the TLSH variant index (created by migration ``variants_0001``).

``variant_digest`` holds each distinct digest once (35 bytes), its log-length and its 16 band
keys, each key with a B-tree index on ``(key, lvalue)`` so a query reads only the rows that
share a key and lie in the log-length window. ``variant_object`` maps the hub's objects (a
STIX ``file`` or sample id) to their digest.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
)

from bayanihan.correlate.tlsh_bands import DIGEST_BYTES, KEY_COUNT
from bayanihan.store.schema import metadata

KEY_COLUMNS = tuple(f"k{i:02d}" for i in range(KEY_COUNT))

# BIGINT on PostgreSQL; plain INTEGER on SQLite so the column is the rowid.
_ID = BigInteger().with_variant(Integer(), "sqlite")

variant_digest = Table(
    "variant_digest",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("digest", LargeBinary(DIGEST_BYTES), nullable=False, unique=True),
    Column("lvalue", SmallInteger, nullable=False),
    *(Column(name, SmallInteger, nullable=False) for name in KEY_COLUMNS),
)

for _name in KEY_COLUMNS:
    Index(f"ix_variant_digest_{_name}", variant_digest.c[_name], variant_digest.c.lvalue)

variant_object = Table(
    "variant_object",
    metadata,
    Column("object_ref", String(255), primary_key=True),
    Column("digest_id", _ID, ForeignKey("variant_digest.id"), nullable=False, index=True),
)
