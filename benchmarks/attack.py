"""MITRE ATT&CK Enterprise (24,771 objects, STIX 2.0, ~2,600 x-mitre-* custom objects)
ingested whole by ``bayanihan ingest``, on SQLite and PostgreSQL; the same file through the
OASIS validator alone, for scale; and validation per object, custom types against standard.

    python benchmarks/attack.py [--file ../shared/data/attack/enterprise-attack-stix20.json.gz]
                                [--validator-sample 0]   # 0: every object (slow)

Each backend gets a fresh database. Two figures per backend: the command as an operator runs
it (wall clock, interpreter start and imports included) and the ingest itself (read, parse,
upgrade, validate, store: ``ingest_release`` in-process, its own fresh database).
PostgreSQL needs BAYANIHAN_BENCH_PG_URL or BAYANIHAN_TEST_PG_URL.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, postgres_url

DEFAULT_FILE = (Path(__file__).resolve().parents[2] / "shared" / "data" / "attack"
                / "enterprise-attack-stix20.json.gz")


def command(file: Path, database: str, workdir: Path) -> tuple[float, str]:
    env = {**os.environ, "BAYANIHAN_DATA_DIR": str(workdir)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bayanihan", "ingest", str(file),
                           "--database", database], capture_output=True, text=True, env=env,
                          cwd=workdir)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bayanihan ingest failed:\n{done.stdout}\n{done.stderr}")
    return took, done.stdout.strip().splitlines()[-1]


def in_process(file: Path, database: str, workdir: Path) -> tuple[float, float, str]:
    """(seconds to read the file, seconds to ingest it, summary) with a fresh hub."""
    from bayanihan.config import load_settings
    from bayanihan.hub import Hub
    from bayanihan.ingest.bundles import Submitter
    from bayanihan.ingest.releases import ingest_release, read_release
    from bayanihan.model.validation import validate
    from bayanihan.store import organisations as orgs

    hub = Hub(load_settings(None, database_url=database, data_dir=str(workdir)))
    hub.open()
    try:
        org = hub.db.read_sync(orgs.require, orgs.HUB_CODE)
        submitter = Submitter(org.code, org.identity_id, org.kind)
        validate({"type": "identity", "spec_version": "2.1",
                  "id": "identity--00000000-0000-4000-8000-000000000000",
                  "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
                  "name": "warm-up"})  # schemas compiled once, as in a running hub
        started = time.perf_counter()
        objects = read_release(file)
        read = time.perf_counter() - started
        gc.freeze()  # as `bayanihan ingest` does
        started = time.perf_counter()
        summary = ingest_release(hub, objects, submitter)
        took = time.perf_counter() - started
        gc.unfreeze()
        return read, took, summary.lines()[0]
    finally:
        hub.close()


def validation_by_kind(file: Path) -> dict[str, tuple[int, float]]:
    """µs per object of the hub's validation (after the 2.0 upgrade), custom vs standard."""
    from bayanihan.ingest.releases import read_release
    from bayanihan.model.stix20 import is_stix20, upgrade
    from bayanihan.model.validation import validate

    objects = [upgrade(o) if is_stix20(o) else o for o in read_release(file)]
    validate(objects[0])
    spent: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for obj in objects:
        kind = "custom (x-*)" if obj["type"].startswith("x-") else (
            "relationship" if obj["type"] == "relationship" else "other standard")
        started = time.perf_counter()
        problems = validate(obj)
        spent[kind] += time.perf_counter() - started
        counts[kind] += 1
        assert not problems, (obj["id"], problems)
    return {k: (counts[k], spent[k] / counts[k] * 1e6) for k in counts}


def oasis_validator(file: Path, sample: int) -> tuple[int, float]:
    """(objects, objects/s) of stix2-validator alone on the upgraded objects."""
    from stix2validator import validate_instance

    from bayanihan.ingest.releases import read_release
    from bayanihan.model.stix20 import is_stix20, upgrade
    from bayanihan.model.validation import VALIDATOR_OPTIONS

    objects = [upgrade(o) if is_stix20(o) else o for o in read_release(file)]
    if sample:
        objects = objects[:: max(1, len(objects) // sample)][:sample]
    validate_instance(objects[0], VALIDATOR_OPTIONS)
    started = time.perf_counter()
    for obj in objects:
        validate_instance(obj, VALIDATOR_OPTIONS)
    return len(objects), len(objects) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--validator-sample", type=int, default=0,
                        help="objects for the OASIS validator run (0: all)")
    args = parser.parse_args()
    if not args.file.is_file():
        raise SystemExit(f"{args.file} is missing (see ../shared/data/README.md)")
    print(f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    print(f"# load average at start: {os.getloadavg()[0]:.1f}")
    print(f"# file: {args.file.name}")
    backends: list[tuple[str, str | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        backends.append(("SQLite", f"sqlite:///{work / 'cmd.db'}"))
        backends.append(("PostgreSQL", postgres_url("bayanihan_bench_attack_cmd")))
        for name, url in backends:
            if url is None:
                print(f"{name}: skipped (set BAYANIHAN_TEST_PG_URL)")
                continue
            took, line = command(args.file, url, work)
            count = int(line.split(":")[1].split()[0])
            print(f"{name}: `bayanihan ingest` {count:,} objects in {took:.1f} s = "
                  f"{count / took:,.0f} objects/s (wall, start-up included) -- {line}")
            inner = (f"sqlite:///{work / 'in.db'}" if name == "SQLite"
                     else postgres_url("bayanihan_bench_attack_in"))
            assert inner is not None
            read, ingest, line = in_process(args.file, inner, work)
            print(f"{name}: ingest_release {count:,} objects in {ingest:.1f} s = "
                  f"{count / ingest:,.0f} objects/s (file read and decompressed before, "
                  f"{read:.1f} s; read+ingest {count / (read + ingest):,.0f} objects/s)")
    for kind, (count, us) in sorted(validation_by_kind(args.file).items()):
        print(f"validation, {kind}: {count:,} objects, {us:.0f} µs/object")
    count, rate = oasis_validator(args.file, args.validator_sample)
    print(f"stix2-validator alone: {count:,} objects at {rate:,.0f} objects/s")


if __name__ == "__main__":
    main()
