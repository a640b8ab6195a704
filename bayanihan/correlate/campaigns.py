"""Campaigns: linked reports kept together, published as STIX ``campaign`` objects.

:func:`correlate_report` is the entry point after a report is stored: it indexes the report
(:mod:`.report_links`), stores its links, recomputes the components of the link graph it
touches (:mod:`.campaign_graph`), keeps campaign ids stable (the campaign holding most of a
component keeps its id; others are merged into it), publishes what changed, and issues the
regional alerts (:mod:`.alerts`), all in the caller's write transaction.

Published objects are authored by the hub: a ``campaign`` (name only — dates and countries
are derived per reader) and a ``related-to`` relationship from each member ``report`` to it.
Each carries the narrowest TLP that admits exactly the organisations that may see at least
two of the campaign's reports (and, for a relationship, that report): no organisation learns
of a link to a report it may not see.
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
from bayanihan.correlate.campaign_graph import (
    PairState,
    components,
    marking_for,
    member_rows,
    operator_reader,
    pair_states,
    readers,
    view_of,
    viewers,
)
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
from bayanihan.model.stix import format_ms, new_id, now_us, stable_id
from bayanihan.model.timing import Stages
from bayanihan.model.tlp import TLP
from bayanihan.share.policy import Reader
from bayanihan.store import audit
from bayanihan.store import organisations as orgs
from bayanihan.store.events import append_events
from bayanihan.store.objects import NewVersion, store_versions
from bayanihan.store.schema import stix_objects

if TYPE_CHECKING:
    from bayanihan.hub import Hub

__all__ = ["Correlation", "Reclustered", "correlate_report", "hub_identity", "link_report",
           "recluster", "rules_for"]

LINKED_LABEL = "bayanihan-linked"
log = logging.getLogger("bayanihan.correlate")


@dataclass
class Correlation:
    """What correlating one report did."""

    report_id: str
    links: list[Link] = field(default_factory=list)
    common: list[tuple[str, str]] = field(default_factory=list)
    campaign_id: str | None = None
    alerts: list[str] = field(default_factory=list)


@dataclass
class Reclustered:
    """Campaigns whose membership changed: id -> (reports added, reports removed)."""

    changed: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)
    campaign_of: dict[str, str | None] = field(default_factory=dict)
    #: states of every pair touching the reports visited (reused by publish and alerts)
    states: dict[tuple[str, str], PairState] = field(default_factory=dict)


def hub_identity(conn: Connection) -> str:
    return orgs.require(conn, orgs.HUB_CODE).identity_id


def _save_report(conn: Connection, facts: ReportFacts) -> None:
    values = {"object_pk": facts.object_pk, "author_org": facts.author_org,
              "countries": orjson.dumps(facts.countries).decode(),
              "languages": orjson.dumps(facts.languages).decode(), "vector": facts.vector[:32],
              "first_seen_us": facts.first_us, "last_seen_us": facts.last_us,
              "correlated_us": now_us()}
    done = conn.execute(update(linked_report).where(
        linked_report.c.report_id == facts.report_id).values(**values))
    if not done.rowcount:
        conn.execute(insert(linked_report).values(report_id=facts.report_id, **values))


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
        _save_report(conn, facts)
        links, common = gather_links(conn, facts, rules, media, embeddings=embeddings)
        _save_links(conn, links)
    with stages.stage("campaign"):
        done = recluster(conn, [report_id], rules)
    with stages.stage("alert"):
        issued = alerts.issue_alerts(conn, list(done.changed), rules, trigger=report_id,
                                     known=done.states)
    campaign_id = conn.execute(select(linked_report.c.campaign_id).where(
        linked_report.c.report_id == report_id)).scalar()
    audit.record(conn, audit.Actor.console(), "campaign.correlate",
                 [report_id, *sorted(done.changed)],
                 {"links": len(links), "campaign": campaign_id, "alerts": len(issued),
                  "common_values": [f"{k}:{v}" for k, v in common][:20]})
    return Correlation(report_id, links, common, campaign_id, issued)


def _new_campaign(conn: Connection) -> str:
    cid = new_id("campaign")
    at = now_us()
    name = f"Campaign {format_ms(at)[:10]} {cid.split('--', 1)[1][:8]}"
    conn.execute(insert(campaigns).values(id=cid, name=name, state="active", merged_into=None,
                                          confirmed_by=None, created_us=at, updated_us=at))
    return cid


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
        cid = ranked[0] if ranked else _new_campaign(conn)
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
    return out


# -- publishing --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Prior:
    """The latest stored version of a hub-made object."""

    body: dict[str, Any]
    version_us: int
    tlp: str
    audience: str | None


def _priors(conn: Connection, object_ids: Sequence[str]) -> dict[str, _Prior]:
    """Latest versions of ``object_ids``, read in a few ``IN`` queries (not one per id)."""
    out: dict[str, _Prior] = {}
    ids = sorted(set(object_ids))
    for start in range(0, len(ids), 400):
        for row in conn.execute(select(
                stix_objects.c.id, stix_objects.c.body, stix_objects.c.version_us,
                stix_objects.c.tlp, stix_objects.c.audience).where(
                stix_objects.c.id.in_(ids[start:start + 400]),
                stix_objects.c.is_latest.is_(True))):
            out[row.id] = _Prior(orjson.loads(row.body), row.version_us, row.tlp, row.audience)
    return out


def _store(conn: Connection, obj: dict[str, Any], mark: tuple[TLP, list[str] | None],
           identity: str, prior: _Prior | None) -> None:
    """Store a new version of a hub-made object (unless it would not change)."""
    tlp, audience = mark
    body = {**obj, "spec_version": "2.1", "created_by_ref": identity,
            "object_marking_refs": [tlp.marking_id]}
    if prior is not None:
        old = {k: v for k, v in prior.body.items() if k not in ("created", "modified")}
        if old == body and prior.audience == (orjson.dumps(audience).decode()
                                              if audience else None):
            return
    at = max(now_us(), prior.version_us + 1000) if prior else now_us()
    stamp = format_ms(at)
    body = {"type": body.pop("type"), "spec_version": "2.1", "id": body.pop("id"),
            "created": prior.body["created"] if prior else stamp, "modified": stamp, **body}
    store_versions(conn, [NewVersion(body, author_org=orgs.HUB_CODE, tlp=tlp,
                                     audience=audience)])


def _revoke(conn: Connection, identity: str, prior: _Prior | None) -> None:
    if prior is None or prior.body.get("revoked"):
        return
    obj = {k: v for k, v in prior.body.items() if k not in ("created", "modified",
                                                            "object_marking_refs")}
    _store(conn, {**obj, "revoked": True},
           (TLP(prior.tlp), orjson.loads(prior.audience) if prior.audience else None),
           identity, prior)


def relationship_id(campaign_id: str, report_id: str) -> str:
    return stable_id("relationship", f"{campaign_id}|{report_id}")


def publish(conn: Connection, campaign_id: str, removed: set[str] = frozenset(),  # type: ignore[assignment]
            *, rules: LinkRules, announce: bool = False,
            known: dict[tuple[str, str], PairState] | None = None) -> None:
    """Store the campaign and its relationships as they now are; with ``announce``,
    announce the campaign's new shape on the stream.

    Everything the hub authors is readable by hub-operator keys (they read by authorship),
    so a relationship is published only for a report the operator may read too: a RED or
    AMBER+STRICT report's membership is shown to its readers by the API, never as STIX.
    """
    identity = hub_identity(conn)
    row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).one()
    everyone = readers(conn)
    members = member_rows(conn, campaign_ids=[campaign_id]) if row.state == "active" else []
    ids = {m.report_id for m in members}
    if known is not None and ids:  # read by ``components`` in this transaction already
        states = {k: v for k, v in known.items() if k[0] in ids and k[1] in ids}
    else:
        states = pair_states(conn, ids, rules, within=True)
    views, public_view = viewers(members, everyone, states)
    operator = operator_reader(conn)
    public = len(public_view) >= 2
    mark = marking_for(set(views), everyone, public)
    # one read of every object this may touch: a campaign of n reports costs a few queries
    # here, not 2n (most relationships are unchanged, or never published)
    prior = _priors(conn, [campaign_id, *(relationship_id(campaign_id, r) for r in
                                          {*(m.report_id for m in members), *removed})])
    if mark is not None:
        _store(conn, {"type": "campaign", "id": campaign_id, "name": row.name,
                      "description": "Attacks the Bayanihan hub linked across reports; "
                      "GET /api/v1/campaigns/{id} shows the reports and the evidence.",
                      "labels": [LINKED_LABEL]}, mark, identity, prior.get(campaign_id))
    else:
        _revoke(conn, identity, prior.get(campaign_id))
    for m in members:
        rid = relationship_id(campaign_id, m.report_id)
        allowed = {org for org, seen in views.items() if m.report_id in seen}
        rel_mark = marking_for(allowed, everyone, public and m.report_id in public_view)
        if not view_of(operator, [m]):
            rel_mark = None
        if rel_mark is None:
            _revoke(conn, identity, prior.get(rid))
            continue
        _store(conn, {"type": "relationship", "id": rid, "relationship_type": "related-to",
                      "source_ref": m.report_id, "target_ref": campaign_id,
                      "description": "The hub linked this report into the campaign."},
               rel_mark, identity, prior.get(rid))
    for report in removed:
        _revoke(conn, identity, prior.get(relationship_id(campaign_id, report)))
    if announce and members:
        _announce(conn, campaign_id, members, views, public_view, everyone, rules)


def _announce(conn: Connection, campaign_id: str, members: list[Any],
              views: dict[str, frozenset[str]], public_view: frozenset[str],
              everyone: list[Reader], rules: LinkRules) -> None:
    """``campaign.linked`` events: one per distinct view, each marked for its viewers."""
    groups: dict[frozenset[str], set[str]] = {}
    for org, seen in views.items():
        if len(public_view) >= 2 and seen == public_view:
            continue
        groups.setdefault(seen, set()).add(org)
    if len(public_view) >= 2:
        groups[public_view] = set()
    by_id = {m.report_id: m for m in members}
    items = []
    for seen, group in groups.items():
        mark = marking_for(group, everyone, not group)
        if mark is None:
            continue
        shown = [by_id[r] for r in seen]
        vectors = sorted({m.vector for m in shown})
        items.append({"kind": "campaign.linked", "object_id": campaign_id,
                      "author_org": orgs.HUB_CODE, "tlp": mark[0].value, "audience": mark[1],
                      "payload": {"id": campaign_id, "reports": len(shown), "vectors": vectors,
                                  "vector": vectors[0] if len(vectors) == 1 else None,
                                  "countries": sorted({c for m in shown for c in m.countries}),
                                  "languages": sorted({x for m in shown for x in m.languages}),
                                  "confidence": alerts.view_confidence(conn, sorted(seen),
                                                                       rules)}})
    append_events(conn, items)


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
