"""Tables of linking, campaigns, alerts and sightings (migrations ``campaigns_0001``, ``campaigns_0002``).

=====================  ==============================================================
table                  one row per
=====================  ==============================================================
linked_report          report the linker has seen: its latest version, member state(s),
                       languages, vector, times, and the campaign it belongs to
infra_value            (report, normalised observable): registered domain, URL, IP,
                       phone, wallet, sender
report_link            (report pair, link kind) with score and evidence (matched values)
link_decision          report pair an analyst confirmed or rejected (remembered)
campaigns              campaign: STIX id, state (active, merged, dissolved), confirmation,
                       and its shape (size, members' visibility, reach) for updates
regional_alert         (alert, recipient): campaign, first and triggering report, delivery
indicator_sighting     sighting a member posted: indicator, verdict, count, when
=====================  ==============================================================

Which reports a reader may see is never stored here: every read joins ``stix_objects`` on
``linked_report.object_pk`` and applies :func:`bayanihan.share.policy.visible`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, String, Table, Text

from bayanihan.store.schema import BigKey, metadata

_ID = String(100)

linked_report = Table(
    "linked_report",
    metadata,
    Column("report_id", _ID, primary_key=True),
    Column("object_pk", BigInteger, nullable=False),  # latest stored version
    Column("author_org", String(32), nullable=True),
    Column("countries", Text, nullable=False),  # JSON list: member states hit
    Column("languages", Text, nullable=False),  # JSON list
    Column("vector", String(32), nullable=False),
    Column("first_seen_us", BigInteger, nullable=False),
    Column("last_seen_us", BigInteger, nullable=False),
    Column("correlated_us", BigInteger, nullable=False),
    Column("campaign_id", _ID, nullable=True),
    Column("best_score", Float, nullable=True),  # its best link (campaign confidence = min)
)
Index("ix_linked_report_campaign_best", linked_report.c.campaign_id, linked_report.c.best_score)

infra_value = Table(
    "infra_value",
    metadata,
    Column("kind", String(24), primary_key=True),
    Column("value", String(400), primary_key=True),
    Column("report_id", _ID, primary_key=True),
)
Index("ix_infra_value_report", infra_value.c.report_id)

report_link = Table(
    "report_link",
    metadata,
    Column("report_a", _ID, primary_key=True),  # report_a < report_b
    Column("report_b", _ID, primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("score", Float, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON: {"values": [...], "detail": "..."}
    Column("created_us", BigInteger, nullable=False),
)
Index("ix_report_link_b", report_link.c.report_b)

link_decision = Table(
    "link_decision",
    metadata,
    Column("report_a", _ID, primary_key=True),
    Column("report_b", _ID, primary_key=True),
    Column("decision", String(16), nullable=False),  # confirmed | rejected
    Column("actor_org", String(32), nullable=True),
    Column("reason", Text, nullable=False),
    Column("at_us", BigInteger, nullable=False),
)
Index("ix_link_decision_b", link_decision.c.report_b)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", _ID, primary_key=True),  # the STIX campaign id
    Column("name", String(200), nullable=False),
    Column("state", String(16), nullable=False),  # active | merged | dissolved
    Column("merged_into", _ID, nullable=True),
    Column("confirmed_by", String(32), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    # kept for incremental updates (campaign_growth); NULL until first recomputed
    Column("size", BigInteger, nullable=True),
    Column("visibility", String(64), nullable=True),  # who may see every member; NULL: mixed
    Column("countries", Text, nullable=True),  # JSON lists of what the members reached
    Column("languages", Text, nullable=True),
    Column("vectors", Text, nullable=True),
)
Index("ix_campaigns_state_updated", campaigns.c.state, campaigns.c.updated_us)

regional_alert = Table(
    "regional_alert",
    metadata,
    Column("pk", BigKey, primary_key=True, autoincrement=True),
    Column("alert_id", _ID, nullable=False, unique=True),  # the STIX report id
    Column("campaign_id", _ID, nullable=False),
    Column("recipient", String(32), nullable=False),
    Column("countries", Text, nullable=False),  # JSON list, as the recipient may see them
    Column("first_report", _ID, nullable=False),
    Column("trigger_report", _ID, nullable=False),
    Column("delivered_us", BigInteger, nullable=False),
)
Index("ix_regional_alert_recipient", regional_alert.c.recipient, regional_alert.c.pk)
Index("ix_regional_alert_campaign", regional_alert.c.campaign_id, regional_alert.c.recipient)

indicator_sighting = Table(
    "indicator_sighting",
    metadata,
    Column("sighting_id", _ID, primary_key=True),
    Column("object_pk", BigInteger, nullable=False),  # the stored sighting (its TLP decides)
    Column("indicator_id", _ID, nullable=False),
    Column("org", String(32), nullable=False),
    Column("verdict", String(16), nullable=False),  # seen | false-positive
    Column("count", BigInteger, nullable=False),
    Column("seen_us", BigInteger, nullable=False),  # last_seen of the sighting
)
Index("ix_indicator_sighting_indicator", indicator_sighting.c.indicator_id)
