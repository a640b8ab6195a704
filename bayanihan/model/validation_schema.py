"""The STIX 2.1 JSON schemas shipped with stix2-validator, compiled to fast yes/no checks.

`compile_type(type_name)` turns the schema `stix2-validator` would use for an object type into a
predicate with the same verdict as `jsonschema.Draft202012Validator` (with its format checker)
gives for the keywords those schemas use. A predicate only says yes or no; the error details of
a failing object come from the validator itself (see `validation.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import stix2validator
from jsonschema import Draft202012Validator
from jsonschema._utils import equal as json_equal  # JSON equality (true is not 1)

Check = Callable[[Any], bool]

SCHEMA_ROOT = Path(stix2validator.__file__).resolve().parent / "schemas-2.1" / "schemas"
_ANNOTATIONS = frozenset(
    {"$id", "$schema", "title", "description", "definitions", "$comment", "examples", "default"}
)
_FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER
_OBJECT_KEYWORDS = _ANNOTATIONS | {
    "type", "properties", "patternProperties", "additionalProperties", "required", "allOf", "$ref",
}  # fmt: skip
_STRING_KEYWORDS = _ANNOTATIONS | {
    "type", "pattern", "minLength", "maxLength", "$ref", "allOf", "format", "enum", "not",
}  # fmt: skip
_PATTERN_ONLY = frozenset({"pattern", "title", "description"})
_OBJECT_ONLY = frozenset({"properties", "patternProperties", "additionalProperties", "required"})
_ARRAY_KEYWORDS = _ANNOTATIONS | {"type", "minItems", "items", "$ref", "allOf"}
_TYPE_ONLY = frozenset({"type", "minItems", "title", "description"})
_NAME_CACHE_LIMIT = 50_000


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPE_TESTS: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "integer": _is_integer,
    "number": _is_number,
    "null": lambda v: v is None,
}


def _all(checks: list[Check]) -> Check:
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


def _format(name: str) -> Check:
    """The format check jsonschema's FormatChecker.conforms runs, without its overhead."""
    func, raises = _FORMAT_CHECKER.checkers[name]

    def conforms(v: Any) -> bool:
        try:
            return bool(func(v))
        except raises:
            return False

    return conforms


def _tag(check: Check, **marks: Any) -> Check:
    """Record what a check guarantees, so an object check can drop implied ones."""
    for key, value in marks.items():
        setattr(check, key, value)
    return check


def _type_union(schema: dict[str, Any]) -> Check | None:
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
    return _tag(check, union=frozenset(kinds))


_PLAIN_JSON = frozenset({str, bool, dict, type(None), int, float, list})


def _generic_type_union(names: set[str], list_min: int | None) -> Check:
    def check(v: Any) -> bool:
        return any(_TYPE_TESTS[name](v) and (name != "array" or len(v) >= (list_min or 0)) for name in names)

    return check


def _is_string_part(part: dict[str, Any]) -> bool:
    not_ = part.get("not")
    return set(part) <= _STRING_KEYWORDS and (not_ is None or set(not_) <= _PATTERN_ONLY)


def _string(parts: list[tuple[dict[str, Any], Path]]) -> Check:
    """A string schema (type, patterns, lengths, enum, format, not-pattern) as one check."""
    searches = tuple(re.compile(part["pattern"]).search for part, _ in parts if "pattern" in part)
    refused = tuple(
        re.compile(part["not"]["pattern"]).search for part, _ in parts if "pattern" in part.get("not", {})
    )
    least = max((part.get("minLength", 0) for part, _ in parts), default=0)
    most = min((part.get("maxLength", 1 << 62) for part, _ in parts), default=1 << 62)
    enums = [frozenset(part["enum"]) for part, _ in parts if "enum" in part]
    allowed = frozenset.intersection(*enums) if enums else None
    formats = tuple(_format(part["format"]) for part, _ in parts if "format" in part)

    if not (refused or formats or least or most < 1 << 62) and allowed is None:
        if not searches:
            return _tag(_TYPE_TESTS["string"], accepts="string")
        if len(searches) == 1:
            search = searches[0]
            return _tag(lambda v: isinstance(v, str) and search(v) is not None, accepts="string")

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

    return _tag(check, accepts="string")


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


class _Compiler:
    """Compiles one schema file and the files it references, each subschema once."""

    def __init__(self) -> None:
        self._files: dict[Path, dict[str, Any]] = {}
        self._refs: dict[tuple[Path, str], Check] = {}

    def file(self, path: Path) -> Check:
        return self._ref(path, "")

    def _ref(self, path: Path, pointer: str) -> Check:
        key = (path, pointer)
        if key not in self._refs:
            slot: list[Check] = []
            self._refs[key] = lambda v: slot[0](v)  # placeholder for recursive references
            _, node = self._resolve("#" + pointer, path)
            slot.append(self.compile(node, path))
            self._refs[key] = slot[0]
        return self._refs[key]

    def compile(self, schema: dict[str, Any], base: Path) -> Check:
        parts = self._flatten(schema, base)
        types = {part.get("type") for part, _ in parts} - {None}
        if types == {"object"}:
            return self._object(parts, strict=True)
        if not types and any(_OBJECT_ONLY & set(part) for part, _ in parts):
            return self._object(parts, strict=False)  # object keywords only bind objects
        if types == {"string"} and all(_is_string_part(part) for part, _ in parts):
            return _string(parts)
        if types == {"array"} and all(set(part) <= _ARRAY_KEYWORDS for part, _ in parts):
            return self._array(parts)
        simple = _type_union(schema)
        if simple is not None:
            return simple
        return self._generic(schema, base)

    def _flatten(self, schema: dict[str, Any], base: Path) -> list[tuple[dict[str, Any], Path]]:
        """The schema and the `allOf` / `$ref` subschemas that apply to the same instance."""
        parts = [(schema, base)]
        for sub in schema.get("allOf", ()):
            parts += self._flatten(sub, base)
        if "$ref" in schema:
            path, node = self._resolve(schema["$ref"], base)
            parts += self._flatten(node, path)
        return parts

    def _resolve(self, ref: str, base: Path) -> tuple[Path, Any]:
        target, _, pointer = ref.partition("#")
        path = (base.parent / target).resolve() if target else base
        node: Any = self._files.setdefault(path, _load(path))
        for part in filter(None, pointer.split("/")):
            node = node[part]
        return path, node

    def _object(self, parts: list[tuple[dict[str, Any], Path]], strict: bool) -> Check:
        """An object schema, flattened: the checks for each property name are found once."""
        required: set[str] = set()
        scopes: list[tuple[dict[str, Check], list[tuple[Any, Check]], Check | None]] = []
        whole: list[Check] = []
        for schema, base in parts:
            required.update(schema.get("required", ()))
            named = {k: self.compile(sub, base) for k, sub in schema.get("properties", {}).items()}
            patterns = [
                (re.compile(p).search, self.compile(sub, base))
                for p, sub in schema.get("patternProperties", {}).items()
            ]
            extra = schema.get("additionalProperties")
            additional = None
            if extra is not None:
                additional = (lambda v: False) if extra is False else self.compile(extra, base)
            if named or patterns or additional is not None:
                scopes.append((named, patterns, additional))
            rest = {k: v for k, v in schema.items() if k not in _OBJECT_KEYWORDS}
            if rest:
                whole.append(self._generic(rest, base))
        needed = frozenset(required)
        rest_check = _all(whole)
        per_name: dict[str, Check] = {}

        def check_for(name: str) -> Check:
            found: list[Check] = []
            for named, patterns, additional in scopes:
                matched = False
                if name in named:
                    found.append(named[name])
                    matched = True
                for search, sub in patterns:
                    if search(name):
                        found.append(sub)
                        matched = True
                if not matched and additional is not None:
                    found.append(additional)
            typed = {getattr(c, "accepts", None) for c in found}
            found = [c for c in found if not typed & getattr(c, "union", frozenset())]
            if len(per_name) > _NAME_CACHE_LIMIT:
                per_name.clear()
            per_name[name] = result = _all(found)
            return result

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return not strict and rest_check(v)
            if not needed.issubset(v.keys()):
                return False
            for name, value in v.items():
                sub = per_name.get(name) or check_for(name)
                if not sub(value):
                    return False
            return rest_check(v)

        return _tag(check, accepts="object")

    def _array(self, parts: list[tuple[dict[str, Any], Path]]) -> Check:
        """An array schema: type, minItems and one items schema, as one loop."""
        least = max((part.get("minItems", 0) for part, _ in parts), default=0)
        items = [self.compile(part["items"], base) for part, base in parts if "items" in part]
        item = _all(items)

        def check(v: Any) -> bool:
            if not isinstance(v, list) or len(v) < least:
                return False
            for element in v:  # noqa: SIM110 (faster than all() here)
                if not item(element):
                    return False
            return True

        return _tag(check, accepts="array1" if least >= 1 else "array")

    def _generic(self, schema: dict[str, Any], base: Path) -> Check:
        checks: list[Check] = []
        for keyword, arg in schema.items():
            if keyword in _ANNOTATIONS or keyword in ("then", "else"):
                continue
            method = getattr(self, "_kw_" + keyword.replace("$", ""), None)
            if method is None:
                raise ValueError(f"unsupported JSON-schema keyword {keyword!r} in {base}")
            checks.append(method(arg, schema, base))
        return _all(checks)

    def _kw_ref(self, ref: str, schema: dict[str, Any], base: Path) -> Check:
        target, _, pointer = ref.partition("#")
        path = (base.parent / target).resolve() if target else base
        return self._ref(path, pointer)

    def _kw_type(self, name: str, schema: dict[str, Any], base: Path) -> Check:
        return _TYPE_TESTS[name]

    def _kw_enum(self, values: list[Any], schema: dict[str, Any], base: Path) -> Check:
        if not all(isinstance(v, str) for v in values):
            return lambda v: any(json_equal(e, v) for e in values)
        allowed = frozenset(values)
        return lambda v: isinstance(v, str) and v in allowed

    def _kw_const(self, value: Any, schema: dict[str, Any], base: Path) -> Check:
        if not isinstance(value, str):
            return lambda v: json_equal(value, v)
        return lambda v: isinstance(v, str) and v == value

    def _kw_pattern(self, pattern: str, schema: dict[str, Any], base: Path) -> Check:
        search = re.compile(pattern).search
        return lambda v: not isinstance(v, str) or search(v) is not None

    def _kw_format(self, name: str, schema: dict[str, Any], base: Path) -> Check:
        return _format(name)

    def _kw_minLength(self, n: int, schema: dict[str, Any], base: Path) -> Check:
        return lambda v: not isinstance(v, str) or len(v) >= n

    def _kw_maxLength(self, n: int, schema: dict[str, Any], base: Path) -> Check:
        return lambda v: not isinstance(v, str) or len(v) <= n

    def _kw_minimum(self, n: float, schema: dict[str, Any], base: Path) -> Check:
        return lambda v: not _is_number(v) or v >= n

    def _kw_maximum(self, n: float, schema: dict[str, Any], base: Path) -> Check:
        return lambda v: not _is_number(v) or v <= n

    def _kw_minItems(self, n: int, schema: dict[str, Any], base: Path) -> Check:
        return lambda v: not isinstance(v, list) or len(v) >= n

    def _kw_minProperties(self, n: int, schema: dict[str, Any], base: Path) -> Check:
        return lambda v: not isinstance(v, dict) or len(v) >= n

    def _kw_items(self, sub: dict[str, Any], schema: dict[str, Any], base: Path) -> Check:
        check = self.compile(sub, base)
        return lambda v: not isinstance(v, list) or all(map(check, v))

    def _kw_contains(self, sub: dict[str, Any], schema: dict[str, Any], base: Path) -> Check:
        check = self.compile(sub, base)
        return lambda v: not isinstance(v, list) or any(map(check, v))

    def _kw_required(self, names: list[str], schema: dict[str, Any], base: Path) -> Check:
        needed = frozenset(names)
        return lambda v: not isinstance(v, dict) or needed.issubset(v.keys())

    def _kw_properties(self, props: dict[str, Any], schema: dict[str, Any], base: Path) -> Check:
        compiled = [(name, self.compile(sub, base)) for name, sub in props.items()]

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            return all(sub(v[name]) for name, sub in compiled if name in v)

        return check

    def _kw_patternProperties(self, props: dict[str, Any], schema: dict[str, Any], base: Path) -> Check:
        compiled = [(re.compile(p).search, self.compile(sub, base)) for p, sub in props.items()]
        matches: dict[str, tuple[Check, ...]] = {}  # memo: property name -> subschemas

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for key, value in v.items():
                subs = matches.get(key)
                if subs is None:
                    subs = tuple(sub for search, sub in compiled if search(key))
                    if len(matches) > _NAME_CACHE_LIMIT:
                        matches.clear()
                    matches[key] = subs
                for sub in subs:
                    if not sub(value):
                        return False
            return True

        return check

    def _kw_additionalProperties(
        self, extra: bool | dict[str, Any], schema: dict[str, Any], base: Path
    ) -> Check:
        named = frozenset(schema.get("properties", {}))
        searches = [re.compile(p).search for p in schema.get("patternProperties", {})]
        sub = (lambda v: False) if extra is False else self.compile(extra, base)  # type: ignore[arg-type]
        additional: dict[str, bool] = {}  # memo: property name -> is it "additional"

        def is_additional(key: str) -> bool:
            known = additional.get(key)
            if known is None:
                known = key not in named and not any(s(key) for s in searches)
                if len(additional) > _NAME_CACHE_LIMIT:
                    additional.clear()
                additional[key] = known
            return known

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            return all(sub(value) for key, value in v.items() if is_additional(key))

        return check

    def _kw_propertyNames(self, sub: dict[str, Any], schema: dict[str, Any], base: Path) -> Check:
        check = self.compile(sub, base)
        return lambda v: not isinstance(v, dict) or all(map(check, v))

    def _kw_allOf(self, subs: list[dict[str, Any]], schema: dict[str, Any], base: Path) -> Check:
        return _all([self.compile(s, base) for s in subs])

    def _kw_anyOf(self, subs: list[dict[str, Any]], schema: dict[str, Any], base: Path) -> Check:
        if all(set(b) == {"required"} for b in subs):
            groups = tuple(frozenset(b["required"]) for b in subs)  # "one of these key sets"
            return lambda v: not isinstance(v, dict) or any(g.issubset(v.keys()) for g in groups)
        checks = [self.compile(s, base) for s in subs]
        return lambda v: any(c(v) for c in checks)

    def _kw_oneOf(self, subs: list[dict[str, Any]], schema: dict[str, Any], base: Path) -> Check:
        checks = [self.compile(s, base) for s in subs]

        def exactly_one(v: Any) -> bool:
            passed = 0
            for check in checks:
                if check(v):
                    passed += 1
                    if passed > 1:
                        return False
            return passed == 1

        return exactly_one

    def _kw_not(self, sub: dict[str, Any], schema: dict[str, Any], base: Path) -> Check:
        branches = sub.get("anyOf", ()) if set(sub) == {"anyOf"} else ()
        if branches and all(set(b) == {"required"} for b in branches):
            groups = tuple(frozenset(b["required"]) for b in branches)  # "none of these keys"
            return lambda v: isinstance(v, dict) and not any(g.issubset(v.keys()) for g in groups)
        check = self.compile(sub, base)
        return lambda v: not check(v)

    def _kw_if(self, sub: dict[str, Any], schema: dict[str, Any], base: Path) -> Check:
        test = self.compile(sub, base)
        then = self.compile(schema.get("then", {}), base)
        other = self.compile(schema.get("else", {}), base)
        return lambda v: then(v) if test(v) else other(v)


@cache
def schema_paths() -> dict[str, Path]:
    """Schema file per object type, found the way stix2-validator finds them (by file name)."""
    found: dict[str, Path] = {}
    for path in sorted(SCHEMA_ROOT.rglob("*.json")):
        found.setdefault(path.stem, path)
    return found


@cache
def compile_type(type_name: str) -> Check | None:
    """Yes/no check for one object type's own schema; None when the package has no schema."""
    path = schema_paths().get(type_name)
    if path is None:
        return None
    return _Compiler().file(path)
