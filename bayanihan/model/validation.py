"""STIX 2.1 validation with the verdicts of stix2-validator, at hub ingest speed.

`validate(obj)` returns the problems `stix2validator.validate_instance(obj, VALIDATOR_OPTIONS)`
would report (an empty list when it would accept the object). It gets there in two steps:

1. A fast path for STIX Domain Objects, relationships, sightings, marking and extension
   definitions and the simple observables (url, domain-name, IP and e-mail addresses...):
   the object's JSON schema from stix2-validator's own schema files, compiled to a yes/no
   check (`validation_schema`), plus the validator's MUST checks that apply to these types
   (timestamps, timestamp order, language code, marking self-references, indicator patterns
   via `validation_patterns`). If every check passes, the validator would accept the object
   too, and `validate` returns ``[]``.
2. Everything else -- any object the fast path does not accept, the other observables (file,
   process, artifact...), observed-data, language-content, custom types, granular markings --
   goes to `stix2validator.validate_instance` itself, so rejections carry its own reasons.

The fast path never rejects; only the validator does. Options: STIX version forced to 2.1,
everything else the validator's defaults (SHOULD rules are warnings, not errors; custom
properties and types allowed as the STIX 2.1 MUST rules allow them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from bayanihan.model.validation_schema import Check, compile_type, schema_paths
from bayanihan.model.validator_source import TIMESTAMP_FORMAT_RE, oasis
from bayanihan.model.validator_source import enums as validator_enums

__all__ = ["Problem", "load_all", "load_schemas", "validate"]  # and VALIDATOR_OPTIONS, on first use


def __getattr__(name: str) -> Any:
    if name == "VALIDATOR_OPTIONS":  # the validator's options, imported on first use
        return oasis()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason an object is not valid STIX 2.1: where (`path`) and why (`reason`)."""

    path: str
    reason: str


# Types whose MUST checks the fast path reproduces in full.
FAST_TYPES = frozenset(
    {
        "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
        "indicator", "infrastructure", "intrusion-set", "location", "malware",
        "malware-analysis", "note", "opinion", "report", "threat-actor", "tool",
        "vulnerability", "relationship", "sighting", "marking-definition",
        "extension-definition",
        # observables none of the validator's observable-specific MUST checks apply to
        "url", "domain-name", "ipv4-addr", "ipv6-addr", "email-addr", "mac-addr", "mutex",
        "autonomous-system",
    }
)  # fmt: skip
enums = validator_enums()  # stix2validator.v21.enums, read without importing the validator
#: Each fast type's schema check, compiled on the type's first object (`_schema`).
_SCHEMAS: dict[str, Check | None] = {}
_TIMESTAMPS = {t: ("created", "modified", *enums.TIMESTAMP_PROPERTIES.get(t, ())) for t in FAST_TYPES}
_ORDERS = {t: (("modified", "ge", "created"), *enums.TIMESTAMP_COMPARE.get(t, ())) for t in FAST_TYPES}
#: Custom object types (``x-mitre-tactic``…): the validator has no schema for them and checks
#: them against its ``core`` schema plus the MUST rules that apply to every object
#: (timestamps, their order, ``lang``, marking self-references) -- all redone here, so a
#: custom object costs what a standard one does (it took the validator 2.8 ms each).
_CUSTOM = "core"
_CUSTOM_TIMESTAMPS = ("created", "modified")
_CUSTOM_ORDERS = (("modified", "ge", "created"),)
#: Languages of the region that stix2-validator's RFC 5646 list lacks (Khmer, Lao, Burmese,
#: Filipino, Tetum). A deliberate departure from the validator: a Khmer CERT must be able to
#: mark an object ``"lang": "km"``. The hub itself never emits ``lang`` with these codes, so
#: what it sends out still passes the validator unchanged.
REGIONAL_LANGS = frozenset({"km", "lo", "my", "fil", "tet"}) - frozenset(enums.LANG_CODES)
_LANG_CODES = frozenset(enums.LANG_CODES) | REGIONAL_LANGS
_DEFER_PROPERTIES = ("granular_markings", "cpe")  # MUST checks left to the validator


_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _instant(match: re.Match[str]) -> tuple[str, int, str] | None:
    """A sortable form of a timestamp dateutil (the validator's parser) accepts, else None.

    ``match`` is a `TIMESTAMP_FORMAT_RE` match, so every field is in range except the day of
    the month, second 60 and year 0, which dateutil refuses.
    """
    text = match.group(0)
    day = int(text[8:10])
    if day > 28:
        month, year = int(text[5:7]), int(text[0:4])
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        if day > _DAYS[month] or (month == 2 and day == 29 and not leap):
            return None
    if text[17:19] == "60" or text.startswith("0000"):
        return None
    fraction = match.group(6)
    digits = fraction[1:] if fraction else ""
    return text[:19], len(digits), digits.ljust(6, "0")


_MEMO_LIMIT = 4096
_timestamps: dict[str, tuple[str, int, str] | None] = {}  # memo: most timestamps repeat


def _read_timestamp(text: str) -> tuple[str, int, str] | None:
    """`_instant` of a timestamp string, None when the fast path cannot vouch for it."""
    if text in _timestamps:
        return _timestamps[text]
    match = TIMESTAMP_FORMAT_RE.match(text)
    instant = None if match is None else _instant(match)
    if len(_timestamps) >= _MEMO_LIMIT:
        _timestamps.clear()
    _timestamps[text] = instant
    return instant


def _in_order(obj: dict[str, Any], later: str, op: str, earlier: str, instants: dict[str, Any]) -> bool:
    """The validator's `compare`: datetimes when strptime reads both (<= 6 digits), else text."""
    a, b = instants.get(later), instants.get(earlier)
    if a is None or b is None:
        return False  # not a timestamp the fast path understands
    if a[1] <= 6 and b[1] <= 6:
        left, right = (a[0], a[2]), (b[0], b[2])  # fixed-width text sorts as time does
    else:
        left, right = obj[later], obj[earlier]
    return left >= right if op == "ge" else left > right


def _fast_accept(obj: Any) -> bool:
    """True only when stix2-validator is sure to accept the object."""
    if type(obj) is not dict:
        return False
    obj_type = obj.get("type")
    if not isinstance(obj_type, str) or "id" not in obj:
        return False
    schema = _SCHEMAS.get(obj_type) or _schema(obj_type)
    timestamps, orders = _TIMESTAMPS.get(obj_type), _ORDERS.get(obj_type)
    if schema is None:
        if not _is_custom_object(obj_type, obj):
            return False
        schema, timestamps, orders = _schema(_CUSTOM), _CUSTOM_TIMESTAMPS, _CUSTOM_ORDERS
        if schema is None:
            return False
    for key in _DEFER_PROPERTIES:
        if key in obj:
            return False
    for value in obj.values():
        if type(value) is list:
            for item in value:  # the validator also checks embedded STIX objects
                if isinstance(item, dict) and "id" in item and "type" in item:
                    return False
    if not schema(obj):
        return False
    instants: dict[str, tuple[str, int, str]] = {}
    for prop in timestamps:
        if prop in obj:
            value = obj[prop]
            instant = _read_timestamp(value) if type(value) is str else None
            if instant is None:
                return False
            instants[prop] = instant
    for later, op, earlier in orders:
        if later in obj and earlier in obj and not _in_order(obj, later, op, earlier, instants):
            return False
    if "lang" in obj and obj["lang"] not in _LANG_CODES:
        return False
    if obj_type == "marking-definition" and _refers_to_itself(obj):
        return False
    if obj_type == "indicator" and obj.get("pattern_type", "") == "stix":
        pattern = obj.get("pattern")
        if isinstance(pattern, str):
            version = obj.get("pattern_version", obj.get("spec_version", "2.1"))
            if not isinstance(version, str) or _pattern_problems()(pattern, version):
                return False
    return True


def _schema(obj_type: str) -> Check | None:
    """The compiled schema check of a fast type (or of ``core``); None for any other type."""
    if obj_type not in FAST_TYPES and obj_type != _CUSTOM:
        return None  # not remembered: custom type names are the sender's to choose
    if obj_type not in _SCHEMAS:
        _SCHEMAS[obj_type] = compile_type(obj_type)
    return _SCHEMAS[obj_type]


@cache
def _known_types() -> frozenset[str]:
    return frozenset(schema_paths())


@cache
def _pattern_problems() -> Any:
    """`validation_patterns.pattern_problems` (it imports the validator: on first indicator)."""
    from bayanihan.model.validation_patterns import pattern_problems

    return pattern_problems


def load_schemas() -> None:
    """Compile every fast type's schema now rather than on the type's first object."""
    for obj_type in (*FAST_TYPES, _CUSTOM):
        _schema(obj_type)
    _known_types()


def load_all() -> None:
    """`load_schemas`, and import the validator and the pattern parser now (a server does at
    start-up) rather than on the first object the fast path leaves to them."""
    load_schemas()
    _pattern_problems()
    oasis()


def _is_custom_object(obj_type: str, obj: dict[str, Any]) -> bool:
    """A custom SDO/SRO: a type with no schema of its own that the core schema covers."""
    return obj_type not in _known_types() and ("created" in obj or "modified" in obj)


def _refers_to_itself(obj: dict[str, Any]) -> bool:
    refs = obj.get("object_marking_refs")
    return isinstance(refs, list) and obj["id"] in refs


_PATH = re.compile(r"((?:[A-Za-z0-9_\-]+|\[\d+\])(?:\.[A-Za-z0-9_\-]+|\[\d+\])*): ")
_QUOTED = re.compile(r"'([^']+)'[:( ]")


def _problem(obj: dict[str, Any], message: str) -> Problem:
    """The validator's message, with the field it is about pulled out as `path`."""
    prefix = f"{obj.get('id')}: "
    if message.startswith(prefix):
        message = message[len(prefix) :]
    if message.startswith("Pattern failed to validate"):
        return Problem("pattern", message)
    if message.endswith("is a required property"):
        return Problem(message.split("'")[1], message)
    if "RFC 5646 language code" in message and "lang" in obj:
        return Problem("lang", message)
    for regex in (_PATH, _QUOTED):
        match = regex.match(message)
        if match is not None and match.group(1).split("[")[0].split(".")[0] in obj:
            return Problem(match.group(1), message)
    return Problem("", message)


def _validator_problems(obj: Any) -> list[Problem]:
    if not isinstance(obj, dict):
        return [Problem("", "a STIX object must be a JSON object")]
    for key in ("type", "id"):
        if key not in obj:
            return [Problem(key, f"'{key}' is a required property")]
    validate_instance, options = oasis()
    try:
        result = validate_instance(obj, options)
    except Exception as exc:  # the validator fails on some malformed input
        return [Problem("", f"not valid STIX 2.1 (the validator failed: {exc!r})")]
    if result.is_valid:
        return []
    return [_problem(obj, error.message) for error in result.errors] or [Problem("", "not valid STIX 2.1")]


#: How deep a property's value may nest (dicts and lists). STIX itself needs a handful of
#: levels; a custom property 500 dicts deep passed the validator and then failed every
#: serialiser that reads it back (issue 13), so it is refused here, naming the property.
MAX_DEPTH = 64


def _deeper(container: Any, depth: int, limit: int) -> bool:
    """True when ``container`` (a dict or list at ``depth``) or a dict or list inside it lies
    deeper than ``limit``. Recursion stops at ``limit``, so it never nears Python's own."""
    if depth > limit:
        return True
    for child in container.values() if type(container) is dict else container:
        if (type(child) is dict or type(child) is list) and _deeper(child, depth + 1, limit):
            return True
    return False


def too_deep(obj: dict[str, Any], limit: int = MAX_DEPTH) -> str | None:
    """The top-level property whose value nests deeper than ``limit`` levels, else None."""
    for key, value in obj.items():
        if (type(value) is dict or type(value) is list) and _deeper(value, 1, limit):
            return str(key)
    return None


def validate(obj: Any) -> list[Problem]:
    """Problems that make `obj` invalid STIX 2.1 per stix2-validator; [] when it is valid."""
    if isinstance(obj, dict) and (deep := too_deep(obj)) is not None:
        return [Problem(deep, f"{deep}: nested more than {MAX_DEPTH} levels deep")]
    try:
        accepted = _fast_accept(obj)
    except Exception:  # anything odd is for the validator to judge
        accepted = False
    if accepted:
        return []
    problems = _validator_problems(obj)
    lang = obj.get("lang") if isinstance(obj, dict) else None
    if isinstance(lang, str) and lang in REGIONAL_LANGS:  # "lang": [] is unhashable
        problems = [p for p in problems if p.path != "lang"]
    return problems
