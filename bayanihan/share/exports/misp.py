"""A MISP feed: ``manifest.json``, ``hashes.csv`` and one event file per event, the layout
MISP's "Add feed" (format *MISP Feed*) subscribes to.

One event per campaign the reader may see (``Bayanihan campaign …``) and one for values in
no campaign; event uuids are stable (uuid5 of the campaign id). Every attribute carries its
own ``tlp:`` tag, the event the most restrictive of them. The feed is built per reader: a
member subscribes with its key in the feed's headers (``Authorization: Bearer …``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

from bayanihan.model.stix import format_ms
from bayanihan.share.exports.formats import Context, Row

__all__ = ["event_file", "event_uuid", "hashes_csv", "manifest"]

_NS = uuid.UUID("6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
_ORG = {"name": "Bayanihan hub", "uuid": "5b7f3e0a-1c2d-4e8f-9a6b-3d4c5e6f7a80"}
_TYPES = {"domain": ("domain", "Network activity"), "url": ("url", "Network activity"),
          "ip": ("ip-dst", "Network activity"), "phone": ("phone-number", "Other"),
          "sha256": ("sha256", "Payload delivery"), "tlsh": ("tlsh", "Payload delivery"),
          "email": ("email-src", "Payload delivery"), "wallet": ("text", "Financial fraud")}
_ORDER = ["clear", "green", "amber", "amber+strict", "red"]
NO_CAMPAIGN = "none"


def event_uuid(campaign: str | None) -> str:
    return str(uuid.uuid5(_NS, campaign or NO_CAMPAIGN))


def _key(row: Row) -> str:
    return row.campaigns[0] if row.campaigns else NO_CAMPAIGN


def _attribute(row: Row) -> dict[str, Any]:
    kind, category = _TYPES.get(row.kind, ("text", "Other"))
    return {"uuid": str(uuid.uuid5(_NS, f"{row.kind}|{row.value}")), "type": kind,
            "category": category, "value": row.value, "to_ids": True,
            "timestamp": str(row.version_us // 1_000_000),
            "comment": f"confidence {row.confidence}; indicators {' '.join(row.indicators)}",
            "Tag": [{"name": f"tlp:{row.tlp}"}]}


def _events(ctx: Context) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for row in ctx.fetch(ctx.scope, context=True):
        entry = found.setdefault(_key(row), {"stamp": 0, "tlp": "clear"})
        entry["stamp"] = max(entry["stamp"], row.version_us // 1_000_000)
        if _ORDER.index(row.tlp) > _ORDER.index(entry["tlp"]):
            entry["tlp"] = row.tlp
    return found


def _info(key: str) -> str:
    return "Bayanihan: values in no campaign" if key == NO_CAMPAIGN else f"Bayanihan campaign {key}"


def manifest(ctx: Context) -> Iterator[str]:
    out = {}
    for key, entry in sorted(_events(ctx).items()):
        out[event_uuid(None if key == NO_CAMPAIGN else key)] = {
            "info": _info(key), "Orgc": _ORG, "analysis": "2", "threat_level_id": "2",
            "timestamp": str(entry["stamp"]), "date": format_ms(entry["stamp"] * 1_000_000)[:10],
            "published": True, "Tag": [{"name": f"tlp:{entry['tlp']}"}]}
    yield json.dumps(out, indent=1)


def hashes_csv(ctx: Context) -> Iterator[str]:
    for row in ctx.fetch(ctx.scope, context=True):
        key = _key(row)
        digest = hashlib.md5(row.value.encode(), usedforsecurity=False).hexdigest()
        yield f"{digest},{event_uuid(None if key == NO_CAMPAIGN else key)}\n"


def event_file(ctx: Context, wanted: str) -> Iterator[str] | None:
    """The event ``wanted`` (its uuid) as the reader sees it; None when there is none."""
    keys = {event_uuid(c): c for c in ctx.campaigns()}
    keys[event_uuid(None)] = NO_CAMPAIGN
    key = keys.get(wanted)
    if key is None:
        return None
    scope = ctx.scope if key == NO_CAMPAIGN else ctx.scope.__class__(
        **{**ctx.scope.__dict__, "campaign": key})
    return _event(ctx, key, scope)


def _event(ctx: Context, key: str, scope: Any) -> Iterator[str]:
    stamp, tlp, first = 0, "clear", True
    yield ('{"Event": {"uuid": ' + json.dumps(event_uuid(None if key == NO_CAMPAIGN else key))
           + ', "info": ' + json.dumps(_info(key)) + ', "Orgc": ' + json.dumps(_ORG)
           + ', "analysis": "2", "threat_level_id": "2", "published": true, "Attribute": [')
    for row in ctx.fetch(scope, context=True):
        if _key(row) != key:
            continue
        stamp = max(stamp, row.version_us // 1_000_000)
        if _ORDER.index(row.tlp) > _ORDER.index(tlp):
            tlp = row.tlp
        yield ("" if first else ",") + json.dumps(_attribute(row))
        first = False
    stamp = stamp or ctx.now_us // 1_000_000
    yield (f'], "timestamp": "{stamp}", "publish_timestamp": "{stamp}", '
           f'"date": "{format_ms(stamp * 1_000_000)[:10]}", '
           f'"Tag": [{{"name": "tlp:{tlp}"}}]}}}}')
