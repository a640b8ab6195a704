"""STIX indicator patterns: the same verdict as stix2-validator's pattern check, fast.

stix2-validator parses every pattern with the ANTLR grammar of `stix2-patterns` (about a
millisecond). Most patterns a CERT shares are simple comparisons such as
``[url:value = 'http://x.example/a']`` or ``[file:hashes.'SHA-256' = '…']``; `simple_pattern`
recognises a strict subset of the grammar (only what the real parser also accepts, and only
spec-defined object types and properties, which the validator accepts without comment) and then
applies the same hash-value check `stix2-patterns` does. Any other pattern goes to the real
parser, once per distinct (pattern, version).
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import SimpleNamespace

from stix2patterns.v21.object_validator import verify_object
from stix2validator import ValidationOptions
from stix2validator.v21 import enums
from stix2validator.v21.musts import patterns as validator_pattern_check

_KNOWN_PROPERTIES: dict[str, frozenset[str]] = {
    t: frozenset(enums.OBSERVABLE_PROPERTIES.get(t, ())) for t in enums.OBSERVABLE_TYPES
}
_NOT_NAMES = frozenset({"true", "false"})  # lexed as boolean literals, not identifiers

# One comparison: object-type ':' property ('.' name | ".'" quoted key "'")* ('=' | '!=') string.
_COMPARISON = re.compile(
    r"([a-z][a-z0-9-]*):([a-z_][a-z0-9_]*)"
    r"((?:\.[a-z_][a-z0-9_]*|\.'[A-Za-z0-9-]+')*)"
    r" *(!?=) *"
    r"'([^'\\\x00-\x1f\x7f\ud800-\udfff]*)'"
)
_SINGLE = re.compile(r"\[ *(?:" + _COMPARISON.pattern + r") *\]")  # the commonest shape
_STEP = re.compile(r"\.(?:([a-z_][a-z0-9_]*)|'([A-Za-z0-9-]+)')")
_OPEN = re.compile(r"\[ *")
_JOIN = re.compile(r" +(?:AND|OR) +")
_CLOSE = re.compile(r" *\]")

Comparison = tuple[list[str], str, str]


def _comparison(match: re.Match[str]) -> tuple[str, Comparison] | None:
    obj_type, first, rest, op, value = match.groups()
    if first not in _KNOWN_PROPERTIES.get(obj_type, ()):
        return None
    path = [first]
    for step in _STEP.finditer(rest):
        name, quoted = step.groups()
        if name is not None:
            if name in _NOT_NAMES:
                return None
            path.append(name)
        else:
            path.append(quoted)
    return obj_type, (path, op, "'" + value + "'")


def simple_pattern(pattern: str) -> dict[str, list[Comparison]] | None:
    """Comparisons of a pattern in the simple subset, as `stix2-patterns` inspects them.

    None when the pattern is outside the subset (not necessarily invalid).
    """
    single = _SINGLE.fullmatch(pattern)
    if single is not None:
        found = _comparison(single)
        return None if found is None else {found[0]: [found[1]]}
    comparisons: dict[str, list[Comparison]] = {}
    pos, end = 0, len(pattern)
    while True:
        opened = _OPEN.match(pattern, pos)
        if opened is None:
            return None
        pos = opened.end()
        while True:
            match = _COMPARISON.match(pattern, pos)
            if match is None:
                return None
            found = _comparison(match)
            if found is None:
                return None
            comparisons.setdefault(found[0], []).append(found[1])
            pos = match.end()
            joined = _JOIN.match(pattern, pos)
            if joined is None:
                break
            pos = joined.end()
        closed = _CLOSE.match(pattern, pos)
        if closed is None:
            return None
        pos = closed.end()
        if pos == end:
            return comparisons
        joined = _JOIN.match(pattern, pos)
        if joined is None:
            return None
        pos = joined.end()


_OPTIONS = ValidationOptions(version="2.1")


@lru_cache(maxsize=65_536)
def _parsed_problems(pattern: str, version: str) -> tuple[str, ...]:
    instance = {
        "type": "indicator",
        "id": "indicator--00000000-0000-4000-8000-000000000000",
        "pattern_type": "stix",
        "pattern": pattern,
        "pattern_version": version,
    }
    try:
        return tuple(error.message for error in validator_pattern_check(instance, _OPTIONS))
    except Exception as exc:  # stix2-patterns fails on some input, e.g. an empty pattern
        return (f"Pattern failed to validate: the parser failed ({exc!r}).",)


def pattern_problems(pattern: str, version: str = "2.1") -> tuple[str, ...]:
    """Why stix2-validator rejects this STIX pattern; empty when it accepts it."""
    if version == "2.1":
        comparisons = simple_pattern(pattern)
        if comparisons is not None:
            errors = verify_object(SimpleNamespace(comparisons=comparisons))
            return tuple(f"Pattern failed to validate: {e}." for e in errors)
    return _parsed_problems(pattern, version)
