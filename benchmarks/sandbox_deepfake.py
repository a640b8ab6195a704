"""A deepfake-detector report card: the naive reference entrant (``entrant:media-spectral``)
on the synthetic media suite (pictures, voices with a language tag, short clips), every media
mutator, through the isolation boundary. Writes docs/sandbox-cards/deepfake-synthetic/ and
prints the headline figures and the time taken. Bounded: a few minutes on 2 cores (ffmpeg).

    python benchmarks/sandbox_deepfake.py [--out docs/sandbox-cards] [--pictures 40]
        [--voices 40] [--clips 6]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bayanihan.cli.sandbox import write_card
from bayanihan.sandbox import Limits, RunOptions, run
from bayanihan.sandbox.entrants import entrant_tool
from bayanihan.sandbox.media_suite import synthetic_suite

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "sandbox-cards")
    parser.add_argument("--pictures", type=int, default=40)
    parser.add_argument("--voices", type=int, default=40)
    parser.add_argument("--clips", type=int, default=6)
    args = parser.parse_args()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bayanihan-deepfake-") as tmp:
        suite = synthetic_suite(Path(tmp), pictures=args.pictures, voices=args.voices,
                                clips=args.clips)
        made = time.monotonic() - t0
        tool = entrant_tool("media-spectral", suite, Path(tmp))
        options = RunOptions(split="all", limits=Limits(case_timeout=30.0, batch_size=16))
        card = run(tool, suite, options=options).card
    took = time.monotonic() - t0
    write_card(card, args.out / "deepfake-synthetic")
    overall = card["metrics"]["overall"]
    print(f"suite: {len(suite.cases)} items made in {made:.1f} s; whole run {took:.1f} s; "
          f"{card['headline']}")
    print(f"clean: recall {overall['recall']['value']}, fpr {overall['fpr']['value']}, "
          f"roc auc {(card['metrics'].get('roc_auc') or {}).get('value')}")
    for name, r in card["robustness"].items():
        print(f"  {name}: recall {r['recall']} (clean {r['clean_recall']}, drop {r['drop']}), "
              f"changed {r['changed']}")
    for lang, g in card["metrics"]["by_language"].items():
        print(f"  language {lang}: recall {g['recall']['value']}, fpr {g['fpr']['value']}")


if __name__ == "__main__":
    main()
