"""Quarantine reaches campaigns: a quarantined key's reports link nothing.

A report whose latest version was submitted by a quarantined key (:mod:`.guard`) must not
join a campaign, hold one together or raise an alert. Its links are *set aside*, not
deleted — the evidence stays for the investigation and comes back if the quarantine is
lifted:

* :func:`divert` is called by the linker (:func:`.report_links.gather_links`) on every link
  it finds: a link with such a report at either end is kept in ``held_link`` instead of
  ``report_link``, so a report linked while its key is quarantined (or one another member
  sends later that matches it) forms no campaign.
* :func:`pull` runs in the quarantine's transaction: the key's reports' links (and analysts'
  confirmations of them) move to ``held_link``, the campaign each affected report was in is
  remembered (``held_campaign``), and the campaigns around them are recomputed
  (:func:`.campaigns.recluster`): a campaign that only the key's report held together falls
  apart. No alert is issued then.
* :func:`restore` runs in the release's transaction: links whose two reports are no longer
  held go back, campaigns are recomputed, a campaign that fell apart lives on in the one
  that now holds its reports (recorded as merged into it, so no member is alerted twice
  about a country), and alerts go out for what is new.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from bayanihan.correlate.links import Link, LinkRules
from bayanihan.correlate.tables_campaigns import campaigns, link_decision, linked_report, report_link
from bayanihan.correlate.tables_guard import held_campaign, held_link, key_quarantine
from bayanihan.model.stix import now_us
from bayanihan.store.schema import stix_objects

__all__ = ["divert", "held_reports", "pull", "restore"]

_CHUNK = 400
_TABLES = {"report_link": report_link, "link_decision": link_decision}


def _chunks(items: Iterable[str]) -> Iterable[list[str]]:
    values = sorted(set(items))
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def quarantined_keys(conn: Connection) -> set[str]:
    return set(conn.execute(select(key_quarantine.c.key_id)).scalars())


def held_reports(conn: Connection, report_ids: Iterable[str],
                 keys: set[str] | None = None) -> set[str]:
    """The reports among ``report_ids`` whose latest version a quarantined key submitted."""
    keys = quarantined_keys(conn) if keys is None else keys
    if not keys:
        return set()
    out: set[str] = set()
    for chunk in _chunks(report_ids):
        out |= set(conn.execute(select(stix_objects.c.id).where(
            stix_objects.c.id.in_(chunk), stix_objects.c.is_latest.is_(True),
            stix_objects.c.submitted_key.in_(sorted(keys)))).scalars())
    return out


def _set_aside(conn: Connection, source: str, rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        kind = row["kind"] if source == "report_link" else row["decision"]
        conn.execute(delete(held_link).where(
            held_link.c.source == source, held_link.c.report_a == row["report_a"],
            held_link.c.report_b == row["report_b"], held_link.c.kind == kind))
    if rows:
        conn.execute(insert(held_link), [
            {"source": source, "report_a": r["report_a"], "report_b": r["report_b"],
             "kind": r["kind"] if source == "report_link" else r["decision"],
             "row": orjson.dumps(r).decode()} for r in rows])


def divert(conn: Connection, report_id: str, links: Sequence[Link]) -> list[Link]:
    """The links that may count; those touching a report of a quarantined key are set aside."""
    keys = quarantined_keys(conn)  # almost always none: one small read
    if not keys or not links:
        return list(links)
    held = held_reports(conn, {report_id, *(x.report_a for x in links),
                               *(x.report_b for x in links)}, keys)
    if not held:
        return list(links)
    kept = [x for x in links if x.report_a not in held and x.report_b not in held]
    at = now_us()
    _set_aside(conn, "report_link", [
        {"report_a": x.report_a, "report_b": x.report_b, "kind": x.kind, "score": x.score,
         "evidence": orjson.dumps(x.evidence()).decode(), "created_us": at}
        for x in links if x.report_a in held or x.report_b in held])
    return kept


def _touching(table: Any, ids: Sequence[str]) -> Any:
    return or_(table.c.report_a.in_(ids), table.c.report_b.in_(ids))


def _row(row: Any) -> dict[str, Any]:
    return {str(k): v for k, v in row._mapping.items()}  # column names may be str subclasses


def _key_reports(conn: Connection, key_id: str) -> set[str]:
    """Linked reports whose latest version ``key_id`` submitted."""
    return set(conn.execute(select(stix_objects.c.id).join(
        linked_report, linked_report.c.report_id == stix_objects.c.id).where(
        stix_objects.c.submitted_key == key_id, stix_objects.c.is_latest.is_(True))).scalars())


def pull(conn: Connection, key_id: str, rules: LinkRules) -> int:
    """Take the reports of ``key_id`` (just quarantined) out of every campaign; returns how
    many reports were taken out."""
    from bayanihan.correlate.campaigns import recluster  # campaigns -> report_links -> here

    reports = _key_reports(conn, key_id)
    if not reports:
        return 0
    neighbours: set[str] = set()
    for chunk in _chunks(reports):
        links = [_row(r) for r in conn.execute(
            select(report_link).where(_touching(report_link, chunk)))]
        decided = [_row(r) for r in conn.execute(select(link_decision).where(
            _touching(link_decision, chunk), link_decision.c.decision == "confirmed"))]
        _set_aside(conn, "report_link", links)
        _set_aside(conn, "link_decision", decided)
        conn.execute(delete(report_link).where(_touching(report_link, chunk)))
        conn.execute(delete(link_decision).where(_touching(link_decision, chunk),
                                                 link_decision.c.decision == "confirmed"))
        neighbours |= {r[end] for r in (*links, *decided) for end in ("report_a", "report_b")}
        camps = select(linked_report.c.campaign_id).where(
            linked_report.c.report_id.in_(chunk), linked_report.c.campaign_id.is_not(None))
        members = conn.execute(select(linked_report.c.report_id, linked_report.c.campaign_id)
                               .where(linked_report.c.campaign_id.in_(camps))).all()
        known = set(conn.execute(select(held_campaign.c.report_id).where(
            held_campaign.c.key_id == key_id)).scalars())
        fresh = [{"key_id": key_id, "report_id": r, "campaign_id": c} for r, c in members
                 if r not in known]
        if fresh:
            conn.execute(insert(held_campaign), fresh)
        neighbours |= {r for r, _ in members}
    recluster(conn, sorted(reports | neighbours), rules)
    return len(reports)


def _put_back(conn: Connection, source: str, row: dict[str, Any]) -> None:
    table = _TABLES[source]
    same = and_(table.c.report_a == row["report_a"], table.c.report_b == row["report_b"])
    if source == "report_link":
        conn.execute(delete(table).where(same, table.c.kind == row["kind"]))
    elif conn.execute(select(table.c.decision).where(same)).first() is not None:
        return  # an analyst decided on the pair since: that decision stands
    conn.execute(insert(table).values(**row))


def restore(conn: Connection, key_id: str, rules: LinkRules) -> int:
    """Put back what :func:`pull` and :func:`divert` set aside for reports that are no longer
    held (``key_id`` was just released); returns how many links came back."""
    from bayanihan.correlate import alerts
    from bayanihan.correlate.campaigns import recluster

    rows = conn.execute(select(held_link)).all()
    ends = {r.report_a for r in rows} | {r.report_b for r in rows}
    still = held_reports(conn, ends)
    back = [r for r in rows if r.report_a not in still and r.report_b not in still]
    for r in back:
        _put_back(conn, r.source, orjson.loads(r.row))
        conn.execute(delete(held_link).where(
            held_link.c.source == r.source, held_link.c.report_a == r.report_a,
            held_link.c.report_b == r.report_b, held_link.c.kind == r.kind))
    memo = conn.execute(select(held_campaign.c.report_id, held_campaign.c.campaign_id).where(
        held_campaign.c.key_id == key_id)).all()
    conn.execute(delete(held_campaign).where(held_campaign.c.key_id == key_id))
    seeds = {r.report_a for r in back} | {r.report_b for r in back} | {r for r, _ in memo}
    if not seeds:
        return 0
    done = recluster(conn, sorted(seeds), rules)
    was: dict[str, list[str]] = defaultdict(list)
    for report, campaign in memo:
        was[campaign].append(report)
    for old, reports in was.items():
        now = Counter(c for r in reports if (c := done.campaign_of.get(r)) and c != old)
        state = conn.execute(select(campaigns.c.state).where(campaigns.c.id == old)).scalar()
        if now and state == "dissolved":  # it lives on there: alerts about it count there
            conn.execute(update(campaigns).where(campaigns.c.id == old).values(
                state="merged", merged_into=now.most_common(1)[0][0], updated_us=now_us()))
    alerts.issue_alerts(conn, list(done.changed), rules)
    return len(back)
