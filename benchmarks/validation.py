"""Validation rate: `bayanihan.model.validation.validate` vs `stix2validator.validate_instance`.

Both check the same 10,000 typical indicator objects (distinct URL and SHA-256 patterns, name,
description, labels, markings, author, an external reference). Prints objects/s (wall clock and
process CPU time, which is steadier on a busy machine), the verdicts, and the machine.

    python benchmarks/validation.py [--objects 10000] [--validator-sample 500]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stix2validator import validate_instance

from bayanihan.model.validation import VALIDATOR_OPTIONS, validate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine

AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
AUTHOR = "identity--0c5b4a4e-6a9d-4a33-9b1e-4e1f1f3c8a11"


def indicators(count: int) -> list[dict[str, Any]]:
    out = []
    for n in range(count):
        if n % 2:
            digest = hashlib.sha256(str(n).encode()).hexdigest()
            pattern = f"[file:hashes.'SHA-256' = '{digest}']"
        else:
            pattern = f"[url:value = 'http://x{n}.example/a/{n}']"
        out.append({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-11-20T08:15:00.000Z", "modified": "2026-11-20T08:15:00.000Z",
            "name": f"Phishing landing page {n}",
            "description": "Credential-harvesting page sent by SMS in Thai and English.",
            "labels": ["phishing", "smishing"], "indicator_types": ["malicious-activity"],
            "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-11-20T08:15:00Z",
            "object_marking_refs": [AMBER], "created_by_ref": AUTHOR,
            "external_references": [{"source_name": "th-cert",
                                     "url": f"https://cert.example/r/{n}"}],
        })  # fmt: skip
    return out


def rate(check: Callable[[dict[str, Any]], Any], objects: list[dict[str, Any]]) -> tuple[float, float]:
    """(objects/s by wall clock, objects/s by process CPU time)."""
    wall, cpu = time.perf_counter(), time.process_time()
    for obj in objects:
        check(obj)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(objects) / wall, len(objects) / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument(
        "--validator-sample",
        type=int,
        default=500,
        help="objects given to stix2-validator (it is slow; same objects)",
    )
    args = parser.parse_args()
    objects = indicators(args.objects)
    sample = objects[: args.validator_sample]

    ours = rate(validate, objects)
    theirs = rate(lambda o: validate_instance(o, VALIDATOR_OPTIONS), sample)
    rejected = sum(bool(validate(o)) for o in objects)
    disagree = sum(bool(validate(o)) != (not validate_instance(o, VALIDATOR_OPTIONS).is_valid)
                   for o in sample)  # fmt: skip

    print(f"machine: {machine()}")
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}")
    print(f"objects: {len(objects)} indicators, distinct patterns; validator sample {len(sample)}")
    print(f"{'':38}{'objects/s (wall)':>18}{'objects/s (CPU)':>18}{'µs/object (CPU)':>18}")
    for label, (wall, cpu) in (("bayanihan validate", ours),
                               ("stix2validator.validate_instance", theirs)):  # fmt: skip
        print(f"{label:38}{wall:>18,.0f}{cpu:>18,.0f}{1e6 / cpu:>18.1f}")
    print(f"speed-up (CPU): {ours[1] / theirs[1]:,.0f}x")
    print(f"rejected by validate: {rejected} of {len(objects)}")
    print(f"verdict disagreements with stix2-validator on the sample: {disagree}")


if __name__ == "__main__":
    main()
