"""MITRE ATLAS and ATT&CK techniques: ids, the ATLAS STIX bundle, and its known defects.

Techniques are ``attack-pattern`` objects named by an ``external_references`` entry with
``source_name`` ``mitre-atlas`` (``AML.T0052``, ``AML.T0088``…) or ``mitre-attack``
(``T1566``, ``T1566.002``…). The operator loads the current release with ``bayanihan
ingest`` and the hub finds techniques by id among the stored objects
(:func:`bayanihan.ingest.reports.find_techniques`).

The published ATLAS bundle (v5.6.0) is not valid STIX as it stands; :func:`repair` fixes
what the hub would otherwise reject and says what it changed:

- two attack-patterns have ``modified`` before ``created`` (``modified`` is set to ``created``);
- 114 relationships share 34 ids between them, with different targets (the second and
  later of each get a deterministic UUIDv5 id derived from the original id and their target).

Nothing else is changed: ``x-mitre-collection`` keeps its ``created_by_ref`` (MITRE's
identity; any identity but a hub organisation's may be named, issue 11).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "ATLAS_ID",
    "ATTACK_ID",
    "SOURCES",
    "external_ids",
    "is_technique_id",
    "normalise_technique_id",
    "repair",
    "techniques_by_id",
]

ATLAS_ID = re.compile(r"^AML\.T[0-9]{4}(?:\.[0-9]{3})?\Z")
ATTACK_ID = re.compile(r"^T[0-9]{4}(?:\.[0-9]{3})?\Z")
#: external_references source names -> the id grammar of that source.
SOURCES = {"mitre-atlas": ATLAS_ID, "mitre-attack": ATTACK_ID}
_REPAIR_NS = uuid.UUID("0b8c5a1e-7f3d-5c2a-9e41-6d2f8a0b1c37")


def normalise_technique_id(text: str) -> str:
    """``aml.t0052`` -> ``AML.T0052``; ``t1566.002`` -> ``T1566.002``."""
    return text.strip().upper()


def is_technique_id(text: str) -> bool:
    value = normalise_technique_id(text)
    return bool(ATLAS_ID.match(value) or ATTACK_ID.match(value))


def external_ids(obj: dict[str, Any]) -> list[str]:
    """ATLAS/ATT&CK technique ids an attack-pattern carries."""
    if obj.get("type") != "attack-pattern":
        return []
    out = []
    for ref in obj.get("external_references") or ():
        if not isinstance(ref, dict):
            continue
        grammar = SOURCES.get(str(ref.get("source_name", "")))
        ext = ref.get("external_id")
        if grammar is not None and isinstance(ext, str) and grammar.match(ext):
            out.append(ext)
    return out


def techniques_by_id(objects: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Technique id -> attack-pattern (not revoked, not deprecated; newest ``modified`` wins)."""
    found: dict[str, dict[str, Any]] = {}
    for obj in objects:
        if obj.get("revoked") or obj.get("x_mitre_deprecated"):
            continue
        for ext in external_ids(obj):
            prior = found.get(ext)
            if prior is None or str(obj.get("modified", "")) > str(prior.get("modified", "")):
                found[ext] = obj
    return found


def repair(objects: Sequence[Any]) -> tuple[list[Any], list[str]]:
    """The bundle's objects made acceptable to the hub, and one line per change made."""
    out: list[Any] = []
    notes: list[str] = []
    seen: dict[str, dict[str, Any]] = {}
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict):
            out.append(obj)
            continue
        fixed = dict(obj)
        created, modified = fixed.get("created"), fixed.get("modified")
        if isinstance(created, str) and isinstance(modified, str) and modified < created:
            fixed["modified"] = created
            notes.append(f"objects[{index}] {fixed.get('id')}: modified {modified} was before "
                         f"created; set to {created}")
        oid = str(fixed.get("id", ""))
        if seen.get(oid) == fixed:
            notes.append(f"objects[{index}] {oid}: exact repeat of an earlier object; dropped")
            continue
        if oid in seen and fixed.get("type") == "relationship":
            new = f"relationship--{uuid.uuid5(_REPAIR_NS, oid + '|' + str(fixed.get('target_ref')))}"
            notes.append(f"objects[{index}] {oid}: id used twice in the bundle; renamed {new}")
            fixed["id"] = new
        seen.setdefault(str(fixed.get("id", "")), fixed)
        out.append(fixed)
    return out, notes
