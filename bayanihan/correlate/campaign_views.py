"""Campaigns and alerts as one reader may see them.

A reader sees a campaign when it may see at least two of its reports; it then sees those
reports only, the links between them with their evidence, and countries, languages, vectors,
times and confidence derived from them alone (:mod:`.campaign_graph`). The same shapes go
to the API and the stream.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from bayanihan.correlate.alerts import confidence_of
from bayanihan.correlate.campaign_graph import (
    Member,
    PairState,
    member_rows,
    pair_states,
    pieces,
)
from bayanihan.correlate.links import LinkRules, load_rules
from bayanihan.correlate.tables_campaigns import campaigns, regional_alert, report_link
from bayanihan.model.stix import format_ms
from bayanihan.share.policy import Reader, visible
from bayanihan.store.schema import stix_objects

__all__ = ["CampaignFilter", "alerts_for", "campaign_detail", "list_campaigns", "visible_members"]


@dataclass(frozen=True)
class CampaignFilter:
    country: str | None = None
    vector: str | None = None
    since_us: int | None = None  # campaigns last seen at or after
    until_us: int | None = None  # campaigns first seen at or before
    limit: int = 100


def visible_members(conn: Connection, reader: Reader, campaign_ids: list[str] | None = None,
                    rules: LinkRules | None = None) -> dict[str, list[Member]]:
    """campaign id -> the reader's view of it (campaigns where that is two reports or more):
    the largest piece of the reports it may see that links between them join — a report it
    may not see never bridges two it may (``campaign_graph.reader_view``)."""
    cond = visible(reader)
    if campaign_ids is None:
        active = select(campaigns.c.id).where(campaigns.c.state == "active")
        rows = member_rows(conn, campaign_ids=list(conn.execute(active).scalars()), where=cond)
    else:
        rows = member_rows(conn, campaign_ids=campaign_ids, where=cond)
    out: dict[str, list[Member]] = defaultdict(list)
    for m in rows:
        if m.campaign_id:
            out[m.campaign_id].append(m)
    out = {cid: ms for cid, ms in out.items() if len(ms) >= 2}
    states = pair_states(conn, [m.report_id for ms in out.values() for m in ms],
                         rules or load_rules(), within=True)
    views = {cid: pieces(ms, states)[0] for cid, ms in out.items()}
    return {cid: ms for cid, ms in views.items() if len(ms) >= 2}


def _summary(row: Any, view: list[Member], states: dict[tuple[str, str], PairState],
             ) -> dict[str, Any]:
    first: dict[str, int] = {}
    for m in view:
        for c in m.countries:
            first[c] = min(first.get(c, m.first_us), m.first_us)
    return {
        "id": row.id, "name": row.name, "confirmed": row.confirmed_by is not None,
        "reports": len(view),
        "vectors": sorted({m.vector for m in view}),
        "countries": [{"country": c, "first_seen": format_ms(t)}
                      for c, t in sorted(first.items(), key=lambda x: (x[1], x[0]))],
        "languages": sorted({x for m in view for x in m.languages}),
        "first_seen": format_ms(min(m.first_us for m in view)),
        "last_seen": format_ms(max(m.last_us for m in view)),
        "confidence": confidence_of(states, [m.report_id for m in view]),
    }


def _matches(summary: dict[str, Any], view: list[Member], f: CampaignFilter) -> bool:
    if f.country and f.country not in {c for m in view for c in m.countries}:
        return False
    if f.vector and f.vector not in summary["vectors"]:
        return False
    if f.since_us is not None and max(m.last_us for m in view) < f.since_us:
        return False
    return not (f.until_us is not None and min(m.first_us for m in view) > f.until_us)


def list_campaigns(conn: Connection, reader: Reader, f: CampaignFilter, rules: LinkRules,
                   ) -> list[dict[str, Any]]:
    """Campaigns the reader may see, most recently active first."""
    views = visible_members(conn, reader, rules=rules)
    if not views:
        return []
    rows = conn.execute(select(campaigns).where(campaigns.c.id.in_(sorted(views)))).all()
    states = pair_states(conn, [m.report_id for v in views.values() for m in v], rules,
                         within=True)
    out = []
    for row in sorted(rows, key=lambda r: -max(m.last_us for m in views[r.id])):
        view = views[row.id]
        if not _matches({"vectors": sorted({m.vector for m in view})}, view, f):
            continue
        out.append(_summary(row, view, states))
        if len(out) >= f.limit:
            break
    return out


def campaign_detail(conn: Connection, reader: Reader, campaign_id: str, rules: LinkRules,
                    ) -> dict[str, Any] | None:
    """The campaign with its visible reports and the links (with evidence) between them."""
    row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).first()
    if row is None:
        return None
    if row.state == "merged" and row.merged_into:
        target = campaign_detail(conn, reader, row.merged_into, rules)
        return None if target is None else {**target, "merged_from": campaign_id}
    view = visible_members(conn, reader, [campaign_id], rules).get(campaign_id)
    if not view or row.state != "active":
        return None
    ids = [m.report_id for m in view]
    states = pair_states(conn, ids, rules, within=True)
    titles = dict(conn.execute(select(stix_objects.c.id, stix_objects.c.body).where(
        stix_objects.c.id.in_(ids), stix_objects.c.is_latest.is_(True))).all())
    reports = [{"id": m.report_id, "title": orjson.loads(titles[m.report_id]).get("name"),
                "author": m.author_org, "tlp": m.tlp, "countries": list(m.countries),
                "languages": list(m.languages), "vector": m.vector,
                "first_seen": format_ms(m.first_us)} for m in sorted(view, key=lambda m: m.first_us)]
    evidence: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for a, b, kind, score, ev in conn.execute(select(
            report_link.c.report_a, report_link.c.report_b, report_link.c.kind,
            report_link.c.score, report_link.c.evidence).where(
            report_link.c.report_a.in_(ids), report_link.c.report_b.in_(ids))):
        evidence[(a, b)].append({"kind": kind, "score": score, **orjson.loads(ev)})
    links = [{"reports": [a, b], "state": st.state, "score": round(st.score, 3),
              "decision": st.decision, "evidence": sorted(evidence.get((a, b), []),
                                                          key=lambda e: e["kind"])}
             for (a, b), st in sorted(states.items())
             if st.state != "none" or st.decision]
    stix = conn.execute(select(stix_objects.c.body).where(
        stix_objects.c.id == campaign_id, stix_objects.c.is_latest.is_(True),
        visible(reader))).scalar()
    return {**_summary(row, view, states), "report_list": reports, "links": links,
            "stix": orjson.loads(stix) if stix else None}


def alerts_for(conn: Connection, reader: Reader, after: int = 0, limit: int = 100,
               ) -> list[dict[str, Any]]:
    """Alerts the reader's organisation received, oldest first after position ``after``."""
    if not reader.org:
        return []
    rows = conn.execute(
        select(regional_alert, stix_objects.c.body)
        .join(stix_objects, stix_objects.c.id == regional_alert.c.alert_id)
        .where(regional_alert.c.recipient == reader.org, regional_alert.c.pk > after,
               stix_objects.c.is_latest.is_(True), visible(reader))
        .order_by(regional_alert.c.pk).limit(limit)).all()
    return [{"position": r.pk, "id": r.alert_id, "campaign": r.campaign_id,
             "countries": orjson.loads(r.countries), "first_report": r.first_report,
             "trigger_report": r.trigger_report, "delivered": format_ms(r.delivered_us),
             "alert": orjson.loads(r.body)} for r in rows]

