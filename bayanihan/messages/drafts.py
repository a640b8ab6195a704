"""The report a cluster of reported messages becomes, and publishing it.

A draft is the plain JSON report ``POST /api/v1/reports`` takes, made only of what may be
shared: the cluster's sample text with the recipient masked (and names in salutations left
to the lure normaliser), the senders (the scammers' numbers and addresses), the link values
found in the text, counts, countries and times. Raw messages never go into it.
Publishing goes through the same report path as an analyst's report (stored, indexed,
linked, alerts), as the member organisation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Row, select, update

from bayanihan.errors import Conflict, NotFound
from bayanihan.ingest.bundles import Submitter
from bayanihan.ingest.reports import parse_report
from bayanihan.messages.tables import message_draft
from bayanihan.model.members import is_member_state
from bayanihan.model.stix import format_ms, now_us
from bayanihan.share.policy import Reader, visible
from bayanihan.store import organisations as orgs

if TYPE_CHECKING:
    from bayanihan.hub import Hub

_CHANNEL = {"sms": "sms", "email": "email", "chat": "chat", "voice": "voice"}
_SENDERS_IN_REPORT = 50


def draft_report(cluster: Row[Any], tlp: str) -> dict[str, Any]:
    """The report JSON for one cluster (row of ``message_cluster``)."""
    senders: list[str] = orjson.loads(cluster.senders)
    countries: list[str] = orjson.loads(cluster.countries)
    values = [v for _, v in orjson.loads(cluster.observables)]
    observables = list(dict.fromkeys(values + [s for s in senders[:_SENDERS_IN_REPORT]
                                               if s.startswith("+") or "@" in s]))
    report: dict[str, Any] = {
        "vector": "phishing",
        "channel": _CHANNEL[cluster.channel],
        "title": f"Reported {cluster.channel} lure: {cluster.count} messages from "
                 f"{len(senders)}{'+' if len(senders) >= 200 else ''} senders",
        "narrative": (f"{cluster.count} messages reported to the national reporting line of "
                      f"{cluster.member} between {format_ms(cluster.first_us)} and "
                      f"{format_ms(cluster.last_us)}, in {', '.join(countries)}. Senders: "
                      + ", ".join(senders[:_SENDERS_IN_REPORT])),
        "first_seen": format_ms(cluster.first_us),
        "last_seen": format_ms(cluster.last_us),
        "lures": [cluster.sample],
        "observables": observables,
        "countries": countries,
        "tlp": tlp,
    }
    if is_member_state(cluster.member):
        report["reporting_country"] = cluster.member
    return report


def _as_member(conn: Connection, member: str) -> tuple[Submitter, Reader]:
    org = orgs.require(conn, member)
    return (Submitter(org.code, org.identity_id, org.kind, None),
            Reader(org=org.code, kind=org.kind, role="analyst"))


def _take(conn: Connection, draft_id: int, member: str | None) -> tuple[str, Submitter, Reader]:
    row = conn.execute(select(message_draft).where(message_draft.c.id == draft_id)).first()
    if row is None or (member is not None and row.member != member):
        raise NotFound(f"no draft {draft_id} of yours", ["id"])
    if row.status == "published":
        raise Conflict(f"draft {draft_id} is already published as {row.report_id}", ["id"])
    return row.report, *_as_member(conn, row.member)


def _done(conn: Connection, draft_id: int, report_id: str) -> None:
    conn.execute(update(message_draft).where(message_draft.c.id == draft_id).values(
        status="published", report_id=report_id, published_us=now_us()))


async def publish(hub: Hub, draft_id: int, member: str | None = None) -> str:
    """Publish a draft through the report path; returns the new report's id."""
    from bayanihan import pipeline  # the report path: store, index, link, campaign, alert

    text, submitter, reader = await hub.db.read(_take, draft_id, member)
    done, _ = await pipeline.submit(hub, parse_report(orjson.loads(text)), submitter,
                                    visible(reader))
    await hub.db.write(_done, draft_id, done.report_id)
    return done.report_id


async def publish_queued(hub: Hub, member: str) -> list[str]:
    """Publish the member's drafts waiting for automatic publication (also any left by a
    crash between intake and publication)."""
    ids = await hub.db.read(lambda conn: [int(r[0]) for r in conn.execute(
        select(message_draft.c.id).where(message_draft.c.member == member,
                                         message_draft.c.status == "queued")
        .order_by(message_draft.c.id))])
    return [await publish(hub, i) for i in ids]
