"""campaigns: what an incremental update needs — size, members' visibility, reach, best links

``campaigns`` gains ``size``, ``visibility`` (who may see every member, NULL when that
differs between members), and the member states, languages and vectors reached (JSON lists);
``linked_report`` gains ``best_score`` (the report's best link), indexed after the campaign
(replacing the campaign index) so a campaign's confidence is one index look-up. NULL
everywhere until a campaign is next recomputed: such a campaign takes the full path once
(see ``correlate/campaign_growth.py``).

Revision ID: campaigns_0002
Revises: campaigns_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "campaigns_0002"
down_revision = "campaigns_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("visibility", sa.String(64), nullable=True))
        batch.add_column(sa.Column("countries", sa.Text(), nullable=True))
        batch.add_column(sa.Column("languages", sa.Text(), nullable=True))
        batch.add_column(sa.Column("vectors", sa.Text(), nullable=True))
    with op.batch_alter_table("linked_report") as batch:
        batch.add_column(sa.Column("best_score", sa.Float(), nullable=True))
    op.drop_index("ix_linked_report_campaign", table_name="linked_report")  # now a prefix of:
    op.create_index("ix_linked_report_campaign_best", "linked_report",
                    ["campaign_id", "best_score"])


def downgrade() -> None:
    op.drop_index("ix_linked_report_campaign_best", table_name="linked_report")
    op.create_index("ix_linked_report_campaign", "linked_report", ["campaign_id"])
    with op.batch_alter_table("linked_report") as batch:
        batch.drop_column("best_score")
    with op.batch_alter_table("campaigns") as batch:
        for name in ("vectors", "languages", "countries", "visibility", "size"):
            batch.drop_column(name)
