"""Leaf checks for the compiled STIX schemas: JSON types, strings, formats, type unions.

Each returns a yes/no predicate with jsonschema's semantics for the keywords it covers (a bool
is not an integer, patterns are searched, formats run the functions jsonschema runs, found
without importing it: see `validator_source`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bayanihan.model.validator_source import format_function

Check = Callable[[Any], bool]

ANNOTATIONS = frozenset(
    {"$id", "$schema", "title", "description", "definitions", "$comment", "examples", "default"}
)
_STRING_KEYWORDS = ANNOTATIONS | {
    "type", "pattern", "minLength", "maxLength", "$ref", "allOf", "format", "enum", "not",
}  # fmt: skip
_PATTERN_ONLY = frozenset({"pattern", "title", "description"})
_TYPE_ONLY = frozenset({"type", "minItems", "title", "description"})


def is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


TYPE_TESTS: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "integer": is_integer,
    "number": is_number,
    "null": lambda v: v is None,
}


def all_of(checks: list[Check]) -> Check:
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    frozen = tuple(checks)

    def every(v: Any) -> bool:
        for check in frozen:  # noqa: SIM110 (faster than all() here)
            if not check(v):
                return False
        return True

    return every


def format_check(name: str) -> Check:
    """The format check jsonschema's FormatChecker.conforms runs, without its overhead."""
    found = format_function(name)
    if found is None:  # a format jsonschema does not check: every value conforms
        return lambda v: True
    func, raises = found

    def conforms(v: Any) -> bool:
        try:
            return bool(func(v))
        except raises:
            return False

    return conforms


def tag(check: Check, **marks: Any) -> Check:
    """Record what a check guarantees, so an object check can drop implied ones."""
    for key, value in marks.items():
        setattr(check, key, value)
    return check


def type_union(schema: dict[str, Any]) -> Check | None:
    """A fast check for `type` alone or `anyOf` branches that each name a type (+ minItems)."""
    branches = schema.get("anyOf") if set(schema) <= {"anyOf", "title", "description"} else None
    if branches is None:
        branches = [schema]
    if not all(set(b) <= _TYPE_ONLY and isinstance(b.get("type"), str) for b in branches):
        return None
    names = {b["type"] for b in branches}
    if any(b.get("minItems") is not None and b["type"] != "array" for b in branches):
        return None
    exact: set[type] = set()
    for name, py_types in (
        ("string", (str,)),
        ("boolean", (bool,)),
        ("object", (dict,)),
        ("null", (type(None),)),
        ("integer", (int,)),
        ("number", (int, float)),
    ):
        if name in names:
            exact.update(py_types)
    list_min = min((b.get("minItems", 0) for b in branches if b["type"] == "array"), default=None)
    float_if_whole = "integer" in names and "number" not in names
    known = frozenset(exact)
    fallback = _generic_type_union(names, list_min)

    def check(v: Any) -> bool:
        t = type(v)
        if t in known:
            return True
        if t is list:
            return list_min is not None and len(v) >= list_min
        if t is float:
            return float_if_whole and v.is_integer()
        if t in _PLAIN_JSON:
            return False
        return fallback(v)  # a subclass of a JSON type: decide the slow way

    kinds = {b["type"] for b in branches if b["type"] != "array"}
    if list_min is not None:
        kinds.add("array" if list_min == 0 else "array1")
    return tag(check, union=frozenset(kinds))


_PLAIN_JSON = frozenset({str, bool, dict, type(None), int, float, list})


def _generic_type_union(names: set[str], list_min: int | None) -> Check:
    def check(v: Any) -> bool:
        return any(TYPE_TESTS[name](v) and (name != "array" or len(v) >= (list_min or 0)) for name in names)

    return check


def is_string_part(part: dict[str, Any]) -> bool:
    not_ = part.get("not")
    return set(part) <= _STRING_KEYWORDS and (not_ is None or set(not_) <= _PATTERN_ONLY)


def string_check(parts: list[tuple[dict[str, Any], Path]]) -> Check:
    """A string schema (type, patterns, lengths, enum, format, not-pattern) as one check."""
    searches = tuple(re.compile(part["pattern"]).search for part, _ in parts if "pattern" in part)
    refused = tuple(
        re.compile(part["not"]["pattern"]).search for part, _ in parts if "pattern" in part.get("not", {})
    )
    least = max((part.get("minLength", 0) for part, _ in parts), default=0)
    most = min((part.get("maxLength", 1 << 62) for part, _ in parts), default=1 << 62)
    enums = [frozenset(part["enum"]) for part, _ in parts if "enum" in part]
    allowed = frozenset.intersection(*enums) if enums else None
    formats = tuple(format_check(part["format"]) for part, _ in parts if "format" in part)

    if not (searches or refused or formats or least or most < 1 << 62) and allowed is None:
        return tag(TYPE_TESTS["string"], accepts="string")

    def check(v: Any) -> bool:
        if not isinstance(v, str) or not least <= len(v) <= most:
            return False
        if allowed is not None and v not in allowed:
            return False
        for search in searches:
            if search(v) is None:
                return False
        for search in refused:
            if search(v) is not None:
                return False
        return all(f(v) for f in formats) if formats else True

    return tag(remembered(check), accepts="string")


MEMO_LIMIT = 4096


def remembered(check: Check) -> Check:
    """``check`` with a bounded memo of its verdicts on strings.

    Within a bundle most string values repeat (type, spec_version, timestamps, author,
    markings, labels), and a dict lookup is cheaper than the regular expressions.
    """
    memo: dict[str, bool] = {}

    def recall(v: Any) -> bool:
        if type(v) is not str:
            return check(v)
        verdict = memo.get(v)
        if verdict is None:
            verdict = check(v)
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            memo[v] = verdict
        return verdict

    return recall


FLAT_MEMO_LIMIT = 8192


def remembered_flat(check: Check) -> Check:
    """``check`` of an object, with a bounded memo of its verdicts on flat objects: every value
    a string (external references, kill-chain phases: ATT&CK repeats its citations across
    thousands of relationships).

    Only objects whose values are all strings are remembered, so a remembered key can only
    match an object whose values are strings too (``True == 1`` would otherwise let a boolean
    borrow an integer's verdict).
    """
    memo: dict[tuple[tuple[str, Any], ...], bool] = {}

    def recall(v: Any) -> bool:
        if type(v) is not dict:
            return check(v)
        key = tuple(v.items())
        try:
            verdict = memo.get(key)
        except TypeError:  # a list or dict among the values: unhashable
            return check(v)
        if verdict is None:
            verdict = check(v)
            for value in v.values():
                if type(value) is not str:
                    return verdict
            if len(memo) >= FLAT_MEMO_LIMIT:
                memo.clear()
            memo[key] = verdict
        return verdict

    return recall
