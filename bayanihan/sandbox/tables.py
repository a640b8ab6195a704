"""Sandbox tables in the hub database: suites (with their cases), runs (card and verdicts),
and publications of cards to members.

Cases and verdicts are kept as JSON Lines blobs: a suite or run is read and written whole,
never queried case by case, and the suite hash is checked on every load.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from bayanihan.store.schema import metadata

sandbox_suite = Table(
    "sandbox_suite",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("cases", Integer, nullable=False),
    Column("meta", Text, nullable=False),  # Suite.meta() as JSON
    Column("content", LargeBinary, nullable=False),  # the cases, JSON Lines
    Column("added_us", BigInteger, nullable=False),
    Column("added_by", String(64), nullable=True),  # org code; NULL for the console
)

sandbox_run = Table(
    "sandbox_run",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("suite_name", String(64), nullable=False),
    Column("suite_version", Integer, nullable=False),
    Column("suite_sha256", String(64), nullable=False),
    Column("tool_spec", Text, nullable=False),
    Column("tool_sha256", String(64), nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("grade", String(32), nullable=False),
    Column("started", String(40), nullable=False),
    Column("card", Text, nullable=False),  # the report card JSON
    Column("verdicts", LargeBinary, nullable=False),  # per-case verdicts, JSON Lines
    Column("stored_us", BigInteger, nullable=False),
    Column("stored_by", String(64), nullable=True),
    Index("ix_sandbox_run_started", "started"),
)

sandbox_publication = Table(
    "sandbox_publication",
    metadata,
    Column("object_id", String(200), primary_key=True),  # the STIX report's id
    Column("run_id", String(64), ForeignKey("sandbox_run.run_id"), nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("audience", Text, nullable=True),  # JSON list, NULL for the default audience
    Column("published_us", BigInteger, nullable=False),
    Column("published_by", String(64), nullable=True),
    Index("ix_sandbox_publication_run_id", "run_id"),
)
