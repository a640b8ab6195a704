"""Detection metrics with bootstrap intervals, per-group breakdowns, robustness and latency.

A case whose outcome is not ``ok`` (crash, timeout, malformed, …) counts as "no detection":
a missed positive or a quiet negative. Failures are counted separately and never dropped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score

from .suite import Case
from .verdict import OUTCOMES, Verdict

BOOTSTRAP = 500


def _rates(t: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and FPR along the last axis (works on bootstrap matrices)."""
    tp = (t & p).sum(-1)
    fp = (~t & p).sum(-1)
    fn = (t & ~p).sum(-1)
    tn = (~t & ~p).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        f1 = 2 * tp / (2 * tp + fp + fn)
        fpr = fp / (fp + tn)
    return {"precision": precision, "recall": recall, "f1": f1, "fpr": fpr}


def _r(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def binary(truth: np.ndarray, pred: np.ndarray, seed: int) -> dict[str, Any]:
    """Point estimates and 95 % bootstrap intervals (seeded) for the four rates."""
    point = _rates(truth, pred)
    out: dict[str, Any] = {"n": int(truth.size), "positives": int(truth.sum())}
    if truth.size == 0:
        return out
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, truth.size, size=(BOOTSTRAP, truth.size))
    boot = _rates(truth[idx], pred[idx])
    for name, value in point.items():
        sample = boot[name][np.isfinite(boot[name])]
        ci = ([_r(np.percentile(sample, 2.5)), _r(np.percentile(sample, 97.5))]
              if sample.size else [None, None])
        out[name] = {"value": _r(value), "ci95": ci}
    return out


def _arrays(cases: Sequence[Case], verdicts: Sequence[Verdict],
            positive: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    pos = set(positive)
    truth = np.fromiter((c.label in pos for c in cases), bool, len(cases))
    pred = np.fromiter((v.outcome == "ok" and v.label in pos for v in verdicts), bool,
                       len(verdicts))
    return truth, pred


def evaluate(cases: Sequence[Case], verdicts: Sequence[Verdict], positive: Sequence[str],
             seed: int, min_group: int = 30) -> dict[str, Any]:
    """All clean-set figures: overall, per language and country, multi-class, AUC, failures."""
    truth, pred = _arrays(cases, verdicts, positive)
    result: dict[str, Any] = {"overall": binary(truth, pred, seed)}
    scored = [(t, v.score) for t, v in zip(truth, verdicts, strict=True)
              if v.outcome == "ok" and v.score is not None]
    result["roc_auc"] = None
    if scored and len({t for t, _ in scored}) == 2:
        ts, ss = zip(*scored, strict=True)
        result["roc_auc"] = {"value": _r(roc_auc_score(ts, ss)), "scored_cases": len(scored)}
    labels = [c.label for c in cases]
    got = [v.label if v.outcome == "ok" else "<no answer>" for v in verdicts]
    result["multiclass"] = {
        "labels": sorted(set(labels)),
        "accuracy": _r(float(np.mean([a == b for a, b in zip(labels, got, strict=True)]))),
        "macro_f1": _r(f1_score(labels, got, labels=sorted(set(labels)), average="macro",
                                zero_division=0)),
    }
    for key in ("language", "country"):
        groups: dict[str, list[int]] = defaultdict(list)
        for i, case in enumerate(cases):
            groups[getattr(case, key) or "unknown"].append(i)
        result[f"by_{key}"] = {
            name: {**binary(truth[ix], pred[ix], seed),
                   "enough_cases": int(truth[ix].sum()) >= min_group}
            for name, ix in sorted(groups.items())
        }
    result["fairness"] = fairness(result["by_language"])
    result["outcomes"] = outcome_counts(verdicts)
    return result


def fairness(by_language: dict[str, Any]) -> dict[str, Any]:
    """Gap between best and worst recall over languages with enough positive cases."""
    recalls = {lang: g["recall"]["value"] for lang, g in by_language.items()
               if g.get("enough_cases") and g.get("recall", {}).get("value") is not None}
    if len(recalls) < 2:
        return {"recall_gap": None, "languages": recalls}
    best, worst = max(recalls, key=recalls.get), min(recalls, key=recalls.get)
    return {"recall_gap": _r(recalls[best] - recalls[worst]), "best": best, "worst": worst,
            "languages": recalls}


def outcome_counts(verdicts: Sequence[Verdict]) -> dict[str, int]:
    counts = Counter(v.outcome for v in verdicts)
    counts["network_attempt_cases"] = sum(1 for v in verdicts if v.network_attempts)
    counts["escape_attempt_cases"] = sum(1 for v in verdicts if v.escape_attempts)
    return {k: counts.get(k, 0) for k in (*OUTCOMES, "network_attempt_cases",
                                          "escape_attempt_cases")}


def robustness(cases: Sequence[Case], clean: Sequence[Verdict],
               mutated: dict[str, list[tuple[int, Verdict]]],
               positive: Sequence[str], changed: dict[str, int]) -> dict[str, Any]:
    """Recall on each mutator's variants of the positive cases against clean recall."""
    truth, clean_pred = _arrays(cases, clean, positive)
    pos = set(positive)
    out: dict[str, Any] = {}
    for name, pairs in sorted(mutated.items()):
        ix = np.array([i for i, _ in pairs if truth[i]], dtype=int)
        hits = np.array([v.outcome == "ok" and v.label in pos for i, v in pairs if truth[i]],
                        dtype=bool)
        base = float(clean_pred[ix].mean()) if ix.size else float("nan")
        under = float(hits.mean()) if hits.size else float("nan")
        neg = np.array([i for i, _ in pairs if not truth[i]], dtype=int)
        alarms = np.array([v.outcome == "ok" and v.label in pos for i, v in pairs
                           if not truth[i]], dtype=bool)
        out[name] = {"positives": int(ix.size), "changed": changed.get(name, 0),
                     "clean_recall": _r(base), "recall": _r(under),
                     "drop": _r(base - under),
                     # false alarms on the negatives' variants (e.g. every voice through a
                     # phone channel looking synthetic)
                     "clean_fpr": _r(float(clean_pred[neg].mean()) if neg.size else float("nan")),
                     "fpr": _r(float(alarms.mean()) if alarms.size else float("nan")),
                     "outcomes": outcome_counts([v for _, v in pairs])}
    return out


def latency(verdicts: Sequence[Verdict], wall_seconds: float) -> dict[str, Any]:
    times = np.array([v.latency_ms for v in verdicts if v.latency_ms is not None])
    return {
        "p50_ms": _r(np.percentile(times, 50)) if times.size else None,
        "p95_ms": _r(np.percentile(times, 95)) if times.size else None,
        "cases": len(verdicts),
        "wall_seconds": round(wall_seconds, 3),
        "cases_per_second": round(len(verdicts) / wall_seconds, 1) if wall_seconds else None,
    }
