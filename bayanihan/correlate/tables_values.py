"""The value index behind the exports and the check API (created by migration
``exports_0001``).

=================  ==================================================================
table              one row per
=================  ==================================================================
indicator_value    (indicator version, kind, value) an equality pattern names: the value
                   as devices need it (A-label domain, canonical URL, IP or CIDR, E.164,
                   SHA-256, TLSH), its lookalike skeleton (domains), vector, confidence
indicator_report   (indicator, report that names it in ``object_refs``): campaigns and
                   countries of a value come through the report
export_mark        name -> position: how far the index has read ``stix_objects``
=================  ==================================================================

Who may see a value is never stored here: every read joins ``stix_objects`` on
``object_pk`` and applies :func:`bayanihan.share.policy.visible` (and ``is_latest``,
``revoked``) there.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from bayanihan.store.schema import metadata

indicator_value = Table(
    "indicator_value",
    metadata,
    Column("object_pk", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), primary_key=True),
    Column("value", String(2048), primary_key=True),
    Column("skeleton", String(300), nullable=True),  # domains: the TR39 lookalike skeleton
    Column("indicator_id", String(300), nullable=False),
    Column("vector", String(32), nullable=True),
    Column("confidence", Integer, nullable=False),  # the indicator's own (base) confidence
    Column("valid_from_us", BigInteger, nullable=False),
    Column("valid_until_us", BigInteger, nullable=True),
    Column("version_us", BigInteger, nullable=False),
)
# (kind, value) and what the plain lists and RPZ read beside them (migration exports_0002)
Index("ix_indicator_value_kind_value_cover", indicator_value.c.kind, indicator_value.c.value,
      indicator_value.c.object_pk, indicator_value.c.vector, indicator_value.c.confidence,
      indicator_value.c.valid_from_us, indicator_value.c.valid_until_us)
Index("ix_indicator_value_skeleton", indicator_value.c.skeleton)
Index("ix_indicator_value_indicator", indicator_value.c.indicator_id)

indicator_report = Table(
    "indicator_report",
    metadata,
    Column("indicator_id", String(300), primary_key=True),
    Column("report_id", String(300), primary_key=True),
)
Index("ix_indicator_report_report", indicator_report.c.report_id)

export_mark = Table(
    "export_mark",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("position", BigInteger, nullable=False),
)
