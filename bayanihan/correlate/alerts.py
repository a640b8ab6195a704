"""Regional alerts: a campaign seen in a second member state, or reaching a new one.

Each member state not hit yet receives its own alert — a STIX ``report`` labelled
:data:`bayanihan.share.collections.ALERT_LABEL` (so the TAXII ``alerts`` collection serves
it), marked TLP:AMBER+STRICT for that member alone — built only from the campaign's reports
that member may see: the campaign, the member states hit so far and when, the languages
seen, and the indicators to block. A member alerted about some states is alerted again
only when the campaign reaches another. Every alert is recorded (first report, triggering
report, time delivered to the outbox) and announced as an ``alert`` event, which the stream
and webhooks deliver.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, and_, insert, or_, select

from bayanihan.correlate.campaign_graph import (
    Member,
    PairState,
    member_rows,
    operator_reader,
    pair_states,
    reader_view,
    readers,
    view_of,
)
from bayanihan.correlate.links import LinkRules
from bayanihan.correlate.tables_campaigns import campaigns, regional_alert
from bayanihan.model.members import MEMBER_STATES, OrgKind
from bayanihan.model.stix import format_ms, new_id, now_us
from bayanihan.model.tlp import TLP
from bayanihan.share.collections import ALERT_LABEL
from bayanihan.share.exports import export_links
from bayanihan.share.policy import Reader, visible
from bayanihan.store import organisations as orgs
from bayanihan.store.events import append_events
from bayanihan.store.objects import NewVersion, store_versions
from bayanihan.store.schema import stix_objects

__all__ = ["ALERT_LABEL", "confidence_of", "issue_alerts", "view_confidence"]

MAX_INDICATORS = 500


def confidence_of(states: dict[tuple[str, str], PairState], ids: Sequence[str]) -> int:
    """0-100: how surely every report of a view belongs (its weakest best link)."""
    best: dict[str, float] = dict.fromkeys(ids, 0.0)
    for (a, b), st in states.items():
        if st.state == "linked" and a in best and b in best:
            score = 1.0 if st.decision == "confirmed" else st.score
            best[a], best[b] = max(best[a], score), max(best[b], score)
    return round(100 * min(best.values())) if best else 0


def view_confidence(conn: Connection, ids: Sequence[str], rules: LinkRules) -> int:
    """:func:`confidence_of` the pairs inside ``ids``."""
    return confidence_of(pair_states(conn, ids, rules, within=True), ids)


def _spread(view: list[Member]) -> dict[str, Member]:
    """Member state -> the first report (by first seen) that shows the campaign there."""
    first: dict[str, Member] = {}
    for m in sorted(view, key=lambda m: (m.first_us, m.report_id)):
        for country in m.countries:
            first.setdefault(country, m)
    return first


def _alerted(conn: Connection, campaign_id: str, org: str) -> set[str]:
    """States the member was alerted about for this campaign (or campaigns merged into it)."""
    merged = select(campaigns.c.id).where(campaigns.c.merged_into == campaign_id)
    rows = conn.execute(select(regional_alert.c.countries).where(
        regional_alert.c.recipient == org,
        or_(regional_alert.c.campaign_id == campaign_id,
            regional_alert.c.campaign_id.in_(merged))))
    return {c for r in rows for c in orjson.loads(r.countries)}


def _indicators(conn: Connection, reader: Reader, report_ids: list[str]) -> list[str]:
    """Indicators the reader may see among those the reports refer to."""
    bodies = conn.execute(select(stix_objects.c.body).where(
        stix_objects.c.id.in_(report_ids), stix_objects.c.is_latest.is_(True))).scalars()
    refs = sorted({r for b in bodies for r in orjson.loads(b).get("object_refs", ())
                   if isinstance(r, str) and r.startswith("indicator--")})
    found: list[str] = []
    for start in range(0, len(refs), 400):
        found += conn.execute(select(stix_objects.c.id).where(and_(
            stix_objects.c.id.in_(refs[start:start + 400]), stix_objects.c.is_latest.is_(True),
            stix_objects.c.revoked.is_(False), visible(reader)))).scalars()
    return sorted(found)[:MAX_INDICATORS]


def _body(name: str, campaign_id: str, org: str, view: list[Member],
          spread: dict[str, Member], new: list[str], trigger: Member, indicators: list[str],
          identity: str, named: set[str]) -> dict[str, Any]:
    """The alert; it names only the reports in ``named`` (those the hub operator may read
    too, as the operator reads whatever the hub authors)."""
    stamp = format_ms(now_us())
    vectors = Counter(m.vector for m in view)
    languages = sorted({x for m in view for x in m.languages})
    hit = sorted(spread, key=lambda c: (spread[c].first_us, c))
    lines = [f"{MEMBER_STATES.get(c, (c,))[0]} ({c}) since {format_ms(spread[c].first_us)}"
             for c in hit]
    obj = {
        "type": "report", "spec_version": "2.1", "id": new_id("report"), "created": stamp,
        "modified": stamp, "created_by_ref": identity,
        "name": f"Regional alert: {name} now seen in {', '.join(new)} "
                f"({len(hit)} member states)",
        "description": "A campaign the hub linked across member states has reached "
                       f"{', '.join(new)}. Seen in: {'; '.join(lines)}. Languages: "
                       f"{', '.join(languages) or 'unknown'}. {len(indicators)} indicator(s) "
                       "to block are referenced.",
        "published": stamp, "report_types": ["campaign", "indicator"], "labels": [ALERT_LABEL],
        "object_refs": [campaign_id, *sorted(m.report_id for m in view if m.report_id in named),
                        *indicators],
        "object_marking_refs": [TLP.AMBER_STRICT.marking_id],
        "x_bayanihan_alert": {
            "campaign_ref": campaign_id, "recipient": org, "new_countries": new,
            "countries_hit": [_ref({"country": c, "first_seen": format_ms(spread[c].first_us)},
                                   "report_ref", spread[c].report_id, named) for c in hit],
            "indicator_count": len(indicators), "exports": export_links(campaign_id),
            "vector": vectors.most_common(1)[0][0], "languages": languages},
    }
    first = min(view, key=lambda m: (m.first_us, m.report_id)).report_id
    _ref(obj["x_bayanihan_alert"], "first_report_ref", first, named)
    _ref(obj["x_bayanihan_alert"], "trigger_report_ref", trigger.report_id, named)
    return obj


def _ref(into: dict[str, Any], key: str, report_id: str, named: set[str]) -> dict[str, Any]:
    if report_id in named:
        into[key] = report_id
    return into


def issue_alerts(conn: Connection, campaign_ids: Sequence[str], rules: LinkRules,
                 trigger: str | None = None,
                 known: dict[tuple[str, str], PairState] | None = None) -> list[str]:
    """Alert every member state not yet hit that may see the spread; returns the alert ids.

    ``known``: pair states read already in this transaction (every pair touching the
    campaigns' reports), so they are not read again."""
    issued: list[str] = []
    if not campaign_ids:
        return issued
    everyone = [r for r in readers(conn) if r.kind is OrgKind.MEMBER]
    identity = orgs.require(conn, orgs.HUB_CODE).identity_id
    operator = operator_reader(conn)
    for row in conn.execute(select(campaigns.c.id, campaigns.c.name).where(
            campaigns.c.id.in_(sorted(campaign_ids)), campaigns.c.state == "active")).all():
        members = member_rows(conn, campaign_ids=[row.id])
        ids = {m.report_id for m in members}
        states = ({k: v for k, v in known.items() if k[0] in ids and k[1] in ids}
                  if known is not None else pair_states(conn, ids, rules, within=True))
        named = {m.report_id for m in view_of(operator, members)}
        views: dict[frozenset[str], list[Member]] = {}  # readers who may see the same
        for reader in everyone:                         # reports share one view
            org = str(reader.org)
            seen = frozenset(m.report_id for m in view_of(reader, members))
            if seen not in views:
                views[seen] = reader_view(reader, members, states)
            view = views[seen]
            spread = _spread(view)
            if len(view) < 2 or len(spread) < 2 or org in spread:
                continue
            new = sorted(set(spread) - _alerted(conn, row.id, org))
            if not new:
                continue
            bringers = [spread[c] for c in new]
            pick = [m for m in bringers if m.report_id == trigger]
            cause = pick[0] if pick else max(bringers, key=lambda m: (m.first_us, m.report_id))
            indicators = _indicators(conn, reader, [m.report_id for m in view])
            body = _body(row.name, row.id, org, view, spread, new, cause, indicators, identity,
                         named)
            store_versions(conn, [NewVersion(body, author_org=orgs.HUB_CODE,
                                             tlp=TLP.AMBER_STRICT, audience=[org])])
            at = now_us()
            first = min(view, key=lambda m: (m.first_us, m.report_id)).report_id
            conn.execute(insert(regional_alert).values(
                alert_id=body["id"], campaign_id=row.id, recipient=org,
                countries=orjson.dumps(sorted(spread)).decode(), first_report=first,
                trigger_report=cause.report_id, delivered_us=at))
            props = body["x_bayanihan_alert"]
            append_events(conn, [{
                "kind": "alert", "object_id": body["id"], "author_org": orgs.HUB_CODE,
                "tlp": TLP.AMBER_STRICT.value, "audience": [org],
                "payload": {"id": body["id"], "campaign": row.id, "vector": props["vector"],
                            "countries": sorted(spread), "new_countries": new,
                            "languages": props.get("languages", []),
                            "confidence": confidence_of(states,
                                                        [m.report_id for m in view]),
                            "indicators": len(indicators), "exports": props["exports"]}}])
            issued.append(body["id"])
    return issued
