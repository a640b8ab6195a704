"""Analysts' decisions on links and campaigns: confirm, reject, merge, split (audit-logged).

Every decision is stored on report *pairs* in ``link_decision`` and so outlives
re-correlation: a rejected pair stays unlinked whatever evidence is found again, a confirmed
pair stays linked. Merging two campaigns confirms a pair across them; splitting reports off
rejects every pair between them and the rest. The campaigns are then recomputed
(:func:`bayanihan.correlate.campaigns.recluster`). An analyst acts only on reports and
campaigns it may see; anything else is "not found".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from bayanihan.correlate import alerts
from bayanihan.correlate.campaign_graph import member_rows, pair_states, view_of
from bayanihan.correlate.campaign_views import visible_members
from bayanihan.correlate.campaigns import recluster
from bayanihan.correlate.links import LinkRules, pair
from bayanihan.correlate.tables_campaigns import campaigns, link_decision
from bayanihan.errors import InvalidInput, NotFound
from bayanihan.model.stix import now_us
from bayanihan.share.policy import Reader
from bayanihan.store import audit

__all__ = ["confirm_campaign", "decide_pair", "merge_campaigns", "split_campaign"]

DECISIONS = ("confirmed", "rejected")
MAX_REASON = 2000


def _visible_view(conn: Connection, reader: Reader, campaign_id: str, field: str) -> list[str]:
    view = visible_members(conn, reader, [campaign_id]).get(campaign_id)
    state = conn.execute(select(campaigns.c.state).where(campaigns.c.id == campaign_id)).scalar()
    if not view or state != "active":
        raise NotFound(f"no active campaign {campaign_id} that you may see", [field])
    return sorted(m.report_id for m in view)


def _check_reports(conn: Connection, reader: Reader, ids: Sequence[str], field: str) -> None:
    members = {m.report_id: m for m in member_rows(conn, report_ids=ids)}
    for n, rid in enumerate(ids):
        m = members.get(rid)
        if m is None or not view_of(reader, [m]):
            raise NotFound(f"no linked report {rid} that you may see", [f"{field}[{n}]"])


def _decide(conn: Connection, actor: audit.Actor, a: str, b: str, decision: str,
            reason: str) -> None:
    a, b = pair(a, b)
    conn.execute(delete(link_decision).where(link_decision.c.report_a == a,
                                             link_decision.c.report_b == b))
    conn.execute(insert(link_decision).values(report_a=a, report_b=b, decision=decision,
                                              actor_org=actor.org, reason=reason[:MAX_REASON],
                                              at_us=now_us()))


def _after(conn: Connection, seeds: Sequence[str], rules: LinkRules,
           keep: Sequence[str] = ()) -> dict[str, Any]:
    done = recluster(conn, seeds, rules, keep)
    issued = alerts.issue_alerts(conn, list(done.changed), rules)
    return {"campaigns": sorted({c for c in done.campaign_of.values() if c}),
            "changed": sorted(done.changed), "alerts": len(issued)}


def decide_pair(conn: Connection, actor: audit.Actor, reader: Reader, reports: Sequence[str],
                decision: str, reason: str, rules: LinkRules) -> dict[str, Any]:
    """Confirm or reject the link between two reports."""
    if decision not in DECISIONS:
        raise InvalidInput(f"decision: one of {', '.join(DECISIONS)}", ["decision"])
    if len(reports) != 2 or reports[0] == reports[1]:
        raise InvalidInput("reports: two different report ids", ["reports"])
    _check_reports(conn, reader, reports, "reports")
    _decide(conn, actor, reports[0], reports[1], decision, reason)
    out = _after(conn, list(reports), rules)
    audit.record(conn, actor, f"link.{decision[:-2] if decision.endswith('ed') else decision}",
                 list(reports), {"reason": reason[:MAX_REASON], **out})
    return out


def confirm_campaign(conn: Connection, actor: audit.Actor, reader: Reader,
                     campaign_id: str) -> dict[str, Any]:
    """Mark a campaign confirmed by the analyst's organisation."""
    _visible_view(conn, reader, campaign_id, "id")
    conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(
        confirmed_by=actor.org, updated_us=now_us()))
    audit.record(conn, actor, "campaign.confirm", [campaign_id], {})
    return {"campaigns": [campaign_id], "changed": [], "alerts": 0}


def merge_campaigns(conn: Connection, actor: audit.Actor, reader: Reader, campaign_id: str,
                    other_id: str, reason: str, rules: LinkRules) -> dict[str, Any]:
    """Join two campaigns (the analyst confirms a pair across them)."""
    if other_id == campaign_id:
        raise InvalidInput("with: a different campaign", ["with"])
    mine = _visible_view(conn, reader, campaign_id, "id")
    theirs = _visible_view(conn, reader, other_id, "with")
    _decide(conn, actor, mine[0], theirs[0], "confirmed", reason or "merged")
    out = _after(conn, [mine[0], theirs[0]], rules)
    audit.record(conn, actor, "campaign.merge", [campaign_id, other_id],
                 {"reason": reason[:MAX_REASON], "pair": [mine[0], theirs[0]], **out})
    return out


def split_campaign(conn: Connection, actor: audit.Actor, reader: Reader, campaign_id: str,
                   reports: Sequence[str], reason: str, rules: LinkRules) -> dict[str, Any]:
    """Take ``reports`` out of a campaign: every pair between them and the rest is rejected."""
    view = set(_visible_view(conn, reader, campaign_id, "id"))
    moved = list(dict.fromkeys(reports))
    if not moved:
        raise InvalidInput("reports: name the reports to split off", ["reports"])
    for n, rid in enumerate(moved):
        if rid not in view:
            raise NotFound(f"report {rid} is not in campaign {campaign_id} (as you see it)",
                           [f"reports[{n}]"])
    everyone = {m.report_id for m in member_rows(conn, campaign_ids=[campaign_id])}
    rest = everyone - set(moved)
    if not rest:
        raise InvalidInput("reports: leave at least one report in the campaign", ["reports"])
    states = pair_states(conn, moved, rules)
    cut = [(a, b) for (a, b), st in states.items() if st.state in ("linked", "review")
           and ((a in rest and b in moved) or (b in rest and a in moved))]
    for a, b in cut:
        _decide(conn, actor, a, b, "rejected", reason or "split")
    out = _after(conn, sorted(everyone), rules, sorted(rest))
    audit.record(conn, actor, "campaign.split", [campaign_id, *moved],
                 {"reason": reason[:MAX_REASON], "rejected_pairs": len(cut), **out})
    return out
