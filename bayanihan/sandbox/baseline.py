"""Reference entrant: character n-gram TF-IDF + logistic regression (scikit-learn).

``train`` fits on a suite's training split and pickles the model; ``serve`` (run as
``python -m bayanihan.sandbox.baseline serve MODEL``) is the JSON Lines tool the sandbox runs.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .errors import SandboxError
from .suite import Case, Suite


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2,
                                  sublinear_tf=True, max_features=100_000)),
        ("lr", LogisticRegression(C=10.0, tol=1e-3, max_iter=3000, class_weight="balanced")),
    ])


def fit(cases: Sequence[Case], positive: Sequence[str]) -> dict[str, Any]:
    """Fit on the given cases; the result pickles and serves."""
    texts = [c.text or "" for c in cases]
    labels = [c.label for c in cases]
    if len(set(labels)) < 2:
        raise SandboxError("suite", "training needs at least two labels")
    model = make_pipeline().fit(texts, labels)
    return {"pipeline": model, "positive": list(positive)}


def train(suite: Suite, out: Path, split: str = "train") -> dict[str, Any]:
    """Fit on one split of a text suite; write the model to ``out``."""
    if suite.kind != "text":
        raise SandboxError("suite", "the baseline is a text classifier")
    cases = suite.select(split)
    if not cases:
        raise SandboxError("--split", f"suite {suite.name!r} has no {split!r} cases")
    model = fit(cases, suite.positive)
    model["trained_on"] = {"suite": suite.name, "version": suite.version,
                           "sha256": suite.sha256, "split": split, "cases": len(cases)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_bytes(pickle.dumps(model))
    tmp.replace(out)
    return model["trained_on"]


def predict(model: dict[str, Any], texts: list[str]) -> list[tuple[str, float]]:
    pipe = model["pipeline"]
    proba = pipe.predict_proba(texts)
    classes = list(pipe.classes_)
    pos = [i for i, c in enumerate(classes) if c in set(model["positive"])]
    return [(classes[int(row.argmax())], float(row[pos].sum())) for row in proba]


def serve(model_path: str) -> None:
    """JSON Lines loop: answer every complete line in each chunk read from stdin."""
    with open(model_path, "rb") as fh:
        model = pickle.load(fh)  # our own model file, written by train()
    pending = b""
    while chunk := os.read(0, 1 << 16):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        cases = [orjson.loads(line) for line in lines if line.strip()]
        if not cases:
            continue
        answers = predict(model, [c.get("text") or "" for c in cases])
        out = b"".join(orjson.dumps({"id": c["id"], "label": label, "score": round(score, 6)})
                       + b"\n" for c, (label, score) in zip(cases, answers, strict=True))
        while out:
            out = out[os.write(1, out):]


def tool_spec(model_path: Path) -> str:
    """The ``--tool`` spec that runs a trained model in the sandbox."""
    return f"cmd:{sys.executable} -m bayanihan.sandbox.baseline serve {Path(model_path).resolve()}"


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "serve":
        sys.exit("usage: python -m bayanihan.sandbox.baseline serve MODEL")
    serve(sys.argv[2])


def code_sha256() -> str:
    """Fingerprint of the baseline's code (stands in for a tool hash when models vary)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
