"""Reference entrants the sandbox knows by name, and cross-validation of the baseline.

An entrant is prepared from the suite it is about to run on (it may learn from the suite's
training split) and returns the :class:`Tool` to run, like any other tool: isolated, one card.
``entrant:lure-matcher`` is the hub's own lure matcher (:mod:`.lure_entrant`);
``entrant:media-spectral`` the naive deepfake detector of :mod:`.media_baseline`.
"""

from __future__ import annotations

import datetime as dt
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from sklearn.model_selection import StratifiedKFold

from . import baseline, lure_entrant
from .errors import SandboxError
from .harness import Execution, RunOptions, RunResult, execute, make_card, mutator_names
from .policy import Policy, load_policy
from .suite import Suite
from .tools import Tool, parse_tool

#: name -> prepare(suite, work folder, training split) -> Tool
ENTRANTS: dict[str, Callable[[Suite, Path, str], Tool]] = {
    lure_entrant.NAME: lure_entrant.prepare,
    "media-spectral": lambda suite, workdir, split: media_tool(),
}


def media_tool() -> Tool:
    """The naive deepfake detector of :mod:`.media_baseline` (nothing to learn)."""
    tool = parse_tool(f"cmd:{sys.executable} -m bayanihan.sandbox.media_baseline")
    tool.spec = "entrant:media-spectral (2x2 block grid for pictures, >4 kHz share for voices)"
    return tool


def entrant_tool(name: str, suite: Suite, workdir: Path, split: str = "train") -> Tool:
    """The tool of entrant ``name`` prepared on ``suite`` (training files go in ``workdir``)."""
    prepare = ENTRANTS.get(name)
    if prepare is None:
        raise SandboxError("--tool", f"no entrant named {name!r}; known: {', '.join(ENTRANTS)}")
    return prepare(suite, workdir, split)


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
