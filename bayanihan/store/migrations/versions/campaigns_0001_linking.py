"""linking: linked reports, infrastructure values, links, decisions, campaigns, alerts, sightings

Revision ID: campaigns_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "campaigns_0001"
down_revision = "core_0001"
branch_labels = ("campaigns",)
depends_on = None

ID = sa.String(100)
BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "linked_report",
        sa.Column("report_id", ID, nullable=False),
        sa.Column("object_pk", sa.BigInteger(), nullable=False),
        sa.Column("author_org", sa.String(32), nullable=True),
        sa.Column("countries", sa.Text(), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("vector", sa.String(32), nullable=False),
        sa.Column("first_seen_us", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_us", sa.BigInteger(), nullable=False),
        sa.Column("correlated_us", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("report_id", name="pk_linked_report"),
    )
    op.create_index("ix_linked_report_campaign", "linked_report", ["campaign_id"])
    op.create_table(
        "infra_value",
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("value", sa.String(400), nullable=False),
        sa.Column("report_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "report_id", name="pk_infra_value"),
    )
    op.create_index("ix_infra_value_report", "infra_value", ["report_id"])
    op.create_table(
        "report_link",
        sa.Column("report_a", ID, nullable=False),
        sa.Column("report_b", ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("report_a", "report_b", "kind", name="pk_report_link"),
    )
    op.create_index("ix_report_link_b", "report_link", ["report_b"])
    op.create_table(
        "link_decision",
        sa.Column("report_a", ID, nullable=False),
        sa.Column("report_b", ID, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("actor_org", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("report_a", "report_b", name="pk_link_decision"),
    )
    op.create_index("ix_link_decision_b", "link_decision", ["report_b"])
    op.create_table(
        "campaigns",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("merged_into", ID, nullable=True),
        sa.Column("confirmed_by", sa.String(32), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
    )
    op.create_index("ix_campaigns_state_updated", "campaigns", ["state", "updated_us"])
    op.create_table(
        "regional_alert",
        sa.Column("pk", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("alert_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("recipient", sa.String(32), nullable=False),
        sa.Column("countries", sa.Text(), nullable=False),
        sa.Column("first_report", ID, nullable=False),
        sa.Column("trigger_report", ID, nullable=False),
        sa.Column("delivered_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_regional_alert"),
        sa.UniqueConstraint("alert_id", name="uq_regional_alert_alert_id"),
    )
    op.create_index("ix_regional_alert_recipient", "regional_alert", ["recipient", "pk"])
    op.create_index("ix_regional_alert_campaign", "regional_alert",
                    ["campaign_id", "recipient"])
    op.create_table(
        "indicator_sighting",
        sa.Column("sighting_id", ID, nullable=False),
        sa.Column("object_pk", sa.BigInteger(), nullable=False),
        sa.Column("indicator_id", ID, nullable=False),
        sa.Column("org", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("seen_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sighting_id", name="pk_indicator_sighting"),
    )
    op.create_index("ix_indicator_sighting_indicator", "indicator_sighting", ["indicator_id"])


def downgrade() -> None:
    for table in ("indicator_sighting", "regional_alert", "campaigns",
                  "link_decision", "report_link", "infra_value", "linked_report"):
        op.drop_table(table)
