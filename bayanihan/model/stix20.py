"""STIX 2.0 objects upgraded to STIX 2.1 on ingest, keeping their ids.

The mapping (also in ``docs/stix-in.md``, "STIX 2.0 in"), following the differences the
STIX 2.1 specification lists and what the OASIS ``stix2-elevator`` does for them:

- ``spec_version: "2.1"`` is added to every object that is not an observable (2.0 objects
  carry none; a bundle's ``spec_version`` is not an object property in 2.1).
- ``labels`` -> the type's open vocabulary where 2.1 has one: ``malware_types``,
  ``tool_types``, ``indicator_types``, ``threat_actor_types``, ``report_types``,
  ``infrastructure_types``. ``labels`` is removed from those types (in 2.1 it is a free
  tag list, which would give the same words a second meaning). A label that only repeats
  the type (``["malware"]`` on a malware, ``["tool"]`` on a tool) is dropped, not carried
  over: it is no word of the 2.1 vocabularies, and MITRE's own 2.1 copies of the same
  versions carry none (so the two forms of one version are the same object).
- ``malware`` gets ``is_family: true`` (required in 2.1; every 2.0 malware object
  described a family).
- ``indicator`` gets ``pattern_type: "stix"`` (required in 2.1; 2.0 had only STIX patterns).
- ``created``/``modified`` with fewer than three fraction digits are padded to
  milliseconds (2.1 requires millisecond precision for them; the instant is unchanged).
- Everything else — ids, custom ``x-*`` types and ``x_*`` properties, external
  references, markings, kill chains, ``observed-data`` ``objects`` — is kept as it is.
"""

from __future__ import annotations

from typing import Any

from bayanihan.model.stix import is_sco

__all__ = ["is_stix20", "upgrade"]

#: 2.0 ``labels`` -> the 2.1 vocabulary property of the same type.
LABELS_TO = {
    "malware": "malware_types",
    "tool": "tool_types",
    "indicator": "indicator_types",
    "threat-actor": "threat_actor_types",
    "report": "report_types",
    "infrastructure": "infrastructure_types",
}


def is_stix20(obj: dict[str, Any]) -> bool:
    """True for a STIX 2.0 object: no ``spec_version`` (or ``"2.0"``) on a non-observable."""
    version = obj.get("spec_version")
    if version == "2.0":
        return True
    if version is not None:
        return False
    kind = obj.get("type")
    return isinstance(kind, str) and not is_sco(kind) and "id" in obj and "created" in obj


def _millis(stamp: Any) -> Any:
    """``…:05Z`` -> ``…:05.000Z``; ``…:05.7Z`` -> ``…:05.700Z``; anything else unchanged."""
    if not isinstance(stamp, str) or len(stamp) < 20 or not stamp.endswith("Z"):
        return stamp
    if len(stamp) >= 24 and stamp[19] == ".":
        return stamp  # three or more fraction digits already (most stamps): nothing to pad
    head, _, fraction = stamp[:-1].partition(".")
    if len(head) != 19 or len(fraction) >= 3 or (fraction and not fraction.isdigit()):
        return stamp
    return f"{head}.{fraction.ljust(3, '0')}Z"


def upgrade(obj: dict[str, Any]) -> dict[str, Any]:
    """The STIX 2.1 form of a 2.0 object (a new dict; ``obj`` is not changed)."""
    kind = obj.get("type")
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "spec_version":
            continue
        out[key] = value
        if key == "id":  # spec_version right after the id, where 2.1 producers put it
            out["spec_version"] = "2.1"
    out.setdefault("spec_version", "2.1")
    for key in ("created", "modified"):
        if key in out:
            out[key] = _millis(out[key])
    target = LABELS_TO.get(kind) if isinstance(kind, str) else None
    if target and "labels" in out and target not in out:
        labels = out.pop("labels")
        # a label that only repeats the type (MITRE's ["malware"], ["tool"]) says nothing and
        # is no word of the 2.1 vocabulary: dropped, as MITRE's own 2.1 releases do
        kept = [x for x in labels if x != kind] if isinstance(labels, list) else labels
        if kept:
            out[target] = kept
    if kind == "malware":
        out.setdefault("is_family", True)
    elif kind == "indicator":
        out.setdefault("pattern_type", "stix")
    return out
