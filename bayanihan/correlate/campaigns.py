"""Campaigns: linked reports kept together, published as STIX ``campaign`` objects.

:func:`correlate_report` is the entry point after a report is stored: it indexes the report
(:mod:`.report_links`), stores its links, recomputes the components of the link graph it
touches (:mod:`.campaign_graph`), keeps campaign ids stable (the campaign holding most of a
component keeps its id; others are merged into it), publishes what changed, and issues the
regional alerts (:mod:`.alerts`), all in the caller's write transaction.

A report correlated for the first time usually takes the incremental path
(:mod:`.campaign_growth`: cost set by its own links, not by the campaign's size);
:func:`recluster` is the full recomputation every other change goes through. Publishing as
STIX is :mod:`.campaign_publish`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import orjson
from sqlalchemy import Connection, delete, insert, select, update

from bayanihan.correlate import alerts
from bayanihan.correlate.campaign_graph import Reclustered, components
from bayanihan.correlate.campaign_growth import describe, grow, new_campaign
from bayanihan.correlate.campaign_publish import hub_identity, publish
from bayanihan.correlate.links import Link, LinkRules, load_rules
from bayanihan.correlate.report_links import (
    MediaPrint,
    ReportFacts,
    fingerprint_media,
    gather_links,
    load_report,
    stored_media,
)
from bayanihan.correlate.tables_campaigns import campaigns, linked_report, report_link
from bayanihan.model.stix import now_us
from bayanihan.model.timing import Stages
from bayanihan.store import audit
from bayanihan.store import organisations as orgs
from bayanihan.store.schema import stix_objects

if TYPE_CHECKING:
    from bayanihan.hub import Hub

__all__ = ["Correlation", "Reclustered", "correlate_report", "hub_identity", "link_report",
           "publish", "recluster", "rules_for"]

log = logging.getLogger("bayanihan.correlate")


@dataclass
class Correlation:
    """What correlating one report did."""

    report_id: str
    links: list[Link] = field(default_factory=list)
    common: list[tuple[str, str]] = field(default_factory=list)
    campaign_id: str | None = None
    alerts: list[str] = field(default_factory=list)


def _save_report(conn: Connection, facts: ReportFacts) -> bool:
    """Record the report as seen by the linker; whether it is the first time."""
    values = {"object_pk": facts.object_pk, "author_org": facts.author_org,
              "countries": orjson.dumps(facts.countries).decode(),
              "languages": orjson.dumps(facts.languages).decode(), "vector": facts.vector[:32],
              "first_seen_us": facts.first_us, "last_seen_us": facts.last_us,
              "correlated_us": now_us()}
    done = conn.execute(update(linked_report).where(
        linked_report.c.report_id == facts.report_id).values(**values))
    if done.rowcount:
        return False
    conn.execute(insert(linked_report).values(report_id=facts.report_id, **values))
    return True


def _save_links(conn: Connection, links: Sequence[Link]) -> None:
    """Store links; a pair and kind found again gets the new score and evidence."""
    at = now_us()
    for link in links:
        conn.execute(delete(report_link).where(
            report_link.c.report_a == link.report_a, report_link.c.report_b == link.report_b,
            report_link.c.kind == link.kind))
    if links:
        conn.execute(insert(report_link), [
            {"report_a": x.report_a, "report_b": x.report_b, "kind": x.kind, "score": x.score,
             "evidence": orjson.dumps(x.evidence()).decode(), "created_us": at} for x in links])


def correlate_report(conn: Connection, report_id: str, media: Sequence[MediaPrint] = (),
                     rules: LinkRules | None = None, embeddings: bool = False,
                     stages: Stages | None = None) -> Correlation:
    """Link a stored report to the others, update campaigns, publish, alert (one write txn).

    Idempotent: correlating a report again finds the same links and issues no new alert.
    Reports without the AI-threat extension are left alone. ``stages`` collects the time
    of the link, campaign and alert steps.
    """
    rules = rules or load_rules()
    stages = stages if stages is not None else Stages()
    with stages.stage("link"):
        facts = load_report(conn, report_id)
        if facts is None:
            return Correlation(report_id)
        first = _save_report(conn, facts)
        links, common = gather_links(conn, facts, rules, media, embeddings=embeddings)
        _save_links(conn, links)
    with stages.stage("campaign"):
        done = (grow(conn, report_id, rules) if first else None) or recluster(
            conn, [report_id], rules)
    with stages.stage("alert"):
        issued = alerts.issue_alerts(conn, [c for c in done.changed if c not in done.quiet],
                                     rules, trigger=report_id,
                                     known=done.states if done.complete else None)
    campaign_id = conn.execute(select(linked_report.c.campaign_id).where(
        linked_report.c.report_id == report_id)).scalar()
    audit.record(conn, audit.Actor.console(), "campaign.correlate",
                 [report_id, *sorted(done.changed)],
                 {"links": len(links), "campaign": campaign_id, "alerts": len(issued),
                  "common_values": [f"{k}:{v}" for k, v in common][:20]})
    return Correlation(report_id, links, common, campaign_id, issued)


def recluster(conn: Connection, seeds: Sequence[str], rules: LinkRules,
              keep: Sequence[str] = ()) -> Reclustered:
    """Recompute the campaigns around ``seeds`` and publish what changed.

    A campaign keeps its id in the component holding most of its reports; on a tie, in the
    one holding a report of ``keep`` (what a split leaves), else the earliest report.
    """
    comps, known, states = components(conn, seeds, rules)
    old: dict[str, str | None] = {}
    first: dict[str, int] = {}
    for start in range(0, len(known), 400):
        chunk = sorted(known)[start:start + 400]
        for rid, cid, seen in conn.execute(select(
                linked_report.c.report_id, linked_report.c.campaign_id,
                linked_report.c.first_seen_us).where(linked_report.c.report_id.in_(chunk))):
            old[rid], first[rid] = cid, seen
    kept = set(keep)
    created = dict(conn.execute(select(campaigns.c.id, campaigns.c.created_us).where(
        campaigns.c.id.in_({c for c in old.values() if c}))).all())
    assign: dict[str, str | None] = {r: None for r in known}
    taken: set[str] = set()
    order = sorted((c for c in comps if len(c) >= 2), key=lambda c: (
        -len(c), not c & kept, min(first.get(r, 0) for r in c), min(c)))
    for comp in order:
        votes = Counter(c for r in comp if (c := old.get(r)) and c not in taken)
        ranked = sorted(votes, key=lambda c: (-votes[c], created.get(c, 0), c))
        cid = ranked[0] if ranked else new_campaign(conn)
        taken.add(cid)
        assign.update({r: cid for r in comp})
    out = Reclustered(campaign_of=assign, states=states)
    for report, cid in assign.items():
        before = old.get(report)
        if before == cid:
            continue
        conn.execute(update(linked_report).where(linked_report.c.report_id == report)
                     .values(campaign_id=cid))
        if cid:
            out.changed.setdefault(cid, (set(), set()))[0].add(report)
        if before:
            out.changed.setdefault(before, (set(), set()))[1].add(report)
    at = now_us()
    for cid, (_added, removed) in out.changed.items():
        if cid in taken:
            conn.execute(update(campaigns).where(campaigns.c.id == cid).values(
                state="active", merged_into=None, updated_us=at))
            continue
        went = {assign[r] for r in removed} - {None}
        merged = next(iter(went)) if len(went) == 1 else None
        conn.execute(update(campaigns).where(campaigns.c.id == cid).values(
            state="merged" if merged else "dissolved", merged_into=merged, updated_us=at))
    for cid, (added, removed) in out.changed.items():
        publish(conn, cid, removed, rules=rules, announce=bool(added), known=states)
    describe(conn, taken, states)
    return out


def media_of(uploads: Sequence[Any]) -> list[tuple[str, str | None, bytes]]:
    """(``sha256:<hex>``, kind, bytes) of uploaded media whose bytes are at hand."""
    return [(f"sha256:{u.hashes['SHA-256']}", u.kind, u.data) for u in uploads
            if getattr(u, "kind", "sample") != "sample" and getattr(u, "data", None)]


async def link_report(hub: Hub, report_id: str, uploads: Sequence[Any] = ()) -> Correlation:
    """Correlate a stored report: media fingerprinted outside the write, then one write.

    Never raises for the report's sake: the report is stored already; a failure is logged
    and the report stays uncorrelated until correlated again.
    """
    try:
        stored = await hub.db.read(stored_media, report_id)
        prints = await anyio.to_thread.run_sync(fingerprint_media, [*media_of(uploads), *stored])
        rules = rules_for(hub.settings)
        embeddings = bool(hub.settings.lure_embeddings)
        return await hub.db.write(correlate_report, report_id, prints, rules, embeddings)
    except Exception:  # the report is stored; linking must not turn that into an error
        log.exception("report %s could not be correlated", report_id)
        return Correlation(report_id)


def rules_for(settings: Any) -> LinkRules:
    """The link rules of a hub: the shipped ones, or the operator's ``linking_file``, with
    the hub's TLSH bands."""
    rules = load_rules(settings.linking_file or None)
    bands = (settings.tlsh_auto_link,
             settings.tlsh_review,
             settings.tlsh_never_above)
    return replace(rules, tlsh=bands) if bands != rules.tlsh else rules


def pending_reports(conn: Connection, limit: int = 500) -> list[str]:
    """Ids of stored AI-threat reports (latest versions) the linker has not seen yet."""
    from bayanihan.model.extension import EXTENSION_ID

    seen = select(linked_report.c.report_id).where(linked_report.c.report_id == stix_objects.c.id)
    return list(conn.execute(select(stix_objects.c.id).where(
        stix_objects.c.type == "report", stix_objects.c.is_latest.is_(True),
        stix_objects.c.revoked.is_(False), stix_objects.c.body.like(f'%"{EXTENSION_ID}"%'),
        stix_objects.c.author_org.is_distinct_from(orgs.HUB_CODE),
        ~seen.exists()).order_by(stix_objects.c.date_added).limit(limit)).scalars())
