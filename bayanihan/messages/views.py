"""What a member reads back: its clusters (with the known reports they link to, as far as
the reader may see them) and its drafts. Raw messages are never served."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, select

from bayanihan.correlate.tables_campaigns import linked_report
from bayanihan.messages.tables import message_cluster, message_draft, message_link
from bayanihan.model.stix import format_ms
from bayanihan.store.schema import stix_objects


def _links(conn: Connection, ids: list[int],
           readable: ColumnElement[bool]) -> dict[int, list[dict[str, Any]]]:
    """Links of clusters to reports the reader may see, with each report's campaign."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return out
    seen = (select(stix_objects.c.id).where(stix_objects.c.type == "report",
                                            stix_objects.c.is_latest.is_(True), readable)
            .scalar_subquery())
    rows = conn.execute(
        select(message_link, linked_report.c.campaign_id)
        .outerjoin(linked_report, linked_report.c.report_id == message_link.c.report_id)
        .where(message_link.c.cluster_id.in_(ids), message_link.c.report_id.in_(seen))
        .order_by(message_link.c.cluster_id, message_link.c.report_id))
    for r in rows:
        out[r.cluster_id].append({"report": r.report_id, "kind": r.kind,
                                  "score": round(r.score, 3), "evidence": r.evidence,
                                  "campaign": r.campaign_id})
    return out


def list_clusters(conn: Connection, member: str, readable: ColumnElement[bool], *,
                  min_count: int = 1, limit: int = 100,
                  before: int | None = None) -> list[dict[str, Any]]:
    """The member's clusters, most recently seen first."""
    q = (select(message_cluster, message_draft.c.id.label("draft_id"),
                message_draft.c.status.label("draft_status"))
         .outerjoin(message_draft, message_draft.c.cluster_id == message_cluster.c.id)
         .where(message_cluster.c.member == member, message_cluster.c.count >= min_count)
         .order_by(message_cluster.c.id.desc()).limit(limit))
    if before is not None:
        q = q.where(message_cluster.c.id < before)
    rows = conn.execute(q).all()
    links = _links(conn, [r.id for r in rows], readable)
    return [{
        "id": r.id, "channel": r.channel, "sample": r.sample, "count": r.count,
        "first_seen": format_ms(r.first_us), "last_seen": format_ms(r.last_us),
        "senders": orjson.loads(r.senders), "countries": orjson.loads(r.countries),
        "observables": [{"kind": k, "value": v} for k, v in orjson.loads(r.observables)],
        "links": links.get(r.id, []),
        "draft": {"id": r.draft_id, "status": r.draft_status} if r.draft_id else None,
    } for r in rows]


def list_drafts(conn: Connection, member: str, status: str | None = None) -> list[dict[str, Any]]:
    q = select(message_draft).where(message_draft.c.member == member)
    if status:
        q = q.where(message_draft.c.status == status)
    return [{"id": r.id, "cluster": r.cluster_id, "status": r.status,
             "report": orjson.loads(r.report), "report_id": r.report_id,
             "created": format_ms(r.created_us),
             "published": format_ms(r.published_us) if r.published_us else None}
            for r in conn.execute(q.order_by(message_draft.c.id.desc()).limit(500))]
