"""A stored report back out as a MISP event (``GET /api/v1/reports/{id}?format=misp``).

The hub writes what it maps itself: the event (uuid of the report, ``info``, date, TLP and
distribution, ``bayanihan:*`` tags from the AI-threat extension, MITRE galaxy tags of the
techniques, the report's ``labels`` as the other tags, event reports ``narrative`` and
``ai-evidence``), the attributes behind its observables (from ``observed-data--<uuid>``
and ``indicator--<uuid>``: type, category, ``to_ids``, comment, tags, sightings), lures
as ``text`` attributes and wallets as ``coin-address`` objects.
Everything else the report holds (what came from ``misp-stix`` on import: MISP objects
and their references, other attribute types, galaxy clusters, event reports) is turned
back by misp-stix's own STIX -> MISP parser and merged in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import stix2
from pymisp import MISPEvent, MISPObject, MISPSighting

from bayanihan.ingest.misp_meta import put_event_meta, put_seen
from bayanihan.ingest.misp_read import ATTRIBUTE_KINDS, TLP_DISTRIBUTION, WALLET_SYMBOLS
from bayanihan.ingest.misp_stix import misp_stix
from bayanihan.model.extension import ai_properties
from bayanihan.model.stix import parse_us
from bayanihan.model.tlp import TLP, tlp_of

__all__ = ["report_to_event"]

#: The MISP type an observable kind is written as when it came with none.
DEFAULT_TYPES = {"url": "url", "domain-name": "domain", "ipv4-addr": "ip-dst",
                 "ipv6-addr": "ip-dst", "email-addr": "email-src", "phone-number": "phone-number"}
HASH_TYPES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512",
              "TLSH": "tlsh", "SSDEEP": "ssdeep"}
_LABEL = re.compile(r'^misp:([a-z_-]+)="(.*)"$', re.S)
_PATTERN = re.compile(r"^\[(?P<type>[a-z0-9-]+):(?P<path>value|hashes\.'(?P<hash>[A-Z0-9-]+)')"
                      r" = '(?P<value>(?:[^'\\]|\\.)*)'\]$")
_HUB_SCOS = {"url", "domain-name", "ipv4-addr", "ipv6-addr", "email-addr", "file",
             "bayanihan-phone-number", "bayanihan-crypto-wallet"}
#: Tags misp-stix adds on its way back that the event did not carry.
_CONVERTER_TAGS = ("misp:tool=", "Threat-Report", "misp-galaxy:")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _misp_labels(obj: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """(misp:* labels by name, the other labels: tags)."""
    named, tags = {}, []
    for label in obj.get("labels", ()):
        if m := _LABEL.match(label):
            named[m.group(1)] = m.group(2)
        else:
            tags.append(label)
    return named, tags


def _indicator_attribute(obj: dict[str, Any], scos: dict[str, dict[str, Any]],
                         ) -> tuple[str, dict[str, Any], dict[str, str]] | None:
    """(kind, attribute fields, wallet details) of an indicator the hub made; None otherwise."""
    match = _PATTERN.match(str(obj.get("pattern", "")))
    if match is None:
        return None
    labels, tags = _misp_labels(obj)
    value = _unescape(match.group("value"))
    sco_type, hash_name = match.group("type"), match.group("hash")
    wallet: dict[str, str] = {}
    if hash_name:
        kind, misp_type = "file-hash", HASH_TYPES.get(hash_name)
    elif sco_type == "bayanihan-crypto-wallet":
        kind, misp_type = "crypto-wallet", "btc"
        wallet["chain"] = next((str(s.get("chain")) for s in scos.values()
                                if s["type"] == sco_type and s.get("value") == value), "BTC")
        if labels.get("object"):
            wallet["object"] = labels["object"]
    else:
        kind = {"bayanihan-phone-number": "phone-number"}.get(sco_type, sco_type)
        misp_type = DEFAULT_TYPES.get(kind)
    if misp_type is None:
        return None
    if misp_type == "tlsh" and not value.upper().startswith("T1"):
        value = "T1" + value
    fields = _fields(labels.get("type", misp_type), value, obj["id"].split("--", 1)[1],
                     labels.get("to_ids", "True") == "True", labels, obj.get("description"), tags)
    return kind, fields, wallet


def _fields(misp_type: str, value: str, own: str, to_ids: bool, labels: dict[str, str],
            comment: str | None, tags: list[str]) -> dict[str, Any]:
    """The arguments of ``MISPEvent.add_attribute`` for one attribute."""
    fields: dict[str, Any] = {"type": misp_type, "value": value, "uuid": own, "to_ids": to_ids}
    if labels.get("category"):
        fields["category"] = labels["category"]
    if comment:
        fields["comment"] = comment
    if tags:
        fields["Tag"] = [{"name": t} for t in tags]
    return fields


def _sco_value(sco: dict[str, Any], misp_type: str) -> str | None:
    if sco.get("type") == "file":
        name = next((h for h, t in HASH_TYPES.items() if t == misp_type), None)
        value = (sco.get("hashes") or {}).get(name or "")
        if misp_type == "tlsh" and value and not value.upper().startswith("T1"):
            value = "T1" + value
        return value
    return sco.get("value")


def _observed_attribute(obj: dict[str, Any], by_id: dict[str, dict[str, Any]],
                        indicators: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The attribute behind a hub ``observed-data--<uuid>``; None for other observed-data."""
    labels, tags = _misp_labels(obj)
    refs = obj.get("object_refs") or []
    if len(refs) != 1 or (sco := by_id.get(refs[0])) is None or sco["type"] not in _HUB_SCOS:
        return None
    own = obj["id"].split("--", 1)[1]
    if labels.get("object") == "coin-address":
        return {"object": "coin-address", "uuid": own, "address": sco.get("value"),
                "symbol": WALLET_SYMBOLS.get(str(sco.get("chain")), "BTC"),
                "comment": obj.get("x_misp_comment")}
    misp_type = labels.get("type")
    value = obj.get("x_misp_value") or _sco_value(sco, misp_type or "")
    if misp_type not in ATTRIBUTE_KINDS or value is None:
        return None
    fields = _fields(misp_type, value, own, f"indicator--{own}" in indicators, labels,
                     obj.get("x_misp_comment"), tags)
    fields |= {k: obj[f"x_misp_{k}"] for k in ("first_seen", "last_seen") if obj.get(f"x_misp_{k}")}
    return fields


def _sightings(objects: list[dict[str, Any]], by_id: dict[str, dict[str, Any]],
               ) -> dict[str, list[MISPSighting]]:
    """Attribute uuid -> its sightings (``sighting``) and false positives (``opinion``)."""
    out: dict[str, list[MISPSighting]] = {}
    for obj in objects:
        if obj.get("type") == "sighting":
            targets, kind = [obj.get("sighting_of_ref", "")], "0"
        elif obj.get("type") == "opinion" and obj.get("opinion") in (
                "strongly-disagree", "disagree"):
            targets, kind = obj.get("object_refs", []), "1"
        else:
            continue
        who = [*obj.get("where_sighted_refs", []), obj.get("x_misp_author_ref")]
        org = next((by_id[r] for r in who if r in by_id), None)
        for target in dict.fromkeys(str(t).split("--", 1)[-1] for t in targets):
            sighting = MISPSighting()
            sighting.from_dict(uuid=obj["id"].split("--", 1)[1], type=kind,
                               date_sighting=str(parse_us(obj["created"]) // 1_000_000),
                               source=obj.get("description", "") or "")
            if org:
                sighting.Organisation = {"uuid": org["id"].split("--", 1)[1],
                                         "name": org.get("name", "")}
            out.setdefault(target, []).append(sighting)
    return out


def _header(event: MISPEvent, report: dict[str, Any], props: dict[str, Any],
            objects: list[dict[str, Any]], audience: Sequence[str] | None) -> None:
    event.info = report.get("name", "")
    event.uuid = report["id"].split("--", 1)[1]
    tlp = tlp_of(report.get("object_marking_refs")) or TLP.AMBER
    event.distribution = TLP_DISTRIBUTION[tlp]
    first = props.get("first_seen") or report.get("published") or report.get("created")
    event.set_date(datetime.fromisoformat(first.replace("Z", "+00:00")).astimezone(UTC).date())
    event.timestamp = parse_us(report.get("modified") or report["created"]) // 1_000_000
    put_event_meta(event, report.get("x_misp_event"))
    names = [f"tlp:{tlp.value}", *_ai_tags(props)]
    names += [f'bayanihan:audience="{org}"' for org in audience or ()]
    aps = {o["id"]: o for o in objects if o.get("type") == "attack-pattern"}
    for ap_id in report.get("object_refs", ()):
        ap = aps.get(ap_id)
        for ref in (ap or {}).get("external_references", ()):
            ext, src = ref.get("external_id", ""), ref.get("source_name", "")
            if src in ("mitre-atlas", "mitre-attack") and ext and ap:
                galaxy = "mitre-atlas-attack-pattern" if src == "mitre-atlas" else "mitre-attack-pattern"
                names.append(f'misp-galaxy:{galaxy}="{ap.get("name", ext)} - {ext}"')
    names += [label for label in report.get("labels", ()) if not label.startswith("misp:")]
    for name in dict.fromkeys(names):
        event.add_tag(name)
    if report.get("description") and report.get("description") != report.get("name"):
        event.add_event_report(name="narrative", content=report["description"])
    ai = props.get("ai_involvement") or {}
    if ai.get("evidence"):
        event.add_event_report(name="ai-evidence", content=ai["evidence"])


def _ai_tags(props: dict[str, Any]) -> list[str]:
    ai = props.get("ai_involvement") or {}
    single = {"vector": props.get("vector"), "channel": props.get("channel"),
              "first-seen": props.get("first_seen"), "last-seen": props.get("last_seen"),
              "ai-assessment": ai.get("assessment"),
              "ai-confidence": str(ai["confidence"]) if "confidence" in ai else None}
    out = [f'bayanihan:{key}="{value}"' for key, value in single.items() if value]
    for key, prop in (("country", "targeted_countries"), ("sector", "targeted_sectors"),
                      ("language", "languages"), ("deepfake-media", "deepfake_media")):
        out += [f'bayanihan:{key}="{value}"' for value in props.get(prop) or ()]
    return out


def _coin(fields: dict[str, Any]) -> MISPObject:
    coin = MISPObject("coin-address")
    coin.uuid = fields["uuid"]
    coin.add_attribute("address", value=fields["address"])
    coin.add_attribute("symbol", value=fields["symbol"])
    if fields.get("comment"):
        coin.comment = fields["comment"]
    return coin


def report_to_event(objects: list[dict[str, Any]], audience: Sequence[str] | None = None,
                    ) -> dict[str, Any]:
    """A MISP event (``{"Event": …}``) for a stored report and the objects it refers to.

    ``audience``: the report's named recipients, written as ``bayanihan:audience`` tags.
    """
    report = objects[0]
    props = ai_properties(report) or {}
    event = MISPEvent()
    _header(event, report, props, objects, audience)
    by_id = {o["id"]: o for o in objects}
    indicators = {o["id"]: o for o in objects
                  if o.get("type") == "indicator" and ai_properties(o) is not None}
    sightings = _sightings(objects, by_id)
    done: set[str] = {report["id"]}
    texts: set[str] = set()
    for obj in objects:
        if obj.get("type") == "observed-data" and (fields := _observed_attribute(
                obj, by_id, indicators)) is not None:
            own = fields["uuid"]
            done |= {obj["id"], f"indicator--{own}", *obj["object_refs"]}
            if fields.pop("object", None):
                event.add_object(_coin(fields))
                continue
            attr = event.add_attribute(**fields)
            for s in sightings.get(own, ()):
                attr.add_sighting(s)
        elif obj.get("type") == "x-misp-attribute" and obj.get("x_misp_type") == "text":
            texts.add(str(obj.get("x_misp_value")))
    for obj in indicators.values():
        if obj["id"] in done or (made := _indicator_attribute(obj, by_id)) is None:
            continue
        kind, fields, wallet = made
        done.add(obj["id"])
        if kind == "crypto-wallet" and (wallet["chain"] != "BTC" or wallet.get("object")):
            event.add_object(_coin({"uuid": fields["uuid"], "address": fields["value"],
                                    "symbol": WALLET_SYMBOLS[wallet["chain"]]}))
        else:
            event.add_attribute(**fields)
    for lure in props.get("lure_fingerprints") or ():
        if lure.get("text") and lure["text"] not in texts:
            event.add_attribute("text", lure["text"], category="Other", to_ids=False,
                                comment="lure")
    _carried(event, report, objects, done, sightings)
    return {"Event": orjson.loads(event.to_json())}


def _hub_made(obj: dict[str, Any], report: dict[str, Any]) -> bool:
    """Objects of the hub's own report structure (not carried from MISP)."""
    if ai_properties(obj) is not None:
        return True
    if obj.get("type") == "relationship":
        return str(obj.get("source_ref", "")).startswith("incident--")
    return obj.get("type") == "attack-pattern" and any(
        r.get("source_name") in ("mitre-attack", "mitre-atlas")
        for r in obj.get("external_references", ()))


def _carried(event: MISPEvent, report: dict[str, Any], objects: list[dict[str, Any]],
             done: set[str], sightings: dict[str, list[MISPSighting]]) -> None:
    """Merge what misp-stix turns the carried objects back into."""
    carried = []
    for obj in objects[1:]:
        if obj["id"] in done or _hub_made(obj, report):
            continue
        if obj.get("type") in ("sighting", "opinion"):  # put back by _sightings, uuids too
            continue
        carried.append(obj)
    ids = {o["id"] for o in carried}
    carried = [o for o in carried if o.get("type") != "relationship"
               or (o.get("source_ref") in ids and o.get("target_ref") in ids)]
    if not any(o.get("type") not in ("identity", "relationship") for o in carried):
        return
    stamp = report.get("modified") or report["created"]
    grouping = {"type": "grouping", "spec_version": "2.1",
                "id": f"grouping--{event.uuid}", "created": stamp, "modified": stamp,
                "name": event.info or "event", "context": "suspicious-activity",
                "labels": ['misp:tool="MISP-STIX-Converter"'],
                "object_refs": [o["id"] for o in carried]}
    bundle = stix2.parse({"type": "bundle", "id": f"bundle--{event.uuid}",
                          "objects": [grouping, *carried]}, allow_custom=True)
    parser = misp_stix().InternalSTIX2toMISPParser()
    parser.load_stix_bundle(bundle)
    parser.parse_stix_bundle()
    back = parser.misp_event
    by_uuid: dict[str, list[dict[str, Any]]] = {}
    for obj in carried:
        by_uuid.setdefault(obj["id"].split("--", 1)[1], []).append(obj)
    have = {a.uuid for a in event.attributes}
    level = next((t.name for t in event.tags if t.name.startswith("tlp:")), "")
    for attr in [*back.attributes, *(a for o in back.objects for a in o.attributes)]:
        attr.tags = [t for t in attr.tags if t.name != level]  # the event's marking, not a tag
    for attr in back.attributes:
        if attr.uuid not in have and not (attr.type == "text" and attr.value == event.info):
            if not getattr(attr, "comment", "") and (note := _comment(by_uuid.get(attr.uuid))):
                attr.comment = note
            attr.Sighting = list(sightings.get(attr.uuid, ()))
            put_seen(attr, by_uuid.get(attr.uuid, ()))
            event.add_attribute(**attr.to_dict())
    for obj in back.objects:
        _restore(obj, by_uuid.get(obj.uuid), objects, done)
        event.add_object(obj)
    for galaxy in back.galaxies:
        event.add_galaxy(galaxy)
    for report_ in back.event_reports:
        event.add_event_report(**report_.to_dict())
    names = {t.name for t in event.tags}
    for tag in back.tags:
        if tag.name not in names and not tag.name.startswith(_CONVERTER_TAGS):
            event.add_tag(tag.name)


def _comment(stored: list[dict[str, Any]] | None) -> str | None:
    for obj in stored or ():
        if obj.get("x_misp_comment") or obj.get("description"):
            return str(obj.get("x_misp_comment") or obj.get("description"))
    return None


def _restore(obj: MISPObject, stored: list[dict[str, Any]] | None,
             objects: list[dict[str, Any]], done: set[str]) -> None:
    """Put back what misp-stix's way back loses: the comment, attribute uuids, first_seen
    and last_seen, and references to attributes the hub wrote itself."""
    if not getattr(obj, "comment", "") and (note := _comment(stored)):
        obj.comment = note
    uuids = {(r, v): u for s in stored or () for r, v, u in s.get("x_misp_attribute_uuids", ())}
    put_seen(obj, stored or ())
    seen = {u: v for s in stored or () for u, v in (s.get("x_misp_attribute_seen") or {}).items()}
    for attr in obj.attributes:
        if (found := uuids.get((attr.object_relation, str(attr.value)))) is not None:
            attr.uuid = found
        put_seen(attr, [seen.get(attr.uuid, {})])
    mine = {s["id"] for s in stored or ()}
    have = {(r.referenced_uuid, r.relationship_type) for r in obj.references}
    for rel in objects:
        if rel.get("type") == "relationship" and rel.get("source_ref") in mine \
                and rel.get("target_ref") in done:
            target = str(rel["target_ref"]).split("--", 1)[1]
            if (target, rel["relationship_type"]) not in have:
                obj.add_reference(target, rel["relationship_type"])
                have.add((target, rel["relationship_type"]))
