"""A MISP event as STIX 2.1: misp-stix (MISP's own converter) merged with the hub's report.

``misp-stix`` converts the whole event: attributes become ``indicator`` (``to_ids``) and/or
``observed-data`` with their SCOs (``x-misp-attribute`` for a type STIX has no object
for), MISP objects become indicators/observed-data/``x-misp-object`` with ``relationship``\\ s
for their references, galaxy clusters become ``threat-actor``, ``intrusion-set``,
``malware``, ``tool``, ``attack-pattern``… objects, tags become ``labels``, sightings become
``sighting`` (false positives ``opinion``), event reports ``note``. Ids carry the MISP UUIDs
(``indicator--<attribute uuid>``), so importing an event again updates it.

:func:`assemble` then puts the hub's own objects in place:

- the container is the hub's ``report--<event uuid>`` (AI-threat extension, the event's
  tags as ``labels``) with an ``incident--`` linked to the galaxy objects (``uses`` malware,
  tools and attack-patterns, ``attributed-to`` threat actors, intrusion sets, campaigns);
- an attribute the hub maps itself (:class:`Owned`: URLs, domains, IPs, e-mails, hashes,
  phone numbers, wallets) gets the hub's canonical SCO and, when ``to_ids``, the hub's
  ``indicator--<attribute uuid>``; its ``observed-data--<attribute uuid>`` always;
- clusters naming a technique the hub holds point at the hub's attack-pattern;
- every object carries the event's TLP (or its own, when more restrictive).

Objects that fail validation are left out with what refers to them, and named
(:class:`Refusal`) by the MISP field they came from.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from bayanihan.errors import InvalidInput
from bayanihan.ingest.bundles import Submitter, check_objects
from bayanihan.ingest.misp_meta import seen_notes
from bayanihan.ingest.misp_read import MISP_NAMESPACE
from bayanihan.ingest.observables.stix import stix_object, stix_pattern
from bayanihan.ingest.report_stix import Built, TypedObservable
from bayanihan.model.stix import format_ms, is_sco, parse_us
from bayanihan.model.tlp import TLP, tlp_of

__all__ = ["HUB_REPORTS", "Owned", "Refusal", "assemble", "convert", "misp_stix"]

#: Event reports the hub reads into the report itself (not kept as ``note``).
HUB_REPORTS = ("narrative", "ai-evidence")
#: Galaxy object type -> relationship from the incident.
GALAXY_LINKS = {"threat-actor": "attributed-to", "intrusion-set": "attributed-to",
                "campaign": "attributed-to", "malware": "uses", "tool": "uses",
                "attack-pattern": "uses"}
_MAX_ERROR = 300


@dataclass(frozen=True)
class Owned:
    """A MISP attribute (or ``coin-address`` object) the hub maps with its own observables."""

    uuid: str
    where: str
    to_ids: bool
    typed: TypedObservable
    stamp: int | None = None  # seconds
    comment: str | None = None
    value: str | None = None  # as MISP wrote it, when the hub's canonical form differs
    seen: Mapping[str, str] | None = None  # x_misp_first_seen / x_misp_last_seen


@dataclass(frozen=True)
class Refusal:
    """A part of an event left out, and why."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


def misp_stix() -> Any:
    """The ``misp_stix_converter`` module, imported on first use: it pulls in the STIX 1
    libraries (lxml, mixbox, six), whose import warnings are not the hub's to fix."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import misp_stix_converter
    for finder in sys.meta_path:  # mixbox vendors a six whose importer predates find_spec:
        if not hasattr(finder, "find_spec") and hasattr(finder, "known_modules"):
            type(finder).find_spec = _six_find_spec  # type: ignore[attr-defined]
    return misp_stix_converter


def _six_find_spec(self: Any, fullname: str, path: Any, target: Any = None) -> Any:
    """``find_spec`` for an old six importer (without it every later import warns)."""
    return importlib.util.spec_from_loader(fullname, self) if fullname in self.known_modules \
        else None


def _converted(event: dict[str, Any]) -> list[dict[str, Any]]:
    parser = misp_stix().MISPtoSTIX21Parser()
    parser.parse_misp_event({"Event": event})
    return [orjson.loads(o.serialize()) for o in parser.stix_objects]


def convert(event: dict[str, Any], prefix: str = "Event",
            ) -> tuple[list[dict[str, Any]], list[Refusal]]:
    """The STIX 2.1 objects misp-stix makes of a prepared event (``misp_read.prepare``).

    When the converter fails on the event, it is tried again without its galaxies, then
    also without its event reports, and what was left out is named.
    """
    refused: list[Refusal] = []
    why = ""
    for part in ("", "Galaxy", "EventReport"):
        if part:
            refused.append(Refusal(f"{prefix}.{part}", f"misp-stix cannot convert it: {why}"))
            event = {k: v for k, v in event.items() if k != part}
        try:
            return _converted(event), refused
        except Exception as exc:  # the converter raises many kinds on malformed events
            why = str(exc)[:_MAX_ERROR] or type(exc).__name__
    raise InvalidInput(f"misp-stix cannot convert the event: {why}", [prefix])


def _uuid(stix_id: str) -> str:
    return stix_id.split("--", 1)[-1]


def _stable(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(MISP_NAMESPACE, '|'.join(parts))}"


def _refs(obj: dict[str, Any]) -> Iterable[str]:
    for key, value in obj.items():
        if key.endswith("_ref") and isinstance(value, str):
            yield value
        elif key.endswith("_refs") and isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def _remap(obj: dict[str, Any], ids: Mapping[str, str | None]) -> dict[str, Any] | None:
    """``obj`` with references renamed; None when a single reference points at nothing."""
    out = dict(obj)
    for key, value in obj.items():
        if key.endswith("_ref") and isinstance(value, str) and value in ids:
            if ids[value] is None:
                return None
            out[key] = ids[value]
        elif key.endswith("_refs") and isinstance(value, list):
            kept = [ids.get(v, v) if isinstance(v, str) else v for v in value]
            out[key] = list(dict.fromkeys(v for v in kept if v is not None))
            if not out[key] and key != "object_marking_refs":
                return None
    return out


def _stamp(seconds: int | None, default: str) -> str:
    return format_ms(seconds * 1_000_000) if seconds else default


def _observed(owned: Owned, author: str, sco_id: str, labels: Sequence[str],
              default: str) -> dict[str, Any]:
    stamp = _stamp(owned.stamp, default)
    seen = dict(owned.seen or {})
    first = seen.get("x_misp_first_seen") or stamp
    last = seen.get("x_misp_last_seen") or max(first, stamp, key=parse_us)  # misp-stix's rule
    obj: dict[str, Any] = {
        "type": "observed-data", "spec_version": "2.1", "id": f"observed-data--{owned.uuid}",
        "created_by_ref": author, "created": stamp, "modified": stamp,
        "first_observed": min(first, last, key=parse_us), "last_observed": last, "number_observed": 1,
        "object_refs": [sco_id], "labels": list(labels), **seen}
    if owned.comment:
        obj["x_misp_comment"] = owned.comment  # misp-stix's name for it
    if owned.value is not None:
        obj["x_misp_value"] = owned.value
    return obj


def _hub_objects(built: Built, owned: Sequence[Owned], event_uuid: str, author: str,
                 ) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    """The hub's objects with MISP-derived ids, and old id -> new id (None: left out)."""
    report = built.objects[0]
    by_pattern = {stix_pattern(o.typed.observable): o for o in owned}
    ids: dict[str, str | None] = {report["id"]: f"report--{event_uuid}"}
    out: list[dict[str, Any]] = []
    for obj in built.objects[1:]:
        if obj["type"] == "indicator" and (o := by_pattern.get(obj.get("pattern", ""))):
            if not o.to_ids:
                ids[obj["id"]] = None
                continue
            stamp = _stamp(o.stamp, obj["created"])
            ids[obj["id"]] = f"indicator--{o.uuid}"
            obj = {**obj, "id": f"indicator--{o.uuid}", "created": stamp, "modified": stamp}
        elif obj["type"] == "incident":
            ids[obj["id"]] = _stable("incident", event_uuid)
            obj = {**obj, "id": ids[obj["id"]]}
        out.append(obj)
    default = report["created"]
    for o in owned:
        labels = [lb for lb in o.typed.labels if not lb.startswith("misp:to_ids")]
        out.append(_observed(o, author, stix_object(o.typed.observable)["id"], labels, default))
        if o.to_ids:
            out.append({"type": "relationship", "spec_version": "2.1",
                        "id": _stable("relationship", "based-on", o.uuid),
                        "created_by_ref": author, "created": _stamp(o.stamp, default),
                        "modified": _stamp(o.stamp, default), "relationship_type": "based-on",
                        "source_ref": f"indicator--{o.uuid}",
                        "target_ref": f"observed-data--{o.uuid}"})
    return out, ids


def _galaxy_links(incident: str, galaxy_ids: Iterable[str], author: str,
                  stamp: str) -> list[dict[str, Any]]:
    return [{"type": "relationship", "spec_version": "2.1",
             "id": _stable("relationship", incident, GALAXY_LINKS[g.split("--")[0]], g),
             "created_by_ref": author, "created": stamp, "modified": stamp,
             "relationship_type": GALAXY_LINKS[g.split("--")[0]], "source_ref": incident,
             "target_ref": g} for g in galaxy_ids if g.split("--")[0] in GALAXY_LINKS]


#: Abbreviated registry hives; STIX 2.1 wants the full name (``HKEY_LOCAL_MACHINE\\…``).
HIVES = {"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKCR": "HKEY_CLASSES_ROOT",
         "HKU": "HKEY_USERS", "HKCC": "HKEY_CURRENT_CONFIG"}
_HIVE_KEY = re.compile(r"^(HKLM|HKCU|HKCR|HKU|HKCC)(?=\\|$)", re.I)
_HIVE_PATTERN = re.compile(r"(windows-registry-key:key\s*=\s*')(HKLM|HKCU|HKCR|HKU|HKCC)(?=\\|')",
                           re.I)


def _full_hive(obj: dict[str, Any]) -> dict[str, Any]:
    """Registry keys with the hive written out, as STIX 2.1 requires (MISP abbreviates)."""
    if obj["type"] == "windows-registry-key" and isinstance(obj.get("key"), str):
        return {**obj, "key": _HIVE_KEY.sub(lambda m: HIVES[m.group(1).upper()], obj["key"])}
    if obj["type"] == "indicator" and "windows-registry-key" in str(obj.get("pattern", "")):
        return {**obj, "pattern": _HIVE_PATTERN.sub(
            lambda m: m.group(1) + HIVES[m.group(2).upper()], obj["pattern"])}
    return obj


def _misp_notes(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """MISP uuid -> what misp-stix does not carry of it: comments, object attribute uuids,
    first_seen/last_seen (``misp_meta``)."""
    notes: dict[str, dict[str, Any]] = {}
    for attr in event.get("Attribute") or ():
        if not isinstance(attr, dict):
            continue
        kept: dict[str, Any] = seen_notes(attr)
        if attr.get("comment"):
            kept["x_misp_comment"] = str(attr["comment"])
        if kept:
            notes[str(attr["uuid"])] = kept
    for obj in event.get("Object") or ():
        if not isinstance(obj, dict):
            continue
        note: dict[str, Any] = {"x_misp_attribute_uuids": [
            [str(a.get("object_relation")), str(a.get("value")), str(a.get("uuid"))]
            for a in obj.get("Attribute") or () if isinstance(a, dict)], **seen_notes(obj)}
        seen = {str(a.get("uuid")): s for a in obj.get("Attribute") or ()
                if isinstance(a, dict) and (s := seen_notes(a))}
        if seen:
            note["x_misp_attribute_seen"] = seen
        if obj.get("comment"):
            note["x_misp_comment"] = str(obj["comment"])
        notes[str(obj["uuid"])] = note
    return notes


def _annotated(obj: dict[str, Any], own: str, notes: dict[str, dict[str, Any]],
               ) -> dict[str, Any]:
    """A converted attribute or object with what misp-stix leaves out, as ``x_misp_*``."""
    note = notes.get(own)
    if not note or obj["type"] not in ("observed-data", "indicator", "x-misp-object",
                                       "x-misp-attribute") or is_sco(obj["type"]):
        return obj
    extra = {k: v for k, v in note.items() if k not in obj}
    if obj.get("description") == extra.get("x_misp_comment"):
        extra.pop("x_misp_comment", None)
    return {**obj, **extra}


def _cluster_uuids(event: dict[str, Any]) -> set[str]:
    return {str(c.get("uuid")) for g in event.get("Galaxy") or () if isinstance(g, dict)
            for c in g.get("GalaxyCluster") or () if isinstance(c, dict)}


def assemble(event: dict[str, Any], converted: list[dict[str, Any]], built: Built,
             owned: Sequence[Owned], *, submitter: Submitter, level: TLP,
             audience: Sequence[str] | None, techniques: Mapping[str, str],
             refused_uuids: Iterable[str], where: Mapping[str, str], labels: Sequence[str],
             meta: Mapping[str, Any] | None = None,
             ) -> tuple[list[dict[str, Any]], list[Refusal]]:
    """The event's objects (report first) and what was left out; see the module text.

    ``techniques``: galaxy cluster uuid -> the hub's attack-pattern id;
    ``refused_uuids``: MISP elements refused already (their converted objects are dropped);
    ``where``: MISP uuid -> field (``misp_read.locate``); ``labels``: the event's tags;
    ``meta``: the report's ``x_misp_event`` (``misp_meta.event_meta``).
    """
    event_uuid = str(event["uuid"])
    author = submitter.identity_id
    mine = {o.uuid: o for o in owned}
    dropped = set(refused_uuids)
    hub_notes = {str(r.get("uuid")) for r in event.get("EventReport") or ()
                 if isinstance(r, dict) and r.get("name") in HUB_REPORTS}
    hub, ids = _hub_objects(built, owned, event_uuid, author)
    notes = _misp_notes(event)
    carried: list[dict[str, Any]] = []
    for obj in converted:
        kind, own = obj["type"], _uuid(obj["id"])
        if (kind in ("grouping", "report") and own == event_uuid) or kind == "marking-definition" \
                or (kind == "note" and own in hub_notes):
            continue
        if own in dropped:
            ids[obj["id"]] = None
        elif own in mine:
            o = mine[own]
            ids[obj["id"]] = (stix_object(o.typed.observable)["id"] if is_sco(kind) else
                              f"indicator--{own}" if o.to_ids and kind != "observed-data"
                              else f"observed-data--{own}")
        elif kind == "attack-pattern" and own in techniques:
            ids[obj["id"]] = techniques[own]
        else:
            carried.append(_full_hive(_annotated(obj, own, notes)))
    incident = _stable("incident", event_uuid)
    stamp = built.objects[0]["created"]
    clusters = _cluster_uuids(event)
    hub += _galaxy_links(incident, [o["id"] for o in carried if _uuid(o["id"]) in clusters],
                         author, stamp)
    made = {o["id"] for o in hub if o["type"] == "relationship"}
    objects: list[dict[str, Any]] = []
    refusals: list[Refusal] = []
    for obj in [*hub, *carried]:
        moved = _remap(obj, ids)
        if moved is None:
            continue
        if moved["id"] in made:  # the hub's own: an id from what it links
            moved["id"] = _stable("relationship", moved["relationship_type"],
                                  moved["source_ref"], moved["target_ref"])
        own = tlp_of(moved.get("object_marking_refs"))
        effective = own if own is not None and own.rank > level.rank else level
        if effective is TLP.RED and not audience:
            refusals.append(Refusal(_field(moved, where), "marked tlp:red without named "
                                    "recipients (give ?audience=)"))
            ids[moved["id"]] = None
            continue
        moved["object_marking_refs"] = [effective.marking_id]
        objects.append(moved)
    techniques_refs = [t for t in built.objects[0]["object_refs"] if t.startswith("attack-pattern--")]
    objects = list({o["id"]: o for o in objects}.values())
    report = {**built.objects[0], "id": f"report--{event_uuid}", "name": str(event.get("info", "")),
              "object_refs": list(dict.fromkeys([o["id"] for o in objects] + techniques_refs))}
    if labels:
        report["labels"] = list(dict.fromkeys(labels))
    if meta:
        report["x_misp_event"] = dict(meta)
    objects, more = _validated([report, *objects], submitter, where)
    refusals += more
    known = {o["id"] for o in objects} | set(techniques_refs)
    objects[0]["object_refs"] = [r for r in objects[0]["object_refs"] if r in known]
    return objects, refusals


def _field(obj: dict[str, Any], where: Mapping[str, str]) -> str:
    for candidate in (obj["id"], *_refs(obj)):
        if (found := where.get(_uuid(candidate))) is not None:
            return found
    return "Event"


def _validated(objects: list[dict[str, Any]], submitter: Submitter, where: Mapping[str, str],
               ) -> tuple[list[dict[str, Any]], list[Refusal]]:
    """Objects that pass validation, minus those that refer to one that does not."""
    results, _good = check_objects(objects, submitter)
    bad = {objects[r.index]["id"]: r for r in results if r.errors}
    if objects[0]["id"] in bad or any(o["type"] == "incident" and o["id"] in bad for o in objects):
        errors = [e for r in bad.values() for e in r.errors][:3]
        raise InvalidInput("the event cannot be stored as valid STIX: "
                           + "; ".join(f"{e.field}: {e.reason}" for e in errors), ["Event"])
    refusals = [Refusal(_field(objects[r.index], where),
                        "; ".join(f"{e.field}: {e.reason}" for e in r.errors)[:_MAX_ERROR])
                for r in bad.values()]
    gone, changed = set(bad), True
    while changed:
        changed, kept = False, [objects[0]]
        for obj in objects[1:]:
            moved = None if obj["id"] in gone else _remap(obj, dict.fromkeys(gone))
            if moved is None:
                changed = changed or obj["id"] not in gone
                gone.add(obj["id"])
                continue
            kept.append(moved)
        objects = kept
    return objects, refusals
