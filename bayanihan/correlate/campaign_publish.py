"""Publishing campaigns as STIX: the ``campaign`` object, a ``related-to`` relationship from
each member report, and the ``campaign.linked`` announcement on the event stream.

Published objects are authored by the hub. Each carries the narrowest TLP that admits
exactly the organisations that may see at least two of the campaign's reports (and, for a
relationship, that report): no organisation learns of a link to a report it may not see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from bayanihan.correlate import alerts
from bayanihan.correlate.campaign_graph import (
    PairState,
    marking_for,
    member_rows,
    operator_reader,
    pair_states,
    readers,
    view_of,
    viewers,
)
from bayanihan.correlate.links import LinkRules
from bayanihan.correlate.tables_campaigns import campaigns
from bayanihan.model.stix import format_ms, now_us, stable_id
from bayanihan.model.tlp import TLP
from bayanihan.share.policy import Reader
from bayanihan.store import organisations as orgs
from bayanihan.store.events import append_events
from bayanihan.store.objects import NewVersion, store_versions
from bayanihan.store.schema import stix_objects

__all__ = ["LINKED_LABEL", "Prior", "announce_linked", "hub_identity", "priors", "publish",
           "relationship_id", "revoke", "store_hub_object"]

LINKED_LABEL = "bayanihan-linked"
DESCRIPTION = ("Attacks the Bayanihan hub linked across reports; "
               "GET /api/v1/campaigns/{id} shows the reports and the evidence.")


def hub_identity(conn: Connection) -> str:
    return orgs.require(conn, orgs.HUB_CODE).identity_id


@dataclass(frozen=True)
class Prior:
    """The latest stored version of a hub-made object."""

    body: dict[str, Any]
    version_us: int
    tlp: str
    audience: str | None


def priors(conn: Connection, object_ids: Sequence[str]) -> dict[str, Prior]:
    """Latest versions of ``object_ids``, read in a few ``IN`` queries (not one per id)."""
    out: dict[str, Prior] = {}
    ids = sorted(set(object_ids))
    for start in range(0, len(ids), 400):
        for row in conn.execute(select(
                stix_objects.c.id, stix_objects.c.body, stix_objects.c.version_us,
                stix_objects.c.tlp, stix_objects.c.audience).where(
                stix_objects.c.id.in_(ids[start:start + 400]),
                stix_objects.c.is_latest.is_(True))):
            out[row.id] = Prior(orjson.loads(row.body), row.version_us, row.tlp, row.audience)
    return out


def store_hub_object(conn: Connection, obj: dict[str, Any],
                     mark: tuple[TLP, list[str] | None], identity: str,
                     prior: Prior | None) -> None:
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


def revoke(conn: Connection, identity: str, prior: Prior | None) -> None:
    if prior is None or prior.body.get("revoked"):
        return
    obj = {k: v for k, v in prior.body.items() if k not in ("created", "modified",
                                                            "object_marking_refs")}
    store_hub_object(conn, {**obj, "revoked": True},
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
    prior = priors(conn, [campaign_id, *(relationship_id(campaign_id, r) for r in
                                          {*(m.report_id for m in members), *removed})])
    if mark is not None:
        store_hub_object(conn, {"type": "campaign", "id": campaign_id, "name": row.name,
                                "description": DESCRIPTION, "labels": [LINKED_LABEL]},
                         mark, identity, prior.get(campaign_id))
    else:
        revoke(conn, identity, prior.get(campaign_id))
    for m in members:
        rid = relationship_id(campaign_id, m.report_id)
        allowed = {org for org, seen in views.items() if m.report_id in seen}
        rel_mark = marking_for(allowed, everyone, public and m.report_id in public_view)
        if not view_of(operator, [m]):
            rel_mark = None
        if rel_mark is None:
            revoke(conn, identity, prior.get(rid))
            continue
        store_hub_object(conn, {"type": "relationship", "id": rid,
                                "relationship_type": "related-to", "source_ref": m.report_id,
                                "target_ref": campaign_id,
                                "description": "The hub linked this report into the campaign."},
                         rel_mark, identity, prior.get(rid))
    for report in removed:
        revoke(conn, identity, prior.get(relationship_id(campaign_id, report)))
    if announce and members:
        announce_linked(conn, campaign_id, members, views, public_view, everyone, states)


def announce_linked(conn: Connection, campaign_id: str, members: list[Any],
                    views: dict[str, frozenset[str]], public_view: frozenset[str],
                    everyone: list[Reader], states: dict[tuple[str, str], PairState]) -> None:
    """``campaign.linked`` events: one per distinct view, each marked for its viewers
    (``states``: the pairs among the members, already read)."""
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
                                  "confidence": alerts.confidence_of(states, sorted(seen))}})
    append_events(conn, items)
