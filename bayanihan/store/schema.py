"""Database schema: every table the hub keeps, on one SQLAlchemy ``MetaData``.

Feature packages add their own tables to ``metadata`` in their own ``tables.py``;
migrations (Alembic, ``bayanihan/store/migrations``) create them.
"""

from __future__ import annotations

from sqlalchemy import MetaData

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

from sqlalchemy import (  # noqa: E402
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

#: Auto-incrementing 64-bit key that SQLite also accepts as its rowid alias.
BigKey = BigInteger().with_variant(Integer(), "sqlite")

organisations = Table(
    "organisations",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("parent", String(32), ForeignKey("organisations.code"), nullable=True),
    Column("identity_id", String(100), nullable=False, unique=True),
    Column("created_us", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("org", String(32), ForeignKey("organisations.code"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=True),
    Column("revoked_us", BigInteger, nullable=True),
    Column("last_used_us", BigInteger, nullable=True),
)

#: One row per object version, keyed by (id, version). ``body`` is the object's JSON as served.
stix_objects = Table(
    "stix_objects",
    metadata,
    Column("pk", BigKey, primary_key=True, autoincrement=True),
    Column("id", String(300), nullable=False),
    Column("type", String(250), nullable=False),
    Column("spec_version", String(10), nullable=False),
    Column("version", String(40), nullable=True),
    Column("version_us", BigInteger, nullable=False),
    Column("date_added", BigInteger, nullable=False),
    Column("author_org", String(32), nullable=True),
    Column("tlp", String(16), nullable=False),
    Column("audience", Text, nullable=True),  # JSON list of org codes; NULL: all members
    Column("is_latest", Boolean, nullable=False),
    Column("is_first", Boolean, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("body", Text, nullable=False),
    # the API key that submitted this version (migration branch ``provenance``)
    Column("submitted_key", String(32), nullable=True),
    UniqueConstraint("id", "version_us", name="uq_stix_objects_version"),
    UniqueConstraint("date_added", name="uq_stix_objects_date_added"),
)
Index("ix_stix_objects_type_added", stix_objects.c.type, stix_objects.c.date_added)
Index("ix_stix_objects_latest_added", stix_objects.c.is_latest, stix_objects.c.date_added)

#: Named recipients of an object (AMBER audience or RED recipients).
object_audience = Table(
    "object_audience",
    metadata,
    Column("object_pk", BigInteger, nullable=False, primary_key=True),
    Column("org", String(32), nullable=False, primary_key=True),
)
Index("ix_object_audience_org", object_audience.c.org, object_audience.c.object_pk)

#: The outbox: every change a member should hear about, in commit order.
events = Table(
    "events",
    metadata,
    Column("position", BigKey, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("object_id", String(300), nullable=True),
    Column("author_org", String(32), nullable=True),
    Column("tlp", String(16), nullable=False),
    Column("audience", Text, nullable=True),
    Column("payload", Text, nullable=False),
)

#: Append-only, hash-chained record of writes and admin actions.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigKey, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("actor_org", String(32), nullable=True),
    Column("actor_key", String(32), nullable=True),
    Column("action", String(60), nullable=False),
    Column("object_ids", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
