"""The report index: one row per stored ``report`` version that carries the AI-threat
extension, and its facets (targeted countries, languages, techniques, sectors).

The index only finds; what a reader may see is decided by joining ``stix_objects`` on
``object_pk`` and applying :func:`bayanihan.share.policy.visible` there.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from bayanihan.store.schema import metadata

report_index = Table(
    "report_index",
    metadata,
    Column("object_pk", BigInteger, ForeignKey("stix_objects.pk", ondelete="CASCADE"),
           primary_key=True, autoincrement=False),
    Column("id", String(300), nullable=False),
    Column("vector", String(32), nullable=False),
    Column("channel", String(16), nullable=True),
    Column("first_seen_us", BigInteger, nullable=False),
    Column("last_seen_us", BigInteger, nullable=False),
    Column("title", String(300), nullable=False),
    Column("search_text", Text, nullable=False),  # case-folded title, narrative and lures
)
Index("ix_report_index_vector_last", report_index.c.vector, report_index.c.last_seen_us)
Index("ix_report_index_id", report_index.c.id)

#: (report version, facet, value): facet is country, language, technique or sector.
report_facets = Table(
    "report_facets",
    metadata,
    Column("object_pk", BigInteger, ForeignKey("report_index.object_pk", ondelete="CASCADE"),
           primary_key=True, autoincrement=False),
    Column("facet", String(16), primary_key=True),
    Column("value", String(40), primary_key=True),
)
Index("ix_report_facets_value", report_facets.c.facet, report_facets.c.value,
      report_facets.c.object_pk)
