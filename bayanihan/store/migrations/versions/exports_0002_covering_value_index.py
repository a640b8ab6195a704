"""export index: (kind, value) index covering what the plain lists and RPZ read

Revision ID: exports_0002
Revises: exports_0001

The fast path of the plain lists and RPZ (``correlate/value_pages.py``) reads, per value,
``object_pk, vector, confidence, valid_from_us, valid_until_us`` beside ``kind, value``: with
them in the index, SQLite reads no table row of ``indicator_value`` and needs no sort for
the ``(value, object_pk)`` order (about a fifth less CPU per value, measured at 200k).
"""

from __future__ import annotations

from alembic import op

revision = "exports_0002"
down_revision = "exports_0001"
branch_labels = None
depends_on = None

_COVER = ["kind", "value", "object_pk", "vector", "confidence", "valid_from_us",
          "valid_until_us"]


def upgrade() -> None:
    op.create_index("ix_indicator_value_kind_value_cover", "indicator_value", _COVER)
    op.drop_index("ix_indicator_value_kind_value", table_name="indicator_value")


def downgrade() -> None:
    op.create_index("ix_indicator_value_kind_value", "indicator_value", ["kind", "value"])
    op.drop_index("ix_indicator_value_kind_value_cover", table_name="indicator_value")
