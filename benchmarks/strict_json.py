"""Cost of refusing duplicate JSON keys (api/strict_json.py) next to parsing the same body.

    .venv/bin/python benchmarks/strict_json.py [objects]

Prints microseconds per object for orjson.loads (what ingest parses with) and for the
duplicate-key check, on a bundle of generated indicators.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bayanihan.api.strict_json import duplicate_key
from tests.stixgen import bundle, indicator


def per_object(fn: Callable[[], object], objects: int, rounds: int = 10) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best / objects * 1e6


def main() -> None:
    objects = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    raw = orjson.dumps(bundle(*(indicator(i) for i in range(objects))))
    parse = per_object(lambda: orjson.loads(raw), objects)
    check = per_object(lambda: duplicate_key(raw), objects)
    print(f"{objects} indicators, {len(raw)} bytes: orjson.loads {parse:.1f} µs/object, "
          f"duplicate-key check {check:.1f} µs/object")


if __name__ == "__main__":
    main()
