"""Link kinds, weights and thresholds as data an operator can tune.

Like the ``WEIGHTS`` table of ``stix2.equivalence``, what counts as evidence that two reports
belong to one campaign is a table, not code: ``linking.toml`` (shipped beside this module)
gives each link kind a weight and sets the thresholds; ``common_values.toml`` lists values
too common to link anything (URL shorteners, big webmail, public DNS…). An operator's file
with the same layout overrides either (:func:`load_rules`).

Each kind present between two reports adds its weight as independent evidence::

    score = 1 - (1 - w_1) * (1 - w_2) * ...     (one term per kind, however many values)

Reports are linked at ``link_at``; pairs between ``review_at`` and ``link_at`` wait for an
analyst. An analyst's decision on a pair (confirmed / rejected) overrides the score.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["INFRA_KINDS", "Link", "LinkRules", "load_rules", "pair"]

RULES_FILE = "linking.toml"
COMMON_FILE = "common_values.toml"
#: Infrastructure link kinds (shared normalised observables).
INFRA_KINDS = ("url", "domain", "lookalike", "ip", "phone", "wallet", "sender")


def pair(a: str, b: str) -> tuple[str, str]:
    """A report pair in its stored order (smaller id first)."""
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class Link:
    """Evidence that two reports are related: kind, the matcher's score, what matched."""

    report_a: str
    report_b: str
    kind: str
    score: float
    values: tuple[str, ...] = ()
    detail: str = ""

    def evidence(self) -> dict[str, Any]:
        return {"values": list(self.values), "detail": self.detail}


@dataclass(frozen=True)
class LinkRules:
    """Weights per link kind, thresholds and the warning lists of common values."""

    weights: Mapping[str, float]
    link_at: float = 0.75
    review_at: float = 0.40
    max_reports_per_value: int = 20
    common: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: TLSH bands (auto-link, review, never above): the hub's ``tlsh_*`` settings.
    tlsh: tuple[int, int, int] = (30, 70, 100)

    def __post_init__(self) -> None:
        bad = {k: w for k, w in self.weights.items() if not 0.0 <= w <= 1.0}
        if bad:
            raise ValueError(f"linking weights must lie in [0, 1]: {bad}")
        if not 0.0 < self.review_at <= self.link_at <= 1.0:
            raise ValueError("linking thresholds: need 0 < review_at <= link_at <= 1, got "
                             f"{self.review_at}, {self.link_at}")
        if self.max_reports_per_value < 2:
            raise ValueError("linking: max_reports_per_value must be at least 2")

    def weight(self, kind: str) -> float:
        return self.weights.get(kind, 0.0)

    def score(self, kinds: Iterable[str]) -> float:
        """Combined score of the link kinds present between two reports."""
        rest = 1.0
        for kind in set(kinds):
            rest *= 1.0 - self.weight(kind)
        return 1.0 - rest

    def state(self, kinds: Iterable[str], decision: str | None) -> str:
        """``linked``, ``review`` or ``none`` for a pair; an analyst's decision wins."""
        if decision == "rejected":
            return "rejected"
        if decision == "confirmed":
            return "linked"
        value = self.score(kinds)
        if value >= self.link_at:
            return "linked"
        return "review" if value >= self.review_at else "none"

    def is_common(self, kind: str, value: str) -> bool:
        """Whether ``value`` is on the warning list of ``kind`` (never used as evidence)."""
        return value in self.common.get(kind, frozenset())


def _read_package(name: str) -> dict[str, Any]:
    text = resources.files("bayanihan.correlate").joinpath(name).read_text("utf-8")
    return tomllib.loads(text)


def _common(shipped: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for kind, lists in shipped.items():
        out[kind] = {str(v).lower() for values in lists.values() for v in values}
    for kind, change in override.items():
        if not isinstance(change, dict):
            raise ValueError(f"linking file: [common.{kind}] must be a table with add/remove")
        values = out.setdefault(kind, set())
        values |= {str(v).lower() for v in change.get("add", ())}
        values -= {str(v).lower() for v in change.get("remove", ())}
    return {k: frozenset(v) for k, v in out.items()}


def load_rules(path: str | Path | None = None) -> LinkRules:
    """The shipped rules, with an operator file (same layout as ``linking.toml``) on top."""
    if not path:
        return _default_rules()
    try:
        override = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"linking file {path}: {exc}") from None
    return _build(_read_package(RULES_FILE), _read_package(COMMON_FILE), override)


@cache
def _default_rules() -> LinkRules:
    return _build(_read_package(RULES_FILE), _read_package(COMMON_FILE), {})


def _build(shipped: dict[str, Any], common: dict[str, Any], override: dict[str, Any],
           ) -> LinkRules:
    unknown = set(override) - {"thresholds", "weights", "common"}
    if unknown:
        raise ValueError(f"linking file: unknown section(s) {', '.join(sorted(unknown))}")
    weights = {**shipped["weights"], **override.get("weights", {})}
    limits = {**shipped["thresholds"], **override.get("thresholds", {})}
    try:
        return LinkRules(
            weights={str(k): float(v) for k, v in weights.items()},
            link_at=float(limits["link_at"]), review_at=float(limits["review_at"]),
            max_reports_per_value=int(limits["max_reports_per_value"]),
            common=_common(common, override.get("common", {})))
    except (TypeError, KeyError) as exc:
        raise ValueError(f"linking file: {exc}") from None
