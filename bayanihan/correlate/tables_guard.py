"""Poisoning defences (created by migration ``guard_0001``).

=================  ==================================================================
table              one row per
=================  ==================================================================
key_quarantine     API key whose contributions are pulled out of exports and check
                   answers (the key is revoked at the same time)
protected_value    domain the operator protects besides the built-in list
                   (``protected_values.toml``); everything under it is protected too
guard_approval     (kind, value) of a protected value a hub admin released, once a second
                   organisation had confirmed it
held_link          link (``report_link`` row) or confirmed analyst decision
                   (``link_decision``) set aside because a report at one end was
                   submitted by a quarantined key (``guard_0002``); put back on release
held_campaign      (quarantined key, report): the campaign the report was in when the
                   key was quarantined, so the campaign lives on when it is released
write_rate         API key (SHA-256 of its header): its write token bucket, shared by
                   every server process on PostgreSQL (``bayanihan/api/ratelimit.py``)
=================  ==================================================================
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, String, Table, Text

from bayanihan.store.schema import metadata

key_quarantine = Table(
    "key_quarantine",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("org", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("by_org", String(32), nullable=True),
    Column("at_us", BigInteger, nullable=False),
)

protected_value = Table(
    "protected_value",
    metadata,
    Column("value", String(300), primary_key=True),  # a domain, lower-case A-label
    Column("by_org", String(32), nullable=True),
    Column("at_us", BigInteger, nullable=False),
)

guard_approval = Table(
    "guard_approval",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("value", String(2048), primary_key=True),
    Column("confirmed_by", Text, nullable=False),  # JSON list of organisation codes
    Column("by_org", String(32), nullable=True),
    Column("by_key", String(32), nullable=True),
    Column("at_us", BigInteger, nullable=False),
)

_ID = String(100)

held_link = Table(
    "held_link",
    metadata,
    Column("source", String(16), primary_key=True),  # report_link | link_decision
    Column("report_a", _ID, primary_key=True),
    Column("report_b", _ID, primary_key=True),
    Column("kind", String(32), primary_key=True),  # the link kind, or the decision
    Column("row", Text, nullable=False),  # JSON: the row as it was in its table
)
Index("ix_held_link_b", held_link.c.report_b)

held_campaign = Table(
    "held_campaign",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("report_id", _ID, primary_key=True),
    Column("campaign_id", _ID, nullable=False),
)

write_rate = Table(
    "write_rate",
    metadata,
    Column("bucket", String(64), primary_key=True),  # SHA-256 hex of the Authorization header
    Column("tokens", Float, nullable=False),
    Column("at_s", Float, nullable=False),  # the database's clock, seconds
    Column("ok", BigInteger, nullable=False),  # 1: the last request passed
)
