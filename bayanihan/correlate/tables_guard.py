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
=================  ==================================================================
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table, Text

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
