"""Report cards on real regional SMS data, written to docs/sandbox-cards/.

1. Baseline trained on the English UCI set (train split), run on the Philippine scam set
   (Tagalog + English) paired with UCI ham from the test split: the cross-language gap.
2. Baseline by 5-fold cross-validation on the Thai set (4 classes): accuracy against the
   published ~0.9.
3. The deliberately bad tool of the tests (crash, hang, flood, memory, network) on the
   shipped tiny suite plus one case per misdeed: what a card of a misbehaving tool looks like.
Reads ../shared/data/sms (never shipped). Bounded: a few minutes on 2 cores.

    python benchmarks/sandbox_cards.py [--out docs/sandbox-cards] [--folds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bayanihan.cli.sandbox import write_card
from bayanihan.sandbox import Limits, RunOptions, Suite, baseline, datasets, parse_tool, run
from bayanihan.sandbox.entrants import cross_validate
from bayanihan.sandbox.suite import Case, shipped_suite

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "sms"
MISDEEDS = ("CRASH", "SLEEP", "FLOOD", "ALLOC", "CONNECT 9", "GARBAGE")


def bad_tool_card(out: Path) -> None:
    tiny = shipped_suite()
    extra = tuple(Case(f"misdeed-{i}", "ham", text=f"{word} please", language="en",
                       split="test") for i, word in enumerate(MISDEEDS))
    suite = Suite("tiny-text-misdeeds", "text", tiny.cases + extra)
    tool = parse_tool(f"cmd:{sys.executable} {ROOT / 'tests' / 'sandbox' / 'badtool.py'}")
    limits = Limits(case_timeout=1.0, memory_bytes=512 << 20)
    result = run(tool, suite, options=RunOptions(mutators=["leetspeak"], limits=limits))
    write_card(result.card, out / "bad-tool")
    (out / "bad-tool" / "verdicts.jsonl").write_text("".join(
        json.dumps(v.to_dict(), ensure_ascii=False) + "\n" for v in result.verdicts))
    print(f"bad tool: grade {result.card['grade']}, outcomes {result.card['outcomes_total']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs/sandbox-cards"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    bad_tool_card(args.out)
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
