"""The check API's logic: what the hub knows about a batch of items, as one reader may see it.

An item is a whole message, a URL, a domain, an IP, a phone number, a hash or a TLSH digest
(``type`` given, or guessed). For each: exact indicator matches, lookalike domains (same
confusable skeleton, :mod:`bayanihan.model.skeleton`), near-duplicate lures (the lure
index), near malware variants (the TLSH index), with the campaigns, confidence and TLP of
what matched. Everything comes through :mod:`.source` or is checked against
:func:`bayanihan.share.policy.visible`, so nothing the reader may not see is revealed —
not even that something exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, select

from bayanihan.correlate.lures import CACHED_TEXT, LureInputError
from bayanihan.correlate.report_links import lure_index
from bayanihan.correlate.tables_campaigns import linked_report
from bayanihan.correlate.value_rows import lookup
from bayanihan.correlate.variants import VariantIndex
from bayanihan.errors import InvalidInput
from bayanihan.ingest.observables import (
    ObservableError,
    canonical_hash,
    canonical_ip,
    canonical_phone,
    canonical_url,
    extract,
    normalize_domain,
)
from bayanihan.model.timing import Stages
from bayanihan.share.policy import Reader, visible
from bayanihan.store.schema import stix_objects

__all__ = ["ITEM_TYPES", "MAX_ITEMS", "Item", "check", "parse_items"]

MAX_ITEMS = 1000
ITEM_TYPES = ("message", "url", "domain", "ip", "phone", "hash", "tlsh")
_OBS_KIND = {"url": "url", "domain-name": "domain", "ipv4-addr": "ip", "ipv6-addr": "ip",
             "phone-number": "phone", "email-addr": "email", "crypto-wallet": "wallet"}


@dataclass
class Item:
    type: str
    value: str
    keys: list[tuple[str, str]] = field(default_factory=list)  # (kind, value) to look up
    skeletons: list[str] = field(default_factory=list)
    lure: str | None = None
    tlsh: str | None = None


def _domain_keys(item: Item, host: str) -> None:
    forms = normalize_domain(host)
    item.keys.append(("domain", forms.ascii))
    if forms.registered_domain and forms.registered_domain != forms.ascii:
        item.keys.append(("domain", forms.registered_domain))
    item.skeletons.append(forms.skeleton)


def _guess(value: str) -> str:
    text = value.strip()
    if " " in text or "\n" in text:
        return "message"
    for kind, fn in (("tlsh", lambda t: canonical_hash(t)[1] == "TLSH" or None),
                     ("hash", canonical_hash), ("ip", canonical_ip), ("url", lambda t: (
                         "://" in t or "/" in t) and canonical_url(t)),
                     ("phone", lambda t: t.lstrip("+").replace(" ", "").isdigit()
                      and canonical_phone(t)), ("domain", normalize_domain)):
        try:
            if fn(text):
                return kind
        except (ObservableError, ValueError):
            continue
    return "message"


def _item(kind: str, value: str) -> Item:
    item = Item(kind, value)
    if kind == "domain":
        _domain_keys(item, value)
    elif kind == "url":
        url = canonical_url(value)
        item.keys.append(("url", url))
        host = url.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[2].split(":")[0]
        with suppress(ObservableError):
            _domain_keys(item, host)
    elif kind == "ip":
        item.keys.append(("ip", canonical_ip(value)[0]))
    elif kind == "phone":
        item.keys.append(("phone", canonical_phone(value)))
    elif kind in ("hash", "tlsh"):
        digest, hash_type = canonical_hash(value)
        if hash_type == "TLSH":
            item.keys.append(("tlsh", digest))
            item.tlsh = digest
        elif hash_type == "SHA-256":
            item.keys.append(("sha256", digest))
        else:
            raise ObservableError("file-hash", value, "send a SHA-256 or TLSH digest")
    else:  # message
        item.lure = value
        keys, skeletons = _message_parts(value) if len(value) <= CACHED_TEXT \
            else _read_message(value)
        item.keys.extend(keys)
        item.skeletons.extend(skeletons)
    item.keys = list(dict.fromkeys(item.keys))
    return item


def _read_message(text: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(kind, value) keys and lookalike skeletons of the observables in a message."""
    keys: list[tuple[str, str]] = []
    skeletons: list[str] = []
    for obs in extract(text):
        mapped = _OBS_KIND.get(obs.kind)
        if mapped:
            keys.append((mapped, obs.value))
        if obs.kind in ("url", "domain-name") and obs.get("skeleton"):
            skeletons.append(str(obs.get("skeleton")))
            if obs.get("host") and obs.get("host_kind", "domain-name") == "domain-name":
                keys.append(("domain", str(obs.get("host"))))
    return tuple(keys), tuple(skeletons)


#: a message's observables are kept per text (a gateway checks one wave's SMS again and
#: again; extracting them costs about 0.5 ms), like its lure signature (correlate/lures.py)
_message_parts = lru_cache(maxsize=2048)(_read_message)


def parse_items(raw: Any) -> list[Item]:
    """Items from the request body ``{"items": [...]}``; InvalidInput naming the item."""
    if not isinstance(raw, dict) or not isinstance(raw.get("items"), list):
        raise InvalidInput('body: {"items": [...]}', ["items"])
    items = raw["items"]
    if not items or len(items) > MAX_ITEMS:
        raise InvalidInput(f"items: 1 to {MAX_ITEMS} items", ["items"])
    out = []
    for n, entry in enumerate(items):
        where = f"items[{n}]"
        if isinstance(entry, str):
            entry = {"value": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str) \
                or not entry["value"].strip() or len(entry["value"]) > 10_000:
            raise InvalidInput(f"{where}: a string or {{type, value}} (value 1-10000 chars)",
                               [where])
        kind = entry.get("type") or _guess(entry["value"])
        if kind not in ITEM_TYPES:
            raise InvalidInput(f"{where}.type: one of {', '.join(ITEM_TYPES)}", [f"{where}.type"])
        try:
            out.append(_item(kind, entry["value"]))
        except (ObservableError, ValueError) as exc:
            raise InvalidInput(f"{where}.value: {exc}", [f"{where}.value"]) from None
    return out


def _reports(conn: Connection, reader: Reader, ids: set[str]) -> dict[str, dict[str, Any]]:
    """report id -> {tlp, campaign} for the reports the reader may see."""
    if not ids:
        return {}
    found = conn.execute(  # is_latest/revoked checked here: as SQL terms, SQLite chose the
        select(stix_objects.c.id, stix_objects.c.tlp, stix_objects.c.is_latest,  # is_latest
               stix_objects.c.revoked, linked_report.c.campaign_id)  # index and scanned it
        .join(linked_report, linked_report.c.report_id == stix_objects.c.id, isouter=True)
        .where(stix_objects.c.id.in_(sorted(ids)), visible(reader))).all()
    return {r.id: {"tlp": r.tlp, "campaign": r.campaign_id} for r in found
            if r.is_latest and not r.revoked}


def _value_matches(conn: Connection, reader: Reader, items: Sequence[Item],
                   at_us: int | None) -> tuple[dict[tuple[str, str], Any], dict[str, list[Any]]]:
    keys = {k for it in items for k in it.keys}
    skels = {s for it in items for s in it.skeletons}
    exact: dict[tuple[str, str], Any] = {}
    by_skeleton: dict[str, list[Any]] = defaultdict(list)
    for row in lookup(conn, reader, keys, skels, at_us):
        if (row.kind, row.value) in keys:
            exact[(row.kind, row.value)] = row
        if row.skeleton in skels:
            by_skeleton[row.skeleton].append(row)
    return exact, by_skeleton


def _row_json(row: Any, match: str) -> dict[str, Any]:
    return {"match": match, "kind": row.kind, "value": row.value, "tlp": row.tlp,
            "confidence": row.confidence, "campaigns": row.campaigns,
            "indicators": row.indicators}


def _near_lures(conn: Connection, items: Sequence[Item]) -> dict[int, list[tuple[str, float]]]:
    """item number -> (report, score) of the stored lures each message is a copy of (one
    statement a message: batching them was tried and was slower, see docs/benchmarks.md)."""
    index = lure_index()
    out: dict[int, list[tuple[str, float]]] = {}
    for n, it in enumerate(items):
        if it.lure:
            try:
                out[n] = [(m.lure_ref.split("#", 1)[0], m.score)
                          for m in index.similar(conn, it.lure, None)]
            except (LureInputError, ValueError):
                out[n] = []
    return out


def check(conn: Connection, reader: Reader, items: Sequence[Item],
          at_us: int | None = None, stages: Stages | None = None) -> list[dict[str, Any]]:
    """One result per item, in order; ``stages`` gets the time of each step (values, lures,
    variants, reports) for ``Server-Timing``."""
    stages = Stages() if stages is None else stages
    with stages.stage("values"):
        exact, by_skeleton = _value_matches(conn, reader, items, at_us)
    with stages.stage("lures"):
        lures = _near_lures(conn, items)
    variants: dict[int, list[tuple[str, int]]] = {}
    with stages.stage("variants"):
        for n, it in enumerate(items):
            if it.tlsh:
                variants[n] = [(m.object_ref.split("|", 1)[0], m.distance)
                               for m in VariantIndex().near(conn, it.tlsh)]
    with stages.stage("reports"):
        reports = _reports(conn, reader, {r for v in lures.values() for r, _ in v}
                           | {r for v in variants.values() for r, _ in v})
    out = []
    for n, it in enumerate(items):
        matches = [_row_json(exact[k], "exact") for k in it.keys if k in exact]
        seen = {(m["kind"], m["value"]) for m in matches}
        for skel in it.skeletons:
            for row in by_skeleton.get(skel, []):
                if (row.kind, row.value) not in seen:
                    seen.add((row.kind, row.value))
                    matches.append({**_row_json(row, "lookalike"), "lookalike_of": skel})
        near_lures = [{"report": r, "score": round(s, 3), **reports[r]}
                      for r, s in lures.get(n, []) if r in reports]
        near_variants = [{"report": r, "distance": d, **reports[r]}
                         for r, d in variants.get(n, []) if r in reports]
        campaigns = sorted({c for m in matches for c in m["campaigns"]}
                           | {x["campaign"] for x in near_lures + near_variants if x["campaign"]})
        out.append({"type": it.type, "value": it.value[:200], "known": bool(
            matches or near_lures or near_variants), "matches": matches,
            "lures": near_lures, "variants": near_variants, "campaigns": campaigns})
    return out
