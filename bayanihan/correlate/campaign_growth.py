"""Campaigns kept up to date incrementally: a new report joins (or merges) campaigns at a
cost set by its own links, not by the size of the campaigns it joins.

Campaigns are the connected components of linked pairs (:mod:`.campaign_graph`). A report
correlated for the first time only *adds* links, so components only grow or merge: the
component of a new report R is R, its linked neighbours and every report of their campaigns.
No walk over the campaigns is needed.

What each reader sees of a campaign (its *view*) is in general a per-reader computation over
every member. But when every member may be seen by exactly the same readers — *uniform
visibility*, the common case of a GREEN or CLEAR scam wave, or of one member's AMBER reports
— each reader sees the whole campaign or nothing. Then the campaign's marking, the
relationships of the reports already in it and the alerts already issued do not change when
a report of the same visibility joins: only the joiners' relationships are published, and
alerts are reconsidered only when the campaign reaches a new member state (or a merge or a
new campaign happens). Each campaign row keeps what that needs (size, the members'
visibility or NULL when mixed, the member states, languages and vectors reached); each
linked report keeps its best link score, so confidence (the weakest member's best link) is
one index look-up.

:func:`grow` takes that path, or returns None: a report correlated again, a pair an analyst
decided, members whose visibility differs (a RED report bridging GREEN ones), a campaign not
yet described — those go through :func:`bayanihan.correlate.campaigns.recluster`, which
recomputes the components and then describes every campaign it touched (:func:`describe`).
``tests/correlate/test_campaign_growth.py`` checks that both paths give the same campaigns,
markings, relationships, events and alerts.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select, update

from bayanihan.correlate.campaign_graph import (
    Member,
    PairState,
    Reclustered,
    marking_for,
    member_rows,
    operator_reader,
    pair_states,
    readers,
)
from bayanihan.correlate.campaign_publish import (
    DESCRIPTION,
    LINKED_LABEL,
    hub_identity,
    priors,
    relationship_id,
    revoke,
    store_hub_object,
)
from bayanihan.correlate.links import LinkRules
from bayanihan.correlate.tables_campaigns import campaigns, linked_report
from bayanihan.model.stix import format_ms, new_id, now_us
from bayanihan.share.policy import PUBLIC, Reader, may_see
from bayanihan.store import organisations as orgs
from bayanihan.store.events import append_events

__all__ = ["ENABLED", "describe", "grow", "new_campaign", "visibility"]

#: Off only in tests that compare this path with the full one.
ENABLED = True
_CHUNK = 400


def _sees(reader: Reader, m: Member) -> bool:
    return may_see(reader, m.tlp, m.author_org, m.audience)


def visibility(m: Member, everyone: Sequence[Reader], operator: Reader) -> str:
    """Who may see the report (every organisation, the hub operator, the public), as a key."""
    names = sorted(str(r.org) for r in [*everyone, operator] if _sees(r, m))
    names += ["*public*"] if _sees(PUBLIC, m) else []
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:32]


def new_campaign(conn: Connection) -> str:
    cid = new_id("campaign")
    at = now_us()
    name = f"Campaign {format_ms(at)[:10]} {cid.split('--', 1)[1][:8]}"
    conn.execute(insert(campaigns).values(id=cid, name=name, state="active", merged_into=None,
                                          confirmed_by=None, created_us=at, updated_us=at))
    return cid


def _best(states: dict[tuple[str, str], PairState], ids: Iterable[str]) -> dict[str, float]:
    """Each report's best linked pair (1.0 when an analyst confirmed it), 0.0 when none."""
    best = dict.fromkeys(ids, 0.0)
    for (a, b), st in states.items():
        if st.state != "linked":
            continue
        score = 1.0 if st.decision == "confirmed" else st.score
        for x in (a, b):
            if x in best:
                best[x] = max(best[x], score)
    return best


def _json(values: Iterable[str]) -> str:
    return orjson.dumps(sorted(set(values))).decode()


def describe(conn: Connection, campaign_ids: Iterable[str],
             states: dict[tuple[str, str], PairState]) -> None:
    """Store the shape of campaigns after a full recomputation: size, visibility, reach,
    and each member's best link (``states``: every linked pair touching a member)."""
    ids = sorted(set(campaign_ids))
    if not ids:
        return
    everyone, operator = readers(conn), operator_reader(conn)
    by_campaign: dict[str, list[Member]] = defaultdict(list)
    for m in member_rows(conn, campaign_ids=ids):
        by_campaign[str(m.campaign_id)].append(m)
    marked: dict[tuple[Any, ...], str] = {}

    def key_of(m: Member) -> str:  # one computation per distinct marking and author
        mark = (m.tlp, m.author_org, None if m.audience is None else tuple(m.audience))
        if mark not in marked:
            marked[mark] = visibility(m, everyone, operator)
        return marked[mark]

    for cid in ids:
        ms = by_campaign.get(cid, [])
        keys = {key_of(m) for m in ms}
        conn.execute(update(campaigns).where(campaigns.c.id == cid).values(
            size=len(ms), visibility=keys.pop() if len(keys) == 1 else None,
            countries=_json(c for m in ms for c in m.countries),
            languages=_json(x for m in ms for x in m.languages),
            vectors=_json(m.vector for m in ms)))
    members = [m.report_id for ms in by_campaign.values() for m in ms]
    best = _best(states, members)
    for start in range(0, len(members), _CHUNK):
        chunk = members[start:start + _CHUNK]
        old = dict(conn.execute(select(linked_report.c.report_id, linked_report.c.best_score)
                                .where(linked_report.c.report_id.in_(chunk))).all())
        for rid in chunk:
            if old.get(rid) != best[rid]:
                conn.execute(update(linked_report).where(linked_report.c.report_id == rid)
                             .values(best_score=best[rid]))


def grow(conn: Connection, report_id: str, rules: LinkRules) -> Reclustered | None:
    """Add a report correlated for the first time to the campaigns its links reach, or None
    when only the full recomputation is right (see the module's docstring)."""
    if not ENABLED:
        return None
    states = pair_states(conn, [report_id], rules)
    if any(st.decision for st in states.values()):
        return None
    near = {(b if a == report_id else a): st.score for (a, b), st in states.items()
            if st.state == "linked"}
    if not near:
        return Reclustered(campaign_of={report_id: None}, states=states, complete=False)
    rows = {m.report_id: m for m in member_rows(conn, report_ids=[report_id, *near])}
    if len(rows) != len(near) + 1:
        return None
    everyone, operator = readers(conn), operator_reader(conn)
    key = visibility(rows[report_id], everyone, operator)
    loose = sorted(r for r, m in rows.items() if m.campaign_id is None)
    if any(visibility(rows[r], everyone, operator) != key for r in loose):
        return None
    found = conn.execute(select(campaigns).where(campaigns.c.id.in_(
        sorted({str(m.campaign_id) for m in rows.values() if m.campaign_id})))).all()
    if any(c.state != "active" or c.visibility != key or c.size is None for c in found):
        return None
    return _join(conn, report_id, key, states, near, rows, loose, found, everyone, operator)


def _join(conn: Connection, report_id: str, key: str,
          states: dict[tuple[str, str], PairState], near: dict[str, float],
          rows: dict[str, Member], loose: list[str], found: Sequence[Any],
          everyone: Sequence[Reader], operator: Reader) -> Reclustered:
    """Move the loose reports and the smaller campaigns into the largest (as ``recluster``
    would choose it), keep the shape, publish what changed."""
    ranked = sorted(found, key=lambda c: (-c.size, c.created_us, c.id))
    survivor = ranked[0].id if ranked else new_campaign(conn)
    others = ranked[1:]
    moved: dict[str, list[str]] = {c.id: sorted(conn.execute(select(linked_report.c.report_id)
                                   .where(linked_report.c.campaign_id == c.id)).scalars())
                                   for c in others}
    joiners = {*loose, *(r for ms in moved.values() for r in ms)}
    at = now_us()
    conn.execute(update(linked_report).where(linked_report.c.report_id.in_(loose))
                 .values(campaign_id=survivor))
    for cid in moved:
        conn.execute(update(linked_report).where(linked_report.c.campaign_id == cid)
                     .values(campaign_id=survivor))
        conn.execute(update(campaigns).where(campaigns.c.id == cid).values(
            state="merged", merged_into=survivor, updated_us=at))
    before = ranked[0] if ranked else None
    reach = {name: {*(orjson.loads(getattr(before, name)) if before else ()),
                    *(x for c in others for x in orjson.loads(getattr(c, name)))}
             for name in ("countries", "languages", "vectors")}
    for r in loose:
        reach["countries"] |= set(rows[r].countries)
        reach["languages"] |= set(rows[r].languages)
        reach["vectors"].add(rows[r].vector)
    size = (before.size if before else 0) + len(joiners)
    conn.execute(update(campaigns).where(campaigns.c.id == survivor).values(
        state="active", merged_into=None, updated_us=at, size=size, visibility=key,
        **{name: _json(values) for name, values in reach.items()}))
    _raise_best(conn, report_id, near)
    out = Reclustered(states=states, complete=False)
    out.campaign_of = {r: survivor for r in joiners}
    out.changed[survivor] = (joiners, set())
    for cid, ms in moved.items():
        out.changed[cid] = (set(), set(ms))
    countries_before = set(orjson.loads(before.countries)) if before else set()
    if before is not None and not others and reach["countries"] == countries_before:
        out.quiet.add(survivor)  # no new member state reached: no alert can be due
    _publish(conn, survivor, joiners, moved, rows[report_id], everyone,
             operator, size, reach)
    return out


def _raise_best(conn: Connection, report_id: str, near: dict[str, float]) -> None:
    """The new report's best link, and its neighbours' where this link is better."""
    conn.execute(update(linked_report).where(linked_report.c.report_id == report_id)
                 .values(best_score=max(near.values())))
    old = dict(conn.execute(select(linked_report.c.report_id, linked_report.c.best_score)
                            .where(linked_report.c.report_id.in_(sorted(near)))).all())
    for rid, score in near.items():
        if (old.get(rid) or 0.0) < score:
            conn.execute(update(linked_report).where(linked_report.c.report_id == rid)
                         .values(best_score=score))


def _publish(conn: Connection, survivor: str, joiners: set[str],
             moved: dict[str, list[str]], sample: Member, everyone: Sequence[Reader],
             operator: Reader, size: int, reach: dict[str, set[str]]) -> None:
    """What :func:`bayanihan.correlate.campaign_publish.publish` would store when every
    member may be seen by the readers who may see ``sample``."""
    allowed = {str(r.org) for r in everyone if _sees(r, sample)}
    public = _sees(PUBLIC, sample)
    mark = marking_for(allowed, list(everyone), public)
    rel_mark = mark if _sees(operator, sample) else None
    identity = hub_identity(conn)
    prior = priors(conn, [survivor, *(relationship_id(survivor, r) for r in joiners),
                          *moved, *(relationship_id(c, r) for c, ms in moved.items()
                                    for r in ms)])
    if mark is not None:  # unchanged (so not stored again) unless the campaign is new
        name = conn.execute(select(campaigns.c.name).where(campaigns.c.id == survivor)).scalar()
        store_hub_object(conn, {"type": "campaign", "id": survivor, "name": name,
                                "description": DESCRIPTION, "labels": [LINKED_LABEL]},
                         mark, identity, prior.get(survivor))
    else:
        revoke(conn, identity, prior.get(survivor))
    for r in sorted(joiners):
        rid = relationship_id(survivor, r)
        if rel_mark is None:
            revoke(conn, identity, prior.get(rid))
            continue
        store_hub_object(conn, {"type": "relationship", "id": rid,
                                "relationship_type": "related-to", "source_ref": r,
                                "target_ref": survivor,
                                "description": "The hub linked this report into the campaign."},
                         rel_mark, identity, prior.get(rid))
    for cid, ms in moved.items():
        revoke(conn, identity, prior.get(cid))
        for r in ms:
            revoke(conn, identity, prior.get(relationship_id(cid, r)))
    if mark is None:
        return
    weakest = conn.execute(select(func.min(linked_report.c.best_score)).where(
        linked_report.c.campaign_id == survivor)).scalar()
    vectors = sorted(reach["vectors"])
    group_mark = marking_for(set() if public else allowed, list(everyone), public)
    assert group_mark is not None
    append_events(conn, [{
        "kind": "campaign.linked", "object_id": survivor, "author_org": orgs.HUB_CODE,
        "tlp": group_mark[0].value, "audience": group_mark[1],
        "payload": {"id": survivor, "reports": size, "vectors": vectors,
                    "vector": vectors[0] if len(vectors) == 1 else None,
                    "countries": sorted(reach["countries"]),
                    "languages": sorted(reach["languages"]),
                    "confidence": round(100 * (weakest or 0.0))}}])
