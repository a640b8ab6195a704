"""Report cards on real regional SMS data, written to docs/sandbox-cards/.

1. Baseline trained on the English UCI set (train split), run on the Philippine scam set
   (Tagalog + English) paired with UCI ham from the test split: the cross-language gap.
2. Baseline by 5-fold cross-validation on the Thai set (4 classes): accuracy against the
   published ~0.9.
Reads ../shared/data/sms (never shipped). Bounded: a few minutes on 2 cores.

    python benchmarks/sandbox_cards.py [--out docs/sandbox-cards] [--folds 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bayanihan.sandbox import RunOptions, baseline, datasets, parse_tool, run
from bayanihan.sandbox.cli import write_card
from bayanihan.sandbox.entrants import cross_validate

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs/sandbox-cards"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"real SMS data not found at {DATA.resolve()}")
    english = datasets.uci_english(DATA)
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "uci.pkl"
        t0 = time.monotonic()
        baseline.train(english, model)
        ph = datasets.philippine(DATA, ham=english)
        card = run(parse_tool(baseline.tool_spec(model)), ph,
                   options=RunOptions(seed=args.seed)).card
        card["tool"]["spec"] = "baseline trained on en-uci-sms (train split)"
        write_card(card, args.out / "uci-en-to-ph")
        fair = card["metrics"]["fairness"]
        print(f"UCI->PH: grade {card['grade']}, failing {card['failing']}, recall by language "
              f"{fair['languages']}, gap {fair['recall_gap']} ({time.monotonic() - t0:.0f} s)")
    t0 = time.monotonic()
    thai = datasets.thai(DATA)
    card = cross_validate(thai, args.folds, options=RunOptions(seed=args.seed, split="all")).card
    write_card(card, args.out / "thai-cv")
    mc = card["metrics"]["multiclass"]
    print(f"Thai {args.folds}-fold CV: accuracy {mc['accuracy']}, macro-F1 {mc['macro_f1']}, "
          f"binary recall {card['metrics']['overall']['recall']['value']}, grade "
          f"{card['grade']}, failing {card['failing']} ({time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
