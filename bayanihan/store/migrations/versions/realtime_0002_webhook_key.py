"""real-time: the API key that created each webhook (it stops when that key is revoked)

Revision ID: realtime_0002
Revises: realtime_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "realtime_0002"
down_revision = "realtime_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("key_id")
