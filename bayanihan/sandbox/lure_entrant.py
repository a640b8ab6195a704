"""Reference entrant: the hub's own lure matcher (``bayanihan.correlate.lures.LureIndex``).

``prepare`` writes the positive texts of a suite's training split to a JSON Lines file in a
work folder; the tool (``python -m bayanihan.sandbox.lure_entrant serve LURES THRESHOLD``)
builds a ``LureIndex`` on a temporary in-memory SQLite database from it at start-up, inside the
sandbox, and answers each case with the label of its best match when the MinHash similarity
is at least the threshold (score = that similarity, 0 without a candidate). No embedder: only
same-language copies are found, as in a hub without the embedding model.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import orjson

from .errors import SandboxError
from .suite import Suite
from .tools import Tool, parse_tool

#: The lure index's own "same lure" threshold (``LureIndex.jaccard_threshold`` default).
THRESHOLD = 0.3
NAME = "lure-matcher"


def prepare(suite: Suite, workdir: Path, split: str = "train",
            threshold: float = THRESHOLD) -> Tool:
    """Write the training lures and return the tool that serves them."""
    if suite.kind != "text":
        raise SandboxError("--tool", f"{NAME} matches text lures; suite {suite.name!r} is "
                                     f"{suite.kind}")
    lures = [c for c in suite.select(split) if suite.is_positive(c.label) and c.text]
    if not lures:
        raise SandboxError("--train-split", f"suite {suite.name!r} has no positive {split!r} "
                                            f"cases to index")
    negatives = [c.label for c in suite.select(split) if not suite.is_positive(c.label)]
    negative = max(set(negatives), key=negatives.count) if negatives else "ham"
    data = orjson.dumps({"negative": negative}) + b"\n" + b"".join(
        orjson.dumps({"ref": c.id, "text": c.text, "language": c.language, "label": c.label})
        + b"\n" for c in lures)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "lures.jsonl"
    path.write_bytes(data)
    path.chmod(0o644)
    tool = parse_tool(f"cmd:{sys.executable} -m bayanihan.sandbox.lure_entrant serve "
                      f"{path} {threshold}")
    from bayanihan.correlate import lures as lure_index

    code = [Path(__file__), Path(lure_index.__file__)]
    tool.spec = f"entrant:{NAME} (threshold {threshold}, {len(lures)} lures from {split})"
    tool.sha256 = hashlib.sha256(b"".join(p.read_bytes() for p in code) + data
                                 + str(threshold).encode()).hexdigest()
    tool.hashed = [str(p) for p in code] + [f"{suite.name} v{suite.version} {split} split"]
    return tool


def classify(index: Any, conn: Any, labels: dict[str, str], negative: str, threshold: float,
             case: dict[str, Any]) -> dict[str, Any]:
    best = index.similar(conn, case.get("text") or "", case.get("language"), limit=1)
    score = best[0].score if best else 0.0
    label = labels[best[0].lure_ref] if best and score >= threshold else negative
    return {"id": case["id"], "label": label, "score": round(score, 6)}


def serve(lures_path: str, threshold: float) -> None:
    """JSON Lines loop over stdin; the index lives in an in-memory SQLite database."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    from bayanihan.correlate.lures import LureIndex, LureInputError
    from bayanihan.correlate.tables_lures import lure, lure_band
    from bayanihan.store.schema import metadata

    header, *rows = [orjson.loads(line) for line in Path(lures_path).read_bytes().splitlines()]
    engine = create_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(engine, tables=[lure, lure_band])
    index = LureIndex(jaccard_threshold=0.0)  # every candidate scored; the label uses threshold
    labels = {r["ref"]: r["label"] for r in rows}
    with engine.begin() as conn:
        for r in rows:  # one at a time: a lure with no text left after normalising is skipped
            try:
                index.add(conn, r["ref"], r["text"], r["language"])
            except LureInputError:
                continue
    with engine.connect() as conn:
        for line in sys.stdin.buffer:
            if line.strip():
                answer = classify(index, conn, labels, header["negative"], threshold,
                                  orjson.loads(line))
                sys.stdout.buffer.write(orjson.dumps(answer) + b"\n")
                sys.stdout.buffer.flush()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "serve":
        sys.exit("usage: python -m bayanihan.sandbox.lure_entrant serve LURES THRESHOLD")
    serve(sys.argv[2], float(sys.argv[3]))
