"""The AI-threat STIX 2.1 property extension: its extension-definition and its properties.

The hub publishes one ``extension-definition`` (``extension_types: ["property-extension"]``,
id :data:`EXTENSION_ID`, stable across hubs and releases) whose ``schema`` is the JSON
schema shipped beside this module (``ai_threat_schema.json``). Reports, incidents and
indicators the hub makes carry the AI-specific properties under
``extensions[EXTENSION_ID]`` — vector, channel, AI involvement, languages, targeted
countries and sectors, first/last seen, lure and media fingerprints — so every object
still passes the OASIS validator and no tool drops them as unknown top-level properties.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = [
    "EXTENSION_ID",
    "EXTENSION_VERSION",
    "ai_properties",
    "definition",
    "property_problems",
    "schema",
    "with_ai_properties",
]

#: ``stable_id("extension-definition", "ai-threat")``: never changes.
EXTENSION_ID = "extension-definition--01df988b-b18e-558d-bc94-c5d9355dd9a7"
EXTENSION_VERSION = "1.0.0"
_DEFINED = "2026-11-27T00:00:00.000Z"
SCHEMA_FILE = "ai_threat_schema.json"


@cache
def schema() -> dict[str, Any]:
    """The extension's JSON schema (shipped in the package)."""
    text = resources.files("bayanihan.model").joinpath(SCHEMA_FILE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Draft202012Validator:
    # imported on first use: jsonschema's import costs ~1 s (rfc3987-syntax builds its IRI
    # grammar), which every command paid at start-up while only report checks need it
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def definition(created_by_ref: str) -> dict[str, Any]:
    """The extension-definition object, authored by the hub's identity."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": EXTENSION_ID,
        "created_by_ref": created_by_ref,
        "created": _DEFINED,
        "modified": _DEFINED,
        "name": "Bayanihan AI-driven attack",
        "description": "AI-specific properties of reports, incidents and indicators of "
                       "AI-driven attacks: vector, AI involvement (assessment, confidence, "
                       "evidence, ATLAS/ATT&CK techniques), languages, targeted countries "
                       "and sectors, lure and media fingerprints.",
        "schema": json.dumps(schema(), sort_keys=True, separators=(",", ":")),
        "version": EXTENSION_VERSION,
        "extension_types": ["property-extension"],
    }


def property_problems(props: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, reason) for each way ``props`` breaks the schema; [] when it conforms."""
    out = []
    for error in sorted(_validator().iter_errors(props), key=lambda e: list(e.absolute_path)):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        out.append((path.lstrip("."), error.message))
    return out


def with_ai_properties(obj: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with the extension's properties added (``extension_type`` filled in)."""
    body = {"extension_type": "property-extension", **props}
    extensions = dict(obj.get("extensions") or {})
    extensions[EXTENSION_ID] = body
    return {**obj, "extensions": extensions}


def ai_properties(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The extension's properties on ``obj`` (without ``extension_type``), or None."""
    ext = (obj.get("extensions") or {}).get(EXTENSION_ID)
    if not isinstance(ext, dict):
        return None
    return {k: v for k, v in ext.items() if k != "extension_type"}
