"""Tables of the real-time layer: webhook endpoints, their delivery queue, and marks.

``webhook_deliveries`` is the persistent queue: one row per (endpoint, event position)
still to deliver (``state`` ``pending``) or given up on (``dead``: the dead-letter list).
Delivered rows are deleted. ``realtime_marks`` holds small named values shared by every
process: how far the event log was pruned, and which process leads webhook delivery.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from bayanihan.store.schema import metadata

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("org", String(32), ForeignKey("organisations.code"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("secret", String(100), nullable=False),  # never logged, shown once at creation
    Column("filters", Text, nullable=False),  # JSON: share.stream.Filters.as_dict()
    Column("description", String(200), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("cursor", BigInteger, nullable=False),  # last event position queued for it
    Column("created_us", BigInteger, nullable=False),
    # the key that created it: the endpoint delivers only while that key is active
    Column("key_id", String(32), nullable=True),
)
Index("ix_webhook_endpoints_org", webhook_endpoints.c.org)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("endpoint_id", String(40), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
           primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("body", Text, nullable=False),  # the event JSON exactly as delivered
    Column("state", String(12), nullable=False),  # pending | dead
    Column("attempts", Integer, nullable=False),
    Column("next_us", BigInteger, nullable=False),
    Column("last_status", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("queued_us", BigInteger, nullable=False),
    Column("dead_us", BigInteger, nullable=True),
)
Index("ix_webhook_deliveries_state", webhook_deliveries.c.state, webhook_deliveries.c.next_us)

realtime_marks = Table(
    "realtime_marks",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("owner", String(80), nullable=True),
    Column("until_us", BigInteger, nullable=True),
)
