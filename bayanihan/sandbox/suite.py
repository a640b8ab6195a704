"""Suites: versioned, content-hashed sets of labelled cases."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .errors import SandboxError

KINDS = ("text", "file", "media")
SPLITS = ("train", "test")
TRAIN_FRACTION = 0.8
_OPTIONAL = ("language", "country", "channel", "source", "split")


@dataclass(frozen=True)
class Case:
    """One labelled input: ``text`` for text suites, ``path`` for file and media suites."""

    id: str
    label: str
    text: str | None = None
    path: str | None = None
    language: str | None = None
    country: str | None = None
    channel: str | None = None
    source: str | None = None
    split: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def split_of(self) -> str:
        """The case's split: the one it names, else a stable hash of its id (80 % train)."""
        if self.split:
            return self.split
        digest = hashlib.sha256(self.id.encode()).digest()
        return "train" if int.from_bytes(digest[:4], "big") / 2**32 < TRAIN_FRACTION else "test"


@dataclass(frozen=True)
class Suite:
    """A named, versioned set of cases; ``positive`` lists the labels that count as detections."""

    name: str
    kind: str
    cases: tuple[Case, ...]
    positive: tuple[str, ...] = ("scam", "spam", "phishing", "malicious", "fake")
    version: int = 1
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """Content hash over kind, positive labels and every case, in order."""
        h = hashlib.sha256()
        h.update(orjson.dumps({"kind": self.kind, "positive": sorted(self.positive)}))
        for case in self.cases:
            h.update(orjson.dumps(case.to_dict(), option=orjson.OPT_SORT_KEYS))
            h.update(b"\n")
        return h.hexdigest()

    def select(self, split: str) -> list[Case]:
        """Cases of one split (``train`` or ``test``), or all of them (``all``)."""
        if split == "all":
            return list(self.cases)
        if split not in SPLITS:
            raise SandboxError("split", f"must be train, test or all, not {split!r}")
        return [c for c in self.cases if c.split_of() == split]

    def is_positive(self, label: str | None) -> bool:
        return label is not None and label in self.positive

    def meta(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "sha256": self.sha256,
            "cases": len(self.cases),
            "positive": list(self.positive),
            "description": self.description,
        }


def parse_case(obj: Any, where: str, kind: str = "text") -> Case:
    """Validate one decoded JSON object as a case; errors name ``where``."""
    if not isinstance(obj, dict):
        raise SandboxError(where, "each line must be a JSON object")
    for key in ("id", "label"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise SandboxError(where, f"'{key}' must be a non-empty string")
    text, path = obj.get("text"), obj.get("path")
    if (text is None) == (path is None):
        raise SandboxError(where, "give exactly one of 'text' or 'path'")
    if text is not None and not isinstance(text, str):
        raise SandboxError(where, "'text' must be a string")
    if path is not None and not isinstance(path, str):
        raise SandboxError(where, "'path' must be a string")
    if kind == "text" and text is None:
        raise SandboxError(where, "a text suite needs 'text' in every case")
    extras: dict[str, str] = {}
    for key in _OPTIONAL:
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise SandboxError(where, f"'{key}' must be a string")
        if value is not None:
            extras[key] = value
    if extras.get("split") not in (None, *SPLITS):
        raise SandboxError(where, "'split' must be 'train' or 'test'")
    unknown = set(obj) - {"id", "label", "text", "path", *_OPTIONAL}
    if unknown:
        raise SandboxError(where, f"unknown field(s) {sorted(unknown)}")
    return Case(id=obj["id"], label=obj["label"], text=text, path=path, **extras)


def parse_lines(lines: Iterable[bytes | str], source: str, kind: str = "text") -> list[Case]:
    """Parse JSON Lines into cases; the first bad line raises, naming file and line."""
    cases: list[Case] = []
    seen: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{source}:{number}"
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise SandboxError(where, f"not valid JSON ({exc})") from None
        case = parse_case(obj, where, kind)
        if case.id in seen:
            raise SandboxError(where, f"duplicate id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise SandboxError(source, "no cases")
    return cases


def load_suite(path: Path, name: str | None = None, kind: str = "text",
               positive: Iterable[str] | None = None, version: int = 1) -> Suite:
    """Read a JSON Lines file into a suite (nothing is stored)."""
    if kind not in KINDS:
        raise SandboxError("kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SandboxError(str(path), f"cannot read ({exc.strerror})") from None
    cases = parse_lines(data.splitlines(), str(path), kind)
    base = dict(name=name or Path(path).stem, kind=kind, cases=tuple(cases), version=version)
    return Suite(**base, positive=tuple(positive)) if positive else Suite(**base)


def dump_cases(cases: Iterable[Case]) -> Iterator[bytes]:
    """Cases as JSON Lines (the format ``load_suite`` reads)."""
    for case in cases:
        yield orjson.dumps(case.to_dict()) + b"\n"


def shipped_suite(name: str = "tiny-text") -> Suite:
    """A small suite the project wrote itself and ships in the package."""
    path = Path(__file__).with_name("suites") / f"{name}.jsonl"
    if not path.exists():
        raise SandboxError("suite", f"no shipped suite named {name!r}")
    return load_suite(path, name=name)
