"""The link graph between reports: pair states, components, and who may see what of them.

A pair of reports is *linked* when the kinds of evidence between them reach the rules'
``link_at`` (or an analyst confirmed it) and no analyst rejected it. Campaigns are the
connected components of linked pairs with two reports or more.

What a reader sees of a campaign is its *view*: the largest connected piece of the
campaign's reports it may see under the access policy, joined only by links between reports
it may see (:func:`reader_view`). A report the reader may not see never joins two it may
see (TH's RED report linking TH's and PH's GREEN ones is not a campaign for SG). Everything
derived (countries, languages, confidence, links, alerts) is computed from a view, never
from the whole campaign.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, or_, select

from bayanihan.correlate.links import LinkRules
from bayanihan.correlate.tables_campaigns import link_decision, linked_report, report_link
from bayanihan.model.members import OrgKind
from bayanihan.model.tlp import TLP
from bayanihan.share.policy import PUBLIC, Reader, may_see
from bayanihan.store import organisations as orgs
from bayanihan.store.schema import stix_objects

__all__ = [
    "Member",
    "PairState",
    "Reclustered",
    "components",
    "marking_for",
    "member_rows",
    "operator_reader",
    "pair_states",
    "pieces",
    "reader_view",
    "readers",
    "view_of",
    "viewers",
]

_CHUNK = 400


def _chunks(items: Iterable[str]) -> Iterable[list[str]]:
    values = sorted(set(items))
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


@dataclass(frozen=True)
class PairState:
    kinds: frozenset[str]
    score: float
    state: str  # linked | review | none | rejected
    decision: str | None


@dataclass
class Reclustered:
    """Campaigns whose membership changed: id -> (reports added, reports removed)."""

    changed: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)
    campaign_of: dict[str, str | None] = field(default_factory=dict)
    #: states of the pairs touching the reports visited (reused by publish and alerts)
    states: dict[tuple[str, str], PairState] = field(default_factory=dict)
    #: whether ``states`` holds every pair touching every member of the changed campaigns
    complete: bool = True
    #: changed campaigns that reached no new member state (no alert can be due)
    quiet: set[str] = field(default_factory=set)


def pair_states(conn: Connection, nodes: Iterable[str], rules: LinkRules, *,
                within: bool = False) -> dict[tuple[str, str], PairState]:
    """States of the pairs touching ``nodes`` (only pairs inside ``nodes`` if ``within``)."""
    wanted = set(nodes)
    kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
    decided: dict[tuple[str, str], str] = {}
    for chunk in _chunks(wanted):
        for a, b, kind in conn.execute(select(report_link.c.report_a, report_link.c.report_b,
                                              report_link.c.kind).where(
                or_(report_link.c.report_a.in_(chunk), report_link.c.report_b.in_(chunk)))):
            kinds[(a, b)].add(kind)
        for a, b, decision in conn.execute(select(
                link_decision.c.report_a, link_decision.c.report_b, link_decision.c.decision)
                .where(or_(link_decision.c.report_a.in_(chunk),
                           link_decision.c.report_b.in_(chunk)))):
            decided[(a, b)] = decision
    out = {}
    made: dict[tuple[frozenset[str], str | None], PairState] = {}  # few distinct kinds
    for key in set(kinds) | set(decided):
        if within and not (key[0] in wanted and key[1] in wanted):
            continue
        decision = decided.get(key)
        present = frozenset(kinds.get(key, set()) | (
            {"analyst"} if decision == "confirmed" else set()))
        state = made.get((present, decision))
        if state is None:
            state = made[(present, decision)] = PairState(
                present, rules.score(present), rules.state(present, decision), decision)
        out[key] = state
    return out


def components(conn: Connection, seeds: Iterable[str], rules: LinkRules,
               ) -> tuple[list[set[str]], set[str], dict[tuple[str, str], PairState]]:
    """Connected components (by linked pairs) reachable from ``seeds`` and from every report
    of the campaigns they reach; returns the components, every report visited and the states
    of every pair touching one (so publishing need not read them again)."""
    adjacency: dict[str, set[str]] = defaultdict(set)
    known: set[str] = set()
    states: dict[tuple[str, str], PairState] = {}
    todo = set(seeds)
    while todo:
        known |= todo
        found = pair_states(conn, todo, rules)
        states.update(found)
        for (a, b), st in found.items():
            if st.state == "linked":
                adjacency[a].add(b)
                adjacency[b].add(a)
        members: set[str] = set()
        for chunk in _chunks(todo):
            camps = select(linked_report.c.campaign_id).where(
                linked_report.c.report_id.in_(chunk), linked_report.c.campaign_id.is_not(None))
            members |= set(conn.execute(select(linked_report.c.report_id).where(
                linked_report.c.campaign_id.in_(camps))).scalars())
        todo = ({n for x in todo for n in adjacency[x]} | members) - known
    out, seen = [], set()
    for start in sorted(known):
        if start in seen:
            continue
        comp, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node in comp:
                continue
            comp.add(node)
            stack += adjacency[node] - comp
        seen |= comp
        out.append(comp)
    return out, known, states


@dataclass(frozen=True)
class Member:
    """A report of a campaign, with what the policy and the derived views need."""

    report_id: str
    tlp: str
    author_org: str | None
    audience: list[str] | None
    countries: tuple[str, ...]
    languages: tuple[str, ...]
    vector: str
    first_us: int
    last_us: int
    campaign_id: str | None


def member_rows(conn: Connection, report_ids: Iterable[str] | None = None,
                campaign_ids: Iterable[str] | None = None,
                where: Any = None) -> list[Member]:
    """Reports (by id or by campaign) joined with their latest stored version."""
    cols = (linked_report.c.report_id, stix_objects.c.tlp, stix_objects.c.author_org,
            stix_objects.c.audience, linked_report.c.countries, linked_report.c.languages,
            linked_report.c.vector, linked_report.c.first_seen_us, linked_report.c.last_seen_us,
            linked_report.c.campaign_id)
    base = select(*cols).join(stix_objects, stix_objects.c.pk == linked_report.c.object_pk)
    if where is not None:
        base = base.where(where)
    rows: list[Any] = []
    if report_ids is not None:
        for chunk in _chunks(report_ids):
            rows += conn.execute(base.where(linked_report.c.report_id.in_(chunk))).all()
    if campaign_ids is not None:
        for chunk in _chunks(campaign_ids):
            rows += conn.execute(base.where(linked_report.c.campaign_id.in_(chunk))).all()
    return [Member(r.report_id, r.tlp, r.author_org,
                   orjson.loads(r.audience) if r.audience else None,
                   tuple(orjson.loads(r.countries)), tuple(orjson.loads(r.languages)), r.vector,
                   r.first_seen_us, r.last_seen_us, r.campaign_id) for r in rows]


def readers(conn: Connection) -> list[Reader]:
    """A reader for every organisation but the hub itself."""
    every = orgs.all_orgs(conn)
    kinds = {o.code: o.kind for o in every}
    return [Reader(org=o.code, kind=o.kind, parent=o.parent,
                   parent_kind=kinds.get(o.parent) if o.parent else None)
            for o in every if o.kind is not OrgKind.HUB]


def operator_reader(conn: Connection) -> Reader:
    """The hub operator as a reader of reports (it authors campaigns, relationships and
    alerts, so it reads them all: they may name only reports it may read)."""
    hub = orgs.require(conn, orgs.HUB_CODE)
    return Reader(org=hub.code, kind=hub.kind)


def view_of(reader: Reader, members: Iterable[Member]) -> list[Member]:
    """The members ``reader`` may see."""
    return [m for m in members if may_see(reader, m.tlp, m.author_org, m.audience)]


def marking_for(allowed: set[str], everyone: list[Reader], public: bool,
                ) -> tuple[TLP, list[str] | None] | None:
    """The narrowest TLP and audience that admit exactly ``allowed`` (and the public when
    ``public``); None when nobody may see it."""
    if public:
        return TLP.CLEAR, None
    if not allowed:
        return None
    if {r.org for r in everyone} <= allowed:
        return TLP.GREEN, None
    return TLP.AMBER_STRICT, sorted(allowed)


def pieces(members: list[Member], states: dict[tuple[str, str], PairState],
           ) -> list[list[Member]]:
    """``members`` split into the pieces linked pairs among them join, largest first (ties:
    the earliest report first)."""
    by_id = {m.report_id: m for m in members}
    parent = {r: r for r in by_id}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (a, b), st in states.items():
        if st.state == "linked" and a in by_id and b in by_id:
            parent[root(a)] = root(b)
    groups: dict[str, list[Member]] = defaultdict(list)
    for rid, m in by_id.items():
        groups[root(rid)].append(m)
    return sorted(groups.values(), key=lambda g: (
        -len(g), min((m.first_us, m.report_id) for m in g)))


def reader_view(reader: Reader, members: list[Member],
                states: dict[tuple[str, str], PairState]) -> list[Member]:
    """What ``reader`` sees of a campaign: the largest piece of the members it may see,
    joined by links between them only ([] when that piece has fewer than two reports)."""
    found = pieces(view_of(reader, members), states)
    return found[0] if found and len(found[0]) >= 2 else []


def viewers(members: list[Member], everyone: list[Reader],
            states: dict[tuple[str, str], PairState], minimum: int = 2,
            ) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """org -> ids of its view of the members (only orgs seeing at least ``minimum``), and
    the public's view (:func:`reader_view`)."""
    views = {}
    by_visible: dict[frozenset[str], frozenset[str]] = {}  # readers who may see the same
    for reader in [*everyone, PUBLIC]:                    # reports have the same view
        visible = view_of(reader, members)
        key = frozenset(m.report_id for m in visible)
        if key not in by_visible:
            found = pieces(visible, states)
            by_visible[key] = frozenset(m.report_id for m in found[0]) if (
                found and len(found[0]) >= 2) else frozenset()
        if reader is PUBLIC:
            return views, by_visible[key]
        if len(by_visible[key]) >= minimum:
            views[str(reader.org)] = by_visible[key]
    raise AssertionError("unreachable: PUBLIC is the last reader")

