"""One batch of prepared messages, stored in ONE write transaction.

Raw rows, cluster counts, the near-duplicate index, links to known reports and any draft a
cluster's growth triggers commit together: when the hub answers, every message is stored,
folded and linked; a crash before that leaves nothing of the batch.

Folding: an exact copy (same normalised text) finds its cluster through ``message_text``;
otherwise the text's MinHash bands are looked up in ``message_band`` (keys mixed with the
member, so members never fold into each other's clusters) and the best candidate at or above
the lure index's Jaccard threshold takes it; otherwise it starts a new cluster, which is
then linked to known reports by lure text (the report lure index) and by shared
infrastructure (the values the report linker indexes).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from bayanihan.correlate import infrastructure
from bayanihan.correlate.links import LinkRules
from bayanihan.correlate.lures import NUM_PERM, LureIndex, band_hashes
from bayanihan.messages import drafts, settings
from bayanihan.messages.batch import Message
from bayanihan.messages.prepare import Prepared
from bayanihan.messages.tables import (
    message_band,
    message_cluster,
    message_draft,
    message_link,
    message_raw,
    message_text,
)
from bayanihan.model.stix import now_us
from bayanihan.store.bulk import insert_rows

MAX_SENDERS = 200
MAX_VALUES = 100
CANDIDATES = 50
_CHUNK = 500


@dataclass
class IntakeResult:
    accepted: int = 0
    new_clusters: int = 0
    clusters: dict[int, int] = field(default_factory=dict)  # cluster id -> messages added
    drafts: list[int] = field(default_factory=list)
    purged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "new_clusters": self.new_clusters,
                "clusters": [{"id": c, "added": n} for c, n in sorted(self.clusters.items())],
                "drafts": self.drafts, "purged": self.purged}


def _member_salt(member: str) -> int:
    h = 0xCBF29CE484222325
    for b in member.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def member_bands(member: str, sig: bytes) -> list[int]:
    """The LSH band keys of a cluster signature, in the member's own key space."""
    salt = _member_salt(member)
    out = []
    for h in band_hashes(np.frombuffer(sig, dtype="<u4")):
        v = ((h & 0xFFFFFFFFFFFFFFFF) ^ salt) * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF
        out.append(v - (1 << 64) if v >= 1 << 63 else v)
    return out


_NEAR = (
    select(message_band.c.cluster_id, func.count().label("hits"))
    .where(message_band.c.band_hash.in_(bindparam("keys", expanding=True)))
    .group_by(message_band.c.cluster_id)
    .order_by(func.count().desc(), message_band.c.cluster_id)
    .limit(CANDIDATES)
    .subquery("near")
)
_CANDIDATES = select(message_cluster.c.id, message_cluster.c.signature).join(
    _NEAR, _NEAR.c.cluster_id == message_cluster.c.id)


class Intake:
    """Stores batches for one hub: the report lure index and link rules it links against."""

    def __init__(self, lures: LureIndex, rules: LinkRules, retention_days: int) -> None:
        self.lures = lures
        self.rules = rules
        self.retention_us = retention_days * 86_400 * 1_000_000
        self._last_purge = 0

    # -- the transaction -----------------------------------------------------------------
    def store(self, conn: Connection, member: str, submitted_by: str,
              messages: list[Message], prepared: list[Prepared]) -> IntakeResult:
        at = now_us()
        result = IntakeResult(accepted=len(messages))
        result.purged = self.purge_due(conn, at)
        cluster_of = self._known(conn, member, {p.text_hash for p in prepared})
        new_texts: list[tuple[bytes, int]] = []
        for p in prepared:
            if p.text_hash in cluster_of:
                continue
            cid = self._near(conn, member, p) if p.signature else None
            if cid is None:
                cid = self._new_cluster(conn, member, p, at)
                result.new_clusters += 1
            cluster_of[p.text_hash] = cid
            new_texts.append((p.text_hash, cid))
        insert_rows(conn, message_text, ("member", "text_hash", "cluster_id"),
                    [(member, h, c) for h, c in new_texts])
        raw = [(member, submitted_by, cluster_of[p.text_hash], m.received_us, at, m.channel,
                m.sender, m.country, m.reporter_ref, m.text)
               for m, p in zip(messages, prepared, strict=True)]
        insert_rows(conn, message_raw, ("member", "submitted_by", "cluster_id", "received_us",
                                        "stored_us", "channel", "sender", "country",
                                        "reporter_ref", "text"), raw)
        self._update_clusters(conn, member, messages, prepared, cluster_of, result, at)
        return result

    def _known(self, conn: Connection, member: str, hashes: set[bytes]) -> dict[bytes, int]:
        wanted, found = list(hashes), {}
        for start in range(0, len(wanted), _CHUNK):
            rows = conn.execute(select(message_text.c.text_hash, message_text.c.cluster_id).where(
                message_text.c.member == member,
                message_text.c.text_hash.in_(wanted[start:start + _CHUNK])))
            found.update({bytes(h): int(c) for h, c in rows})
        return found

    def _near(self, conn: Connection, member: str, p: Prepared) -> int | None:
        assert p.signature is not None
        rows = conn.execute(_CANDIDATES, {"keys": member_bands(member, p.signature)}).all()
        if not rows:
            return None
        sig = np.frombuffer(p.signature, dtype="<u4")
        stored = np.frombuffer(b"".join(r[1] for r in rows), dtype="<u4").reshape(-1, NUM_PERM)
        scores = np.count_nonzero(stored == sig, axis=1) / NUM_PERM
        best = int(np.argmax(scores))
        return int(rows[best][0]) if scores[best] >= self.lures.jaccard_threshold else None

    def _new_cluster(self, conn: Connection, member: str, p: Prepared, at: int) -> int:
        cid = int(conn.execute(insert(message_cluster).values(
            member=member, channel="", sample=p.sample, signature=p.signature, count=0,
            first_us=0, last_us=0, senders="[]", countries="[]", observables="[]",
            updated_us=at).returning(message_cluster.c.id)).scalar_one())
        if p.signature:
            insert_rows(conn, message_band, ("band_hash", "cluster_id"),
                        sorted({(k, cid) for k in member_bands(member, p.signature)}))
            for m in self.lures.similar(conn, p.sample, limit=10):
                report = m.lure_ref.split("#lure", 1)[0]
                self._link(conn, cid, report, "lure-text", m.score, f"lure text {m.score:.2f}")
        return cid

    def _link(self, conn: Connection, cid: int, report: str, kind: str, score: float,
              evidence: str) -> None:
        exists = conn.execute(select(func.count()).select_from(message_link).where(
            message_link.c.cluster_id == cid, message_link.c.report_id == report,
            message_link.c.kind == kind)).scalar()
        if not exists:
            conn.execute(insert(message_link).values(cluster_id=cid, report_id=report, kind=kind,
                                                     score=score, evidence=evidence))

    def _update_clusters(self, conn: Connection, member: str, messages: list[Message],
                         prepared: list[Prepared], cluster_of: dict[bytes, int],
                         result: IntakeResult, at: int) -> None:
        grouped: dict[int, list[tuple[Message, Prepared]]] = defaultdict(list)
        for m, p in zip(messages, prepared, strict=True):
            grouped[cluster_of[p.text_hash]].append((m, p))
        ids = sorted(grouped)
        rows = {}
        for start in range(0, len(ids), _CHUNK):
            rows.update({r.id: r for r in conn.execute(
                select(message_cluster).where(message_cluster.c.id.in_(ids[start:start + _CHUNK])))})
        changes = []
        for cid in ids:
            row, items = rows[cid], grouped[cid]
            senders = orjson.loads(row.senders)
            countries = set(orjson.loads(row.countries))
            values = {tuple(v) for v in orjson.loads(row.observables)}
            seen = set(senders)
            for m, _ in items:
                if m.sender not in seen and len(senders) < MAX_SENDERS:
                    senders.append(m.sender)
                    seen.add(m.sender)
                countries.add(m.country)
            fresh = set().union(*(p.values for _, p in items)) - values
            if fresh and len(values) < MAX_VALUES:
                self._link_values(conn, cid, fresh)
                values |= set(sorted(fresh)[:MAX_VALUES - len(values)])
            times = [m.received_us for m, _ in items]
            count = row.count + len(items)
            changes.append({
                "cid": cid, "count": count, "channel": row.channel or items[0][0].channel,
                "first_us": min(times) if not row.count else min(row.first_us, *times),
                "last_us": max(row.last_us, *times), "senders": orjson.dumps(senders).decode(),
                "countries": orjson.dumps(sorted(countries)).decode(),
                "observables": orjson.dumps(sorted(values)).decode(), "updated_us": at})
            result.clusters[cid] = len(items)
        conn.execute(update(message_cluster).where(message_cluster.c.id == bindparam("cid"))
                     .values({k: bindparam(k) for k in changes[0] if k != "cid"}), changes)
        self._drafts(conn, member, changes, result, at)

    def _link_values(self, conn: Connection, cid: int, values: set[tuple[str, str]]) -> None:
        links, _ = infrastructure.shared_values(conn, f"message-cluster--{cid}", values,
                                                self.rules)
        for link in links:
            report = link.report_b if link.report_a.startswith("message-cluster--") \
                else link.report_a
            self._link(conn, cid, report, "infrastructure", link.score,
                       ", ".join(link.values)[:400])

    def _drafts(self, conn: Connection, member: str, changes: list[dict[str, Any]],
                result: IntakeResult, at: int) -> None:
        rule = settings.get(conn, member)
        crossed = [c for c in changes
                   if rule.crossed(c["count"], len(orjson.loads(c["senders"])),
                                   len(orjson.loads(c["countries"])))]
        if not crossed:
            return
        have = {int(r[0]) for r in conn.execute(select(message_draft.c.cluster_id).where(
            message_draft.c.cluster_id.in_([c["cid"] for c in crossed])))}
        for c in crossed:
            if c["cid"] in have:
                continue
            row = conn.execute(select(message_cluster).where(
                message_cluster.c.id == c["cid"])).one()
            report = drafts.draft_report(row, rule.publish_tlp)
            did = int(conn.execute(insert(message_draft).values(
                member=member, cluster_id=c["cid"],
                status="queued" if rule.auto_publish else "draft",
                report=orjson.dumps(report).decode(), created_us=at,
            ).returning(message_draft.c.id)).scalar_one())
            result.drafts.append(did)

    # -- retention -----------------------------------------------------------------------
    def purge_due(self, conn: Connection, at: int, every_us: int = 60_000_000) -> int:
        """Purge expired raw messages at most once a minute per process (in the caller's
        transaction); returns how many were deleted."""
        if at - self._last_purge < every_us:
            return 0
        self._last_purge = at
        return purge(conn, at - self.retention_us)


def purge(conn: Connection, before_us: int) -> int:
    """Delete raw messages stored before ``before_us``; clusters, counts and links stay."""
    return int(conn.execute(delete(message_raw).where(message_raw.c.stored_us < before_us))
               .rowcount or 0)
