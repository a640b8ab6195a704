"""A sandbox run: clean cases and their adversarial variants through an isolated tool,
then metrics, policy verdicts and the report card."""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import metrics
from .errors import SandboxError
from .filemutators import FILE_MUTATORS, mutate_bytes
from .isolation import Confinement, Limits, status
from .mediamutators import MEDIA_MUTATORS, mutate_media
from .mutators import TEXT_MUTATORS, mutate_text
from .policy import Policy, checklist_items, judge, load_policy, principles_view, worst
from .suite import Case, Suite
from .tools import Tool, run_tool, tool_confinement
from .verdict import Verdict

SCHEMA = "bayanihan.sandbox.card/1"
VOLATILE = ("run", "timing")  # the parts of a card that may differ between identical runs


@dataclass
class RunOptions:
    seed: int = 0
    split: str = "test"
    mutators: Sequence[str] | None = None  # None: every mutator for the suite's kind
    limits: Limits = field(default_factory=Limits)
    netns: bool = True
    unsafe_no_isolation: bool = False  # run even where bubblewrap cannot (card: not isolated)
    hidden: tuple[str, ...] = ()  # the hub's data folder, database and key files
    evidence: dict[str, dict[str, str]] | None = None


@dataclass
class RunResult:
    card: dict[str, Any]
    verdicts: list[Verdict]


def mutator_names(suite: Suite, wanted: Sequence[str] | None) -> list[str]:
    table = {"text": TEXT_MUTATORS, "file": FILE_MUTATORS,
             "media": dict.fromkeys(MEDIA_MUTATORS)}.get(suite.kind, {})
    names = list(table) if wanted is None else list(wanted)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SandboxError("--mutators", f"unknown for {suite.kind} suites: {unknown} "
                           f"(known: {', '.join(table)})")
    return names


def build_cases(cases: Sequence[Case], names: Sequence[str], seed: int, kind: str,
                blobdir: Path | None = None) -> tuple[list[dict[str, Any]], list[tuple[str, int]],
                                                      dict[str, int]]:
    """Wire-format cases: clean ones, then each mutator's variants; and which is which."""
    wire = [_wire(c, blobdir) for c in cases]
    origin: list[tuple[str, int]] = [("", i) for i in range(len(cases))]
    changed = dict.fromkeys(names, 0)
    for name in names:
        for i, case in enumerate(cases):
            vid = f"{case.id}~{name}"
            if kind == "text":
                text = mutate_text(name, case.text or "", seed, case.id)
                changed[name] += text != case.text
                wire.append({"id": vid, "text": text})
            else:
                assert blobdir is not None
                data = _read_case(case)
                suffix = Path(case.path or "").suffix
                new = mutate_media(name, data, suffix, seed, case.id) if kind == "media" \
                    else mutate_bytes(name, data, seed, case.id)
                changed[name] += new != data
                target = blobdir / (hashlib.sha256(vid.encode()).hexdigest() +
                                    (suffix if kind == "media" else ""))
                target.write_bytes(new)
                wire.append({"id": vid, "path": str(target)})
            origin.append((name, i))
    return wire, origin, changed


def _read_case(case: Case) -> bytes:
    try:
        return Path(case.path or "").read_bytes()
    except OSError as exc:
        raise SandboxError(case.path or case.id, f"cannot read case file ({exc.strerror})") \
            from None


def _wire(case: Case, blobdir: Path | None = None) -> dict[str, Any]:
    """A case as the tool receives it; a file case is copied into ``blobdir`` (the only
    folder of inputs the tool can see), under a name that says nothing of the original."""
    if case.text is not None:
        return {"id": case.id, "text": case.text}
    if blobdir is None:
        return {"id": case.id, "path": str(Path(case.path or "").resolve())}
    target = blobdir / (hashlib.sha256(case.id.encode()).hexdigest() + Path(case.path or "").suffix)
    target.write_bytes(_read_case(case))
    return {"id": case.id, "path": str(target)}


@dataclass
class Execution:
    """Verdicts of one pass through the tool, split into clean and per-mutator."""

    clean: list[Verdict]
    mutated: dict[str, list[tuple[int, Verdict]]]
    changed: dict[str, int]
    restarts: int = 0
    wall: float = 0.0
    confined: Confinement | None = None
    first_crash: dict[str, str] | None = None

    def extend(self, other: Execution, offset: int) -> None:
        """Append another pass whose cases follow this one's (cross-validation folds)."""
        self.clean += other.clean
        for name, pairs in other.mutated.items():
            self.mutated.setdefault(name, []).extend((i + offset, v) for i, v in pairs)
            self.changed[name] = self.changed.get(name, 0) + other.changed[name]
        self.restarts += other.restarts
        self.wall += other.wall
        self.first_crash = self.first_crash or other.first_crash

    def all(self) -> list[Verdict]:
        return self.clean + [v for pairs in self.mutated.values() for _, v in pairs]


def execute(tool: Tool, cases: Sequence[Case], kind: str, names: Sequence[str],
            options: RunOptions, progress: Callable[[int, int], None] | None = None
            ) -> Execution:
    """Send clean cases and every variant through the isolated tool."""
    with tempfile.TemporaryDirectory(prefix="bayanihan-variants-") as blobs:
        Path(blobs).chmod(0o755)
        wire, origin, changed = build_cases(cases, names, options.seed, kind, Path(blobs))
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(done[0], len(wire))

        confined = None if tool.kind == "http" else tool_confinement(
            tool, options.netns, options.unsafe_no_isolation, [blobs], options.hidden)
        t0 = time.monotonic()
        verdicts, restarts, first_crash = run_tool(tool, wire, options.limits, confined, tick)
        wall = time.monotonic() - t0
    mutated: dict[str, list[tuple[int, Verdict]]] = {n: [] for n in names}
    for (name, i), verdict in zip(origin, verdicts, strict=True):
        if name:
            verdict.mutator = name
            mutated[name].append((i, verdict))
    return Execution(verdicts[: len(cases)], mutated, changed, restarts, wall, confined,
                     first_crash)


def run(tool: Tool, suite: Suite, policy: Policy | None = None,
        options: RunOptions | None = None,
        progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Run the suite (one split) and its variants through the tool; build the report card."""
    options = options or RunOptions()
    cases = suite.select(options.split)
    if not cases:
        raise SandboxError("--split", f"suite {suite.name!r} has no {options.split!r} cases")
    names = mutator_names(suite, options.mutators)
    started = dt.datetime.now(dt.UTC)
    result = execute(tool, cases, suite.kind, names, options, progress)
    return RunResult(make_card(tool, suite, policy or load_policy(), options, cases, result,
                               started), result.all())


def make_card(tool: Tool, suite: Suite, policy: Policy, options: RunOptions,
              cases: Sequence[Case], result: Execution, started: dt.datetime) -> dict[str, Any]:
    """Metrics, criteria, principles and grade for an executed run."""
    card = _card(tool, suite, policy, options, list(cases), result)
    card["outcomes_total"] = metrics.outcome_counts(result.all())
    card["timing"] = metrics.latency(result.all(), result.wall)
    card["isolation"]["tool_restarts"] = result.restarts
    totals = card["outcomes_total"]
    card["all_crashed"] = bool(result.all()) and totals.get("ok", 0) == 0 and \
        totals.get("crash", 0) + totals.get("memory_exceeded", 0) == len(result.all())
    if result.first_crash is not None:
        card["first_crash"] = result.first_crash
    card["escape_attempts"] = [{"case": v.case_id, "attempts": v.escape_attempts}
                               for v in result.all() if v.escape_attempts][:50]
    grade(card, policy, options.evidence)
    card["run"] = {"id": f"run-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}",
                   "started": started.isoformat(timespec="seconds"),
                   "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    return card


def grade(card: dict[str, Any], policy: Policy,
          evidence: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """(Re-)judge a card's figures under a policy: criteria, checklist, principles, grade.

    Per-language figures keep the ``min_cases_per_language`` they were computed with."""
    before = card.get("policy", {}).get("min_cases_per_language", policy.min_cases_per_language)
    card["policy"] = {"name": policy.name, "sha256": policy.sha256,
                      "min_cases_per_language": before}
    card["criteria"] = judge(card, policy)
    card["checklist"] = checklist_items(policy, evidence)
    card["principles"] = principles_view(card["criteria"], card["checklist"])
    card["grade"] = worst([c["verdict"] for c in card["criteria"]] + [
        {"yes": "pass", "no": "fail"}.get(i["answer"], "unanswered") for i in card["checklist"]])
    card["failing"] = [c["id"] for c in card["criteria"] if c["verdict"] == "fail"]
    iso = card.get("isolation", {})
    card["headline"] = card["grade"].upper() + (
        "" if iso.get("isolated", True) else " — not isolated")
    return card


def _card(tool: Tool, suite: Suite, policy: Policy, options: RunOptions, cases: list[Case],
          result: Execution) -> dict[str, Any]:
    iso = status(result.confined, options.limits) if result.confined is not None else {
        "isolated": True, "headline": "not applicable: an HTTP endpoint outside the sandbox",
        "mechanisms": [], "network_namespace": False,
        "network": "not applicable: the tool is an HTTP endpoint outside the sandbox",
        "python_audit_hook": False, "runs_as_uid": None,
        "notes": ["process limits do not apply to an endpoint"]}
    iso["limits"] = options.limits.to_dict()
    return {
        "schema": SCHEMA,
        "tool": tool.describe(),
        "suite": {**suite.meta(), "split": options.split, "cases_run": len(cases)},
        "seed": options.seed,
        "mutators": list(result.mutated),
        "isolation": iso,
        "metrics": metrics.evaluate(cases, result.clean, suite.positive, options.seed,
                                    policy.min_cases_per_language),
        "robustness": metrics.robustness(cases, result.clean, result.mutated, suite.positive,
                                         result.changed),
    }


def stable_view(card: dict[str, Any]) -> dict[str, Any]:
    """The card without its volatile parts (run id, times, latencies): equal for equal runs."""
    view = {k: v for k, v in card.items() if k not in VOLATILE}
    view["isolation"] = {k: v for k, v in card["isolation"].items() if k != "tool_restarts"}
    return view
