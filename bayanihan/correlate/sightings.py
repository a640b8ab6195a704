"""Sightings ("seen here", "false positive") and the confidence of indicators over time.

A member posts a STIX ``sighting`` of an indicator it may see; ``x_bayanihan_verdict``
(``seen`` or ``false-positive``) says which. The indicator's confidence, as one reader sees
it, is computed from the sightings that reader may see (TLP applies to feedback too)::

    raised   = base + STEP_SEEN * organisations that saw it
                    - STEP_FALSE_POSITIVE * organisations that call it a false positive
    now      = raised * (1 - (age / lifetime) ** (1 / speed))     (0 once age >= lifetime)

``base`` is the indicator's STIX ``confidence`` (50 when it has none); ``age`` runs from
the indicator's ``valid_from`` or its latest "seen here", whichever is later (a sighting
renews it). The decay is MISP's polynomial decaying model; lifetime and speed depend on the
vector and the kind of observable (:data:`DECAY`, sources in docs/linking.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select

from bayanihan.correlate.tables_campaigns import indicator_sighting
from bayanihan.errors import InvalidInput, NotFound
from bayanihan.ingest.bundles import IngestResult, Submitter, store_checked
from bayanihan.model.extension import ai_properties
from bayanihan.model.stix import format_ms, new_id, now_us, parse_us
from bayanihan.model.tlp import TLP
from bayanihan.share.policy import Reader, visible
from bayanihan.store.schema import stix_objects

__all__ = ["DECAY", "VERDICTS", "Confidence", "confidence", "record_sightings", "sighting_object"]

VERDICTS = ("seen", "false-positive")
DAY_US = 86_400 * 1_000_000
STEP_SEEN = 10
STEP_FALSE_POSITIVE = 25
DEFAULT_BASE = 50
#: (vector or None, observable kind) -> (lifetime in days, speed). Speed > 1 drops fast at
#: first (phishing URLs are taken down within days), speed < 1 holds then drops (a malware
#: hash keeps meaning the same file for months).
DECAY: dict[tuple[str | None, str], tuple[float, float]] = {
    (None, "url"): (14, 1.5),
    ("phishing", "url"): (7, 2.0),
    ("identity-fraud", "url"): (7, 2.0),
    (None, "domain"): (30, 1.5),
    ("phishing", "domain"): (14, 1.5),
    (None, "ip"): (14, 1.5),
    ("reconnaissance", "ip"): (7, 2.0),
    (None, "email"): (30, 1.0),
    (None, "phone"): (60, 1.0),
    (None, "wallet"): (180, 0.5),
    (None, "file"): (180, 0.5),
    ("malware", "file"): (365, 0.3),
    (None, "other"): (90, 1.0),
}
_KIND = (("url:", "url"), ("domain-name:", "domain"), ("ipv4-addr:", "ip"),
         ("ipv6-addr:", "ip"), ("email-addr:", "email"), ("file:", "file"),
         ("bayanihan-phone-number:", "phone"), ("bayanihan-crypto-wallet:", "wallet"))
_FIRST_TERM = re.compile(r"\[\s*([a-z0-9-]+:)")


def observable_kind(pattern: str) -> str:
    m = _FIRST_TERM.search(pattern or "")
    head = m.group(1) if m else ""
    return next((kind for prefix, kind in _KIND if head == prefix), "other")


def decay_of(vector: str | None, kind: str) -> tuple[float, float]:
    return DECAY.get((vector, kind)) or DECAY.get((None, kind)) or DECAY[(None, "other")]


@dataclass(frozen=True)
class Confidence:
    indicator_id: str
    base: int
    seen_by: int
    false_positive_by: int
    raised: int
    anchor_us: int
    lifetime_days: float
    speed: float
    now: int

    def as_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator_id, "base": self.base, "seen_by": self.seen_by,
                "false_positive_by": self.false_positive_by, "raised": self.raised,
                "since": format_ms(self.anchor_us), "lifetime_days": self.lifetime_days,
                "speed": self.speed, "confidence": self.now,
                "expires": format_ms(self.anchor_us + int(self.lifetime_days * DAY_US))}


def decayed(score: float, age_us: int, lifetime_days: float, speed: float) -> int:
    """MISP's polynomial decay of ``score`` after ``age_us``."""
    if age_us <= 0:
        return round(score)
    ratio = age_us / (lifetime_days * DAY_US)
    return 0 if ratio >= 1 else round(score * (1 - ratio ** (1 / speed)))


def confidence(conn: Connection, reader: Reader, indicator_id: str,
               at_us: int | None = None) -> Confidence | None:
    """The indicator's confidence now, from the sightings ``reader`` may see; None when the
    reader may not see the indicator."""
    body = conn.execute(select(stix_objects.c.body).where(
        stix_objects.c.id == indicator_id, stix_objects.c.type == "indicator",
        stix_objects.c.is_latest.is_(True), visible(reader))).scalar()
    if body is None:
        return None
    ind = orjson.loads(body)
    props = ai_properties(ind) or {}
    base = ind.get("confidence", DEFAULT_BASE)
    rows = conn.execute(
        select(indicator_sighting.c.org, indicator_sighting.c.verdict,
               indicator_sighting.c.seen_us)
        .join(stix_objects, stix_objects.c.pk == indicator_sighting.c.object_pk)
        .where(indicator_sighting.c.indicator_id == indicator_id, visible(reader))).all()
    seen = {r.org for r in rows if r.verdict == "seen"}
    wrong = {r.org for r in rows if r.verdict == "false-positive"}
    raised = max(0, min(100, base + STEP_SEEN * len(seen) - STEP_FALSE_POSITIVE * len(wrong)))
    try:
        anchor = parse_us(ind.get("valid_from") or ind["created"])
    except (KeyError, ValueError):
        anchor = 0
    anchor = max([anchor, *(r.seen_us for r in rows if r.verdict == "seen")])
    lifetime, speed = decay_of(props.get("vector"), observable_kind(ind.get("pattern", "")))
    now = decayed(raised, (at_us or now_us()) - anchor, lifetime, speed)
    return Confidence(indicator_id, base, len(seen), len(wrong), raised, anchor, lifetime,
                      speed, now)


def sighting_object(raw: dict[str, Any], submitter: Submitter) -> dict[str, Any]:
    """A STIX sighting from ``{"indicator", "verdict", "count"?, "first_seen"?,
    "last_seen"?, "tlp"?, "description"?}``; InvalidInput naming the field."""
    if not isinstance(raw, dict):
        raise InvalidInput("body: a JSON object", ["body"])
    unknown = set(raw) - {"indicator", "verdict", "count", "first_seen", "last_seen", "tlp",
                          "description"}
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}", sorted(unknown))
    ind = raw.get("indicator")
    if not isinstance(ind, str) or not ind.startswith("indicator--"):
        raise InvalidInput("indicator: the id of an indicator (indicator--…)", ["indicator"])
    verdict = raw.get("verdict", "seen")
    if verdict not in VERDICTS:
        raise InvalidInput(f"verdict: one of {', '.join(VERDICTS)}", ["verdict"])
    count = raw.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 999_999_999:
        raise InvalidInput("count: an integer from 0 to 999999999", ["count"])
    try:
        level = TLP.parse(str(raw.get("tlp", "amber")))
    except ValueError as exc:
        raise InvalidInput(f"tlp: {exc}", ["tlp"]) from None
    stamp = format_ms(now_us())
    times = {}
    for name in ("first_seen", "last_seen"):
        value = raw.get(name)
        if value is None:
            continue
        try:
            times[name] = format_ms(parse_us(str(value)))
        except ValueError:
            raise InvalidInput(f"{name}: not a timestamp", [name]) from None
    obj: dict[str, Any] = {
        "type": "sighting", "spec_version": "2.1", "id": new_id("sighting"), "created": stamp,
        "modified": stamp, "created_by_ref": submitter.identity_id, "sighting_of_ref": ind,
        "where_sighted_refs": [submitter.identity_id], "count": count,
        "x_bayanihan_verdict": verdict, "object_marking_refs": [level.marking_id], **times}
    if isinstance(raw.get("description"), str):
        obj["description"] = raw["description"][:2000]
    return obj


def record_sightings(conn: Connection, results: Any, good: Any, submitter: Submitter,
                     reader: Reader, audience: list[str] | None) -> IngestResult:
    """Store checked sightings through the hub's ingest write half and index them, in the
    caller's write transaction. The sighted indicator must be one the submitter may see."""
    for index, obj in good:
        ref = obj.get("sighting_of_ref", "")
        found = conn.execute(select(stix_objects.c.id).where(
            stix_objects.c.id == ref, stix_objects.c.type == "indicator",
            stix_objects.c.is_latest.is_(True), visible(reader)).limit(1)).first()
        if found is None:
            raise NotFound(f"no indicator {ref} that you may see",
                           [f"objects[{index}].sighting_of_ref"])
    result = store_checked(conn, results, good, submitter, audience, action="sightings.add")
    stored = {v.id: v for v in result.stored}
    pks = dict(conn.execute(select(stix_objects.c.id, stix_objects.c.pk).where(
        stix_objects.c.id.in_(list(stored)))).all()) if stored else {}
    for sid, v in stored.items():
        obj = v.obj
        verdict = obj.get("x_bayanihan_verdict", "seen")
        when = obj.get("last_seen") or obj.get("modified") or obj["created"]
        conn.execute(insert(indicator_sighting).values(
            sighting_id=sid, object_pk=pks[sid], indicator_id=obj["sighting_of_ref"],
            org=submitter.org, verdict=verdict if verdict in VERDICTS else "seen",
            count=int(obj.get("count", 1)), seen_us=parse_us(when)))
    return result
