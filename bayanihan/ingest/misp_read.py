"""MISP input in the shapes MISP and PyMISP write, made complete before conversion.

Accepted: a bare event, ``{"Event": …}``, a list of either, and a REST search response
``{"response": [{"Event": …}, …]}``. Each event is returned with the path its fields are
named under in answers (``Event``, ``[2].Event``, ``response[0].Event``).

:func:`prepare` fills what MISP exports sometimes leave out and the converter needs:
UUIDs (deterministic, so the same event read twice gets the same ids) for the event, its
attributes, objects, object attributes, sightings and event reports, and a UUID of its own
for each galaxy cluster that shares one with another cluster (old MISP exports give every
cluster of a galaxy the galaxy's UUID; the converter would keep only the first).
:func:`locate` maps every UUID to the field that holds it, for refusals.
"""

from __future__ import annotations

import contextlib
import copy
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from pymisp import MISPEvent

from bayanihan.errors import InvalidInput
from bayanihan.model.tlp import TLP

__all__ = ["ATTRIBUTE_KINDS", "DISTRIBUTION_TLP", "MISP_NAMESPACE", "TLP_DISTRIBUTION",
           "WALLET_SYMBOLS", "locate", "pairs", "prepare", "read_events", "sharing"]

#: MISP attribute type -> observable kind (and, for hashes, the STIX hash name).
ATTRIBUTE_KINDS: dict[str, tuple[str, str | None]] = {
    "url": ("url", None), "link": ("url", None),
    "domain": ("domain-name", None), "hostname": ("domain-name", None),
    "ip-src": ("ip", None), "ip-dst": ("ip", None),
    "email": ("email-addr", None), "email-src": ("email-addr", None),
    "email-dst": ("email-addr", None),
    "md5": ("file-hash", "MD5"), "sha1": ("file-hash", "SHA-1"),
    "sha256": ("file-hash", "SHA-256"), "sha512": ("file-hash", "SHA-512"),
    "tlsh": ("file-hash", "TLSH"), "ssdeep": ("file-hash", "SSDEEP"),
    "phone-number": ("phone-number", None), "btc": ("crypto-wallet", None),
}
WALLET_SYMBOLS = {"BTC": "BTC", "ETH": "ETH", "TRON": "TRX"}
#: MISP distribution -> TLP when the event has no tlp: tag.
DISTRIBUTION_TLP = {0: TLP.RED, 1: TLP.AMBER, 2: TLP.GREEN, 3: TLP.GREEN, 4: TLP.AMBER}
#: TLP -> MISP distribution when an event is written.
TLP_DISTRIBUTION = {TLP.CLEAR: 3, TLP.GREEN: 2, TLP.AMBER: 1, TLP.AMBER_STRICT: 1, TLP.RED: 0}

_TAG = re.compile(r'^bayanihan:([a-z-]+)="(.*)"$', re.S)

#: Namespace of the UUIDs the hub derives for MISP elements that came without one.
MISP_NAMESPACE = uuid.UUID("6f0c8cb2-0d4e-5a43-9d0c-6b4a7d9f1a11")
_VOLATILE = ("id", "timestamp", "publish_timestamp", "published", "attribute_count",
             "RelatedEvent", "org_id", "orgc_id", "event_creator_email")


def _event_of(item: Any) -> dict[str, Any] | None:
    if isinstance(item, dict) and isinstance(item.get("Event"), dict):
        item = item["Event"]
    return item if isinstance(item, dict) and "info" in item else None


def read_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(field path, event dict) of each MISP event in a JSON document; InvalidInput otherwise."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not JSON (or not UTF-8): {exc}", ["body"]) from None
    if isinstance(doc, dict) and "response" in doc:
        items, prefix = doc["response"], "response"
        if isinstance(items, dict):
            items = [items]
    elif isinstance(doc, list):
        items, prefix = doc, ""
    else:
        event = _event_of(doc)
        if event is None:
            raise InvalidInput('body must be a MISP event: {"Event": {"info": …}}, a list of '
                               'events or a search response {"response": […]}', ["Event"])
        return [("Event", event)]
    if not isinstance(items, list) or not items:
        raise InvalidInput("no MISP event in the body", [prefix or "body"])
    out = []
    for i, item in enumerate(items):
        event = _event_of(item)
        if event is None:
            raise InvalidInput(f"{prefix}[{i}] is not a MISP event", [f"{prefix}[{i}]"])
        out.append((f"{prefix}[{i}].Event", event))
    return out


def _derived(parent: str, *parts: object) -> str:
    return str(uuid.uuid5(uuid.UUID(parent), ":".join(str(p) for p in parts)))


def _valid_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _fill(item: dict[str, Any], parent: str, *parts: object) -> str:
    if not _valid_uuid(item.get("uuid")):
        item["uuid"] = _derived(parent, *parts)
    item["uuid"] = str(item["uuid"]).lower()
    return str(item["uuid"])


def _attributes(holder: dict[str, Any], parent: str, kind: str, stamp: Any) -> None:
    for i, attr in enumerate(holder.get("Attribute") or ()):
        if isinstance(attr, dict):
            if stamp and not str(attr.get("timestamp") or "").isdigit():
                attr["timestamp"] = stamp
            own = _fill(attr, parent, kind, i, attr.get("type"), attr.get("object_relation"),
                        attr.get("value"))
            for j, sighting in enumerate(attr.get("Sighting") or ()):
                if isinstance(sighting, dict):
                    _fill(sighting, own, "sighting", j, sighting.get("date_sighting"))


def prepare(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``event`` with the UUIDs the conversion needs (see the module text)."""
    ev = copy.deepcopy(event)
    if not _valid_uuid(ev.get("uuid")):
        stable = {k: v for k, v in ev.items() if k not in _VOLATILE}
        ev["uuid"] = str(uuid.uuid5(MISP_NAMESPACE, orjson.dumps(
            stable, option=orjson.OPT_SORT_KEYS, default=str).decode()))
    ev["uuid"] = str(ev["uuid"]).lower()
    root = ev["uuid"]
    if not str(ev.get("timestamp") or "").isdigit():
        ev.pop("timestamp", None)
        day = str(ev.get("date") or "")[:10]
        with contextlib.suppress(ValueError):
            ev["timestamp"] = str(int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()))
    stamp = ev.get("timestamp")
    _attributes(ev, root, "attribute", stamp)
    for i, obj in enumerate(ev.get("Object") or ()):
        if isinstance(obj, dict):
            own = _fill(obj, root, "object", i, obj.get("name"))
            if stamp and not str(obj.get("timestamp") or "").isdigit():
                obj["timestamp"] = stamp
            _attributes(obj, own, "object-attribute", stamp)
    for i, report in enumerate(ev.get("EventReport") or ()):
        if isinstance(report, dict):
            _fill(report, root, "event-report", i, report.get("name"))
    seen: set[str] = set()
    for galaxy in ev.get("Galaxy") or ():
        for cluster in (galaxy.get("GalaxyCluster") or ()) if isinstance(galaxy, dict) else ():
            if not isinstance(cluster, dict):
                continue
            cluster.setdefault("type", galaxy.get("type"))
            cluster.setdefault("tag_name", f'misp-galaxy:{galaxy.get("type")}="{cluster.get("value")}"')
            key = str(cluster.get("uuid", "")).lower()
            if not _valid_uuid(key) or key in seen:
                meta = cluster.get("meta") if isinstance(cluster.get("meta"), dict) else {}
                own = (meta.get("uuid") or [None])[0] if isinstance(meta.get("uuid"), list) else None
                cluster["uuid"] = own if _valid_uuid(own) and str(own).lower() not in seen \
                    else str(uuid.uuid5(MISP_NAMESPACE, f"cluster:{cluster.get('type')}:"
                                                        f"{cluster.get('value')}"))
                key = str(cluster["uuid"]).lower()
                cluster["uuid"] = key
            seen.add(key)
    return ev


def locate(event: dict[str, Any], prefix: str = "Event") -> dict[str, str]:
    """UUID -> the field holding it (``Event.Attribute[3]``, ``Event.Object[1].Attribute[0]``…)."""
    where = {str(event.get("uuid")): prefix}
    for i, attr in enumerate(event.get("Attribute") or ()):
        where[str(attr.get("uuid"))] = f"{prefix}.Attribute[{i}]"
        for j, s in enumerate(attr.get("Sighting") or ()):
            where[str(s.get("uuid"))] = f"{prefix}.Attribute[{i}].Sighting[{j}]"
    for i, obj in enumerate(event.get("Object") or ()):
        where[str(obj.get("uuid"))] = f"{prefix}.Object[{i}]"
        for j, attr in enumerate(obj.get("Attribute") or ()):
            where[str(attr.get("uuid"))] = f"{prefix}.Object[{i}].Attribute[{j}]"
    for i, report in enumerate(event.get("EventReport") or ()):
        where[str(report.get("uuid"))] = f"{prefix}.EventReport[{i}]"
    for i, galaxy in enumerate(event.get("Galaxy") or ()):
        for j, cluster in enumerate(galaxy.get("GalaxyCluster") or ()):
            where[str(cluster.get("uuid"))] = f"{prefix}.Galaxy[{i}].GalaxyCluster[{j}]"
    return where


def sharing(event: MISPEvent, tags: Sequence[str], own_org: str,
            audience: Sequence[str] | None, group: Any = None) -> tuple[TLP, list[str] | None]:
    """TLP and audience from ``tlp:`` tags, the distribution level and sharing group.

    A ``tlp:`` tag decides the level (``tlp:white`` is CLEAR); without one the
    distribution does (0 your organisation only: RED to yourself; 1 this community: AMBER;
    2 connected and 3 all communities: GREEN; 4 sharing group: AMBER to its organisations).
    An explicit ``audience`` (request parameter) wins, then ``bayanihan:audience`` tags,
    then the organisations of the sharing ``group`` (the event's ``SharingGroup``, matched
    by name to organisation codes), then distribution 0's own organisation.
    """
    levels = [t.split(":", 1)[1] for t in tags if t.lower().startswith("tlp:")]
    parsed = []
    for i, level in enumerate(levels):
        try:
            parsed.append(TLP.parse(level))
        except ValueError as exc:
            raise InvalidInput(f"Tag: {exc}", [f"Event.Tag[{i}]"]) from None
    raw = getattr(event, "distribution", None)
    try:
        distribution = 1 if raw is None else int(raw)
    except (TypeError, ValueError):
        raise InvalidInput("distribution must be 0-5", ["Event.distribution"]) from None
    tlp = max(parsed, key=lambda t: t.rank) if parsed else DISTRIBUTION_TLP.get(distribution, TLP.AMBER)
    named = list(audience) if audience else [v for k, v in pairs(tags) if k == "audience"]
    if not named and distribution == 4:
        orgs = group.get("SharingGroupOrg", []) if isinstance(group, dict) else []
        named = [str(o.get("Organisation", {}).get("name", "")) for o in orgs
                 if isinstance(o, dict) and isinstance(o.get("Organisation"), dict)]
        named = [n for n in named if n]
    if not named and distribution == 0:
        named = [own_org]
    return tlp, named or None


def pairs(tags: Sequence[str]) -> list[tuple[str, str]]:
    """(name, value) of ``bayanihan:name="value"`` tags."""
    return [(m.group(1), m.group(2)) for t in tags if (m := _TAG.match(t))]
