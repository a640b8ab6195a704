"""Tables of message intake (created by migration ``messages_0001``).

=================  ==================================================================
table              one row per
=================  ==================================================================
message_raw        message as received (kept ``message_retention_days``, then purged)
message_cluster    lure: messages folded together (exact and near copies), per member
message_text       (member, normalised text hash): exact copies find their cluster
message_band       LSH band key of a cluster's MinHash (member mixed into the key)
message_link       (cluster, report): a known report the lure is linked to, and how
message_settings   member: thresholds and whether drafts are published at once
message_draft      report drafted from a cluster that crossed the member's threshold
=================  ==================================================================
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from bayanihan.store.schema import BigKey, metadata

_ORG = String(32)

message_raw = Table(
    "message_raw",
    metadata,
    Column("id", BigKey, primary_key=True, autoincrement=True),
    Column("member", _ORG, nullable=False),  # whose cluster it joined
    Column("submitted_by", _ORG, nullable=False),  # the member or its downstream organisation
    Column("cluster_id", BigInteger, nullable=False),
    Column("received_us", BigInteger, nullable=False),
    Column("stored_us", BigInteger, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("sender", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("reporter_ref", String(200), nullable=True),
    Column("text", Text, nullable=False),
)
Index("ix_message_raw_stored", message_raw.c.stored_us)
Index("ix_message_raw_cluster", message_raw.c.cluster_id)

message_cluster = Table(
    "message_cluster",
    metadata,
    Column("id", BigKey, primary_key=True, autoincrement=True),
    Column("member", _ORG, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("sample", Text, nullable=False),  # first message, recipient masked
    Column("signature", LargeBinary, nullable=True),  # MinHash (NULL: no shingles)
    Column("count", BigInteger, nullable=False),
    Column("first_us", BigInteger, nullable=False),
    Column("last_us", BigInteger, nullable=False),
    Column("senders", Text, nullable=False),  # JSON list, first MAX_SENDERS
    Column("countries", Text, nullable=False),  # JSON list
    Column("observables", Text, nullable=False),  # JSON list of [kind, value], capped
    Column("updated_us", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)
Index("ix_message_cluster_member", message_cluster.c.member, message_cluster.c.last_us)

message_text = Table(
    "message_text",
    metadata,
    Column("member", _ORG, nullable=False),
    Column("text_hash", LargeBinary(16), nullable=False),
    Column("cluster_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("member", "text_hash"),
    sqlite_with_rowid=False,
)

message_band = Table(
    "message_band",
    metadata,
    Column("band_hash", BigInteger, nullable=False),
    Column("cluster_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("band_hash", "cluster_id"),
    sqlite_with_rowid=False,
)

message_link = Table(
    "message_link",
    metadata,
    Column("cluster_id", BigInteger, nullable=False),
    Column("report_id", String(100), nullable=False),
    Column("kind", String(32), nullable=False),  # lure-text | infrastructure
    Column("score", Float, nullable=False),
    Column("evidence", Text, nullable=False),
    PrimaryKeyConstraint("cluster_id", "report_id", "kind"),
)
Index("ix_message_link_report", message_link.c.report_id)

message_settings = Table(
    "message_settings",
    metadata,
    Column("member", _ORG, primary_key=True),
    Column("min_count", Integer, nullable=False),
    Column("min_senders", Integer, nullable=False),
    Column("min_countries", Integer, nullable=False),
    Column("auto_publish", Boolean, nullable=False),
    Column("publish_tlp", String(16), nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

message_draft = Table(
    "message_draft",
    metadata,
    Column("id", BigKey, primary_key=True, autoincrement=True),
    Column("member", _ORG, nullable=False),
    Column("cluster_id", BigInteger, nullable=False, unique=True),
    Column("status", String(16), nullable=False),  # draft | queued | published
    Column("report", Text, nullable=False),  # JSON: the body POST /api/v1/reports takes
    Column("report_id", String(100), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("published_us", BigInteger, nullable=True),
)
Index("ix_message_draft_member", message_draft.c.member, message_draft.c.status)
