"""The STIX 2.1 JSON schemas shipped with stix2-validator, compiled to fast yes/no checks.

`compile_type(type_name)` turns the schema `stix2-validator` would use for an object type into a
predicate with the same verdict as `jsonschema.Draft202012Validator` (with its format checker)
gives for the keywords those schemas use. A predicate only says yes or no; the error details of
a failing object come from the validator itself (see `validation.py`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from bayanihan.model.validation_checks import (
    ANNOTATIONS,
    TYPE_TESTS,
    Check,
    all_of,
    format_check,
    is_number,
    is_string_part,
    remembered_flat,
    string_check,
    tag,
    type_union,
)
from bayanihan.model.validator_source import json_equal, package_root

_OBJECT_KEYWORDS = ANNOTATIONS | {
    "type", "properties", "patternProperties", "additionalProperties", "required", "allOf", "$ref",
}  # fmt: skip
_OBJECT_ONLY = frozenset({"properties", "patternProperties", "additionalProperties", "required"})
_ARRAY_KEYWORDS = ANNOTATIONS | {"type", "minItems", "items", "$ref", "allOf"}
_NAME_CACHE_LIMIT = 50_000


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
        if types == {"string"} and all(is_string_part(part) for part, _ in parts):
            return string_check(parts)
        if types == {"array"} and all(set(part) <= _ARRAY_KEYWORDS for part, _ in parts):
            return self._array(parts)
        simple = type_union(schema)
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
        rest_check = all_of(whole)
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
            per_name[name] = result = all_of(found)
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

        return tag(check, accepts="object")

    def _array(self, parts: list[tuple[dict[str, Any], Path]]) -> Check:
        """An array schema: type, minItems and one items schema, as one loop."""
        least = max((part.get("minItems", 0) for part, _ in parts), default=0)
        items = [self.compile(part["items"], base) for part, base in parts if "items" in part]
        item = all_of(items)
        if len(items) == 1 and getattr(items[0], "accepts", None) == "object":
            item = remembered_flat(item)  # lists of objects: external references and the like

        def check(v: Any) -> bool:
            if not isinstance(v, list) or len(v) < least:
                return False
            for element in v:  # noqa: SIM110 (faster than all() here)
                if not item(element):
                    return False
            return True

        return tag(check, accepts="array1" if least >= 1 else "array")

    def _generic(self, schema: dict[str, Any], base: Path) -> Check:
        checks: list[Check] = []
        for keyword, arg in schema.items():
            if keyword in ANNOTATIONS or keyword in ("then", "else"):
                continue
            method = getattr(self, "_kw_" + keyword.replace("$", ""), None)
            if method is None:
                raise ValueError(f"unsupported JSON-schema keyword {keyword!r} in {base}")
            checks.append(method(arg, schema, base))
        return all_of(checks)

    def _kw_ref(self, ref: str, schema: dict[str, Any], base: Path) -> Check:
        target, _, pointer = ref.partition("#")
        path = (base.parent / target).resolve() if target else base
        return self._ref(path, pointer)

    def _kw_type(self, name: str, schema: dict[str, Any], base: Path) -> Check:
        return TYPE_TESTS[name]

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
        return format_check(name)

    def _kw_minLength(self, n: int, schema: dict[str, Any], base: Path) -> Check:
        return lambda v: not isinstance(v, str) or len(v) >= n

    def _kw_maxLength(self, n: int, schema: dict[str, Any], base: Path) -> Check:
        return lambda v: not isinstance(v, str) or len(v) <= n

    def _kw_minimum(self, n: float, schema: dict[str, Any], base: Path) -> Check:
        return lambda v: not is_number(v) or v >= n

    def _kw_maximum(self, n: float, schema: dict[str, Any], base: Path) -> Check:
        return lambda v: not is_number(v) or v <= n

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
        return all_of([self.compile(s, base) for s in subs])

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


def schema_root() -> Path:
    """The STIX 2.1 schema folder of the installed stix2-validator."""
    return package_root() / "schemas-2.1" / "schemas"


@cache
def schema_paths() -> dict[str, Path]:
    """Schema file per object type, found the way stix2-validator finds them (by file name)."""
    found: dict[str, Path] = {}
    for path in sorted(schema_root().rglob("*.json")):
        found.setdefault(path.stem, path)
    return found


@cache
def compile_type(type_name: str) -> Check | None:
    """Yes/no check for one object type's own schema; None when the package has no schema."""
    path = schema_paths().get(type_name)
    if path is None:
        return None
    return _Compiler().file(path)
