"""Provenance and order: objects held for a marking-definition, and sync refusals.

``held_objects`` keeps an object whose ``object_marking_refs`` name a marking-definition
the hub does not have yet (it may come later in a TAXII page or another request); the
object is stored, through the normal ingest checks, when the definition arrives.
``sync_refusals`` lists the objects a ``bayanihan sync pull`` could not store, with the
permanent reason, so ``sync status`` can show them and ``sync pull --retry`` try again.
The submitting key of each stored version is ``stix_objects.submitted_key`` (same branch).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from bayanihan.store.schema import BigKey, metadata

held_objects = Table(
    "held_objects",
    metadata,
    Column("pk", BigKey, primary_key=True, autoincrement=True),
    Column("object_id", String(300), nullable=False),
    Column("waiting_for", String(300), nullable=False),  # a marking-definition id not yet known
    Column("author_org", String(32), nullable=True),  # the submitting organisation
    Column("submitted_key", String(32), nullable=True),
    Column("audience", Text, nullable=True),  # JSON list, as in stix_objects
    Column("held_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
)
Index("ix_held_objects_waiting_for", held_objects.c.waiting_for)

sync_refusals = Table(
    "sync_refusals",
    metadata,
    Column("pk", BigKey, primary_key=True, autoincrement=True),
    Column("remote", String(1000), nullable=False),  # the remote collection's URL
    Column("object_id", String(300), nullable=True),
    Column("reason", Text, nullable=False),
    Column("refused_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),  # the object as the remote sent it
)
Index("ix_sync_refusals_remote", sync_refusals.c.remote, sync_refusals.c.pk)
