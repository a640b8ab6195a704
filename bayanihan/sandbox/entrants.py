"""Reference entrants the sandbox knows by name, and cross-validation of the baseline.

Hook for the hub's own lure/indicator matcher: when ``bayanihan.correlate`` provides a
callable ``classify(case) -> {"label", "score"}``, register it here as
``ENTRANTS["lure-matcher"] = "py:bayanihan.correlate.<module>:classify"``; it then runs like
any Python tool (isolated child, same card). Until then the name is listed but unavailable.
"""

from __future__ import annotations

import datetime as dt
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

from sklearn.model_selection import StratifiedKFold

from . import baseline
from .errors import SandboxError
from .harness import Execution, RunOptions, RunResult, execute, make_card, mutator_names
from .policy import Policy, load_policy
from .suite import Suite
from .tools import parse_tool

ENTRANTS: dict[str, str | None] = {
    "lure-matcher": None,  # filled in when the correlate package ships its matcher
}


def entrant_spec(name: str) -> str:
    spec = ENTRANTS.get(name)
    if spec is None:
        raise SandboxError("--tool", f"entrant {name!r} is not available yet"
                           if name in ENTRANTS else f"no entrant named {name!r}")
    return spec


def cross_validate(suite: Suite, folds: int = 5, policy: Policy | None = None,
                   options: RunOptions | None = None,
                   progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Train the baseline on k-1 folds, run the held-out fold through the sandbox; one card."""
    options = options or RunOptions(split="all")
    cases = list(suite.cases)
    labels = [c.label for c in cases]
    names = mutator_names(suite, options.mutators)
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=options.seed)
    started = dt.datetime.now(dt.UTC)
    merged: Execution | None = None
    order = []
    with tempfile.TemporaryDirectory(prefix="bayanihan-cv-") as tmp:
        Path(tmp).chmod(0o755)
        for k, (train_ix, test_ix) in enumerate(split.split(cases, labels)):
            model = Path(tmp) / f"fold{k}.pkl"
            fold_model = baseline.fit([cases[i] for i in train_ix], suite.positive)
            model.write_bytes(pickle.dumps(fold_model))
            tool = parse_tool(baseline.tool_spec(model))
            held = [cases[i] for i in test_ix]
            part = execute(tool, held, suite.kind, names, options, progress)
            if merged is None:
                merged = part
            else:
                merged.extend(part, len(order))
            order += held
    assert merged is not None
    tool.spec = f"baseline ({folds}-fold cross-validation)"
    tool.sha256 = baseline.code_sha256()
    tool.hashed = [baseline.__file__]
    card = make_card(tool, suite, policy or load_policy(), options, order, merged, started)
    card["suite"]["split"] = f"{folds}-fold cross-validation"
    return RunResult(card, merged.all())
