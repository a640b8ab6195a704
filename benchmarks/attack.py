"""MITRE ATT&CK Enterprise (24,771 objects, STIX 2.0, ~2,600 x-mitre-* custom objects)
ingested whole by ``bayanihan ingest``, on SQLite and PostgreSQL; the same file through the
OASIS validator alone, for scale; and validation per object, custom types against standard.

    python benchmarks/attack.py [--file ../shared/data/attack/enterprise-attack-stix20.json.gz]
                                [--validator-sample 0]   # 0: every object (slow)
                                [--objects N]            # the first N objects only (a smaller run)
                                [--sqlite-only]

Each backend gets a fresh database. Two figures per backend: the command as an operator runs
it (wall clock, interpreter start and imports included, and its CPU time with its validation
worker's, from wait4) and the ingest itself (upgrade, validate, store: ``ingest_release``
in-process on its own fresh database, the file read first; CPU time of this process and of
the validation worker, which is started only when a core is idle, see ingest/ahead.py). The
1-minute load average is printed beside each figure: this machine is shared.
PostgreSQL needs BAYANIHAN_BENCH_PG_URL or BAYANIHAN_TEST_PG_URL.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, postgres_url

DEFAULT_FILE = (Path(__file__).resolve().parents[2] / "shared" / "data" / "attack"
                / "enterprise-attack-stix20.json.gz")


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the process and of the children it waited for, output); exits on a
    failure."""
    cpu_before = cpu_of_children()
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[2:])} failed:\n{done.stdout}\n{done.stderr}")
    return took, cpu_of_children() - cpu_before, done.stdout


def startup(workdir: Path) -> tuple[float, float]:
    """(wall s, CPU s) of ``bayanihan --help``: interpreter start and the command's imports."""
    took, cpu, _ = run_timed([sys.executable, "-m", "bayanihan", "--help"], dict(os.environ),
                             workdir)
    return took, cpu


def command(file: Path, database: str, workdir: Path) -> tuple[float, float, str]:
    """(wall s, CPU s with the worker's, summary line) of ``bayanihan ingest FILE``."""
    env = {**os.environ, "BAYANIHAN_DATA_DIR": str(workdir)}
    took, cpu, text = run_timed(
        [sys.executable, "-m", "bayanihan", "ingest", str(file), "--database", database], env,
        workdir)
    return took, cpu, text.strip().splitlines()[-1]


def in_process(file: Path, database: str, workdir: Path, limit: int,
               ) -> tuple[float, float, float, float, str, int]:
    """(s to read the file, s to ingest it, CPU s here, CPU s of the worker, summary,
    objects the worker validated) with a fresh hub."""
    from bayanihan.config import load_settings
    from bayanihan.hub import Hub
    from bayanihan.ingest.bundles import Submitter
    from bayanihan.ingest.releases import ingest_release, read_release
    from bayanihan.model.validation import load_schemas
    from bayanihan.store import organisations as orgs

    hub = Hub(load_settings(None, database_url=database, data_dir=str(workdir)))
    hub.open()
    try:
        org = hub.db.read_sync(orgs.require, orgs.HUB_CODE)
        submitter = Submitter(org.code, org.identity_id, org.kind)
        load_schemas()  # compiled once, as in a running hub
        started = time.perf_counter()
        objects = read_release(file)[:limit or None]
        read = time.perf_counter() - started
        gc.freeze()  # as `bayanihan ingest` does
        worker_before, cpu_before = cpu_of_children(), time.process_time()
        started = time.perf_counter()
        summary = ingest_release(hub, objects, submitter)
        took = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        gc.unfreeze()
        return (read, took, cpu, cpu_of_children() - worker_before, summary.lines()[0],
                summary.offloaded)
    finally:
        hub.close()


def validation_by_kind(file: Path, limit: int) -> dict[str, tuple[int, float]]:
    """CPU µs per object of the hub's validation (after the 2.0 upgrade), custom vs standard,
    in one pass as an ingest makes it."""
    from bayanihan.ingest.releases import read_release
    from bayanihan.model.stix20 import is_stix20, upgrade
    from bayanihan.model.validation import load_schemas, validate

    objects = [upgrade(o) if is_stix20(o) else o for o in read_release(file)[:limit or None]]
    load_schemas()
    gc.freeze()
    spent: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for obj in objects:
        kind = "custom (x-*)" if obj["type"].startswith("x-") else (
            "relationship" if obj["type"] == "relationship" else "other standard")
        started = time.process_time()
        problems = validate(obj)
        spent[kind] += time.process_time() - started
        counts[kind] += 1
        assert not problems, (obj["id"], problems)
    gc.unfreeze()
    return {k: (counts[k], spent[k] / counts[k] * 1e6) for k in counts}


def oasis_validator(file: Path, sample: int) -> tuple[int, float, float]:
    """(objects, objects/s wall, objects/s CPU) of stix2-validator alone on the upgraded
    objects (``sample`` of them spread over the file; 0: all)."""
    from stix2validator import validate_instance

    from bayanihan.ingest.releases import read_release
    from bayanihan.model.stix20 import is_stix20, upgrade
    from bayanihan.model.validation import VALIDATOR_OPTIONS

    objects = [upgrade(o) if is_stix20(o) else o for o in read_release(file)]
    if sample:
        objects = objects[:: max(1, len(objects) // sample)][:sample]
    validate_instance(objects[0], VALIDATOR_OPTIONS)
    started, cpu = time.perf_counter(), time.process_time()
    for obj in objects:
        validate_instance(obj, VALIDATOR_OPTIONS)
    return (len(objects), len(objects) / (time.perf_counter() - started),
            len(objects) / (time.process_time() - cpu))


def small_file(file: Path, limit: int, workdir: Path) -> Path:
    """The first ``limit`` objects of ``file`` as a bundle of their own (for a smaller run)."""
    from bayanihan.ingest.releases import read_release

    path = workdir / f"first-{limit}.json"
    path.write_bytes(orjson.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-"
                                   "000000000000", "objects": read_release(file)[:limit]}))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--validator-sample", type=int, default=0,
                        help="objects for the OASIS validator run (0: all)")
    parser.add_argument("--objects", type=int, default=0,
                        help="only the first N objects of the file (0: all)")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    if not args.file.is_file():
        raise SystemExit(f"{args.file} is missing (see ../shared/data/README.md)")
    print(f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    print(f"# {load()} at start; file: {args.file.name}"
          + (f", first {args.objects:,} objects" if args.objects else ""))
    backends: list[tuple[str, str | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        file = small_file(args.file, args.objects, work) if args.objects else args.file
        wall, cpu = startup(work)
        print(f"`bayanihan --help`: {wall:.2f} s wall, {cpu:.2f} s CPU ({load()})")
        backends.append(("SQLite", f"sqlite:///{work / 'cmd.db'}"))
        if not args.sqlite_only:
            backends.append(("PostgreSQL", postgres_url("bayanihan_bench_attack_cmd")))
        for name, url in backends:
            if url is None:
                print(f"{name}: skipped (set BAYANIHAN_TEST_PG_URL)")
                continue
            took, cpu, line = command(file, url, work)
            count = int(line.split(":")[1].split()[0])
            print(f"{name}: `bayanihan ingest` {count:,} objects in {took:.2f} s = "
                  f"{count / took:,.0f} objects/s (wall, start-up included); CPU {cpu:.2f} s "
                  f"with its worker ({load()}) -- {line}")
            inner = (f"sqlite:///{work / 'in.db'}" if name == "SQLite"
                     else postgres_url("bayanihan_bench_attack_in"))
            assert inner is not None
            read, ingest, here, worker, line, offloaded = in_process(args.file, inner, work,
                                                                     args.objects)
            print(f"{name}: ingest_release {count:,} objects in {ingest:.2f} s = "
                  f"{count / ingest:,.0f} objects/s; CPU {here:.2f} s here + {worker:.2f} s "
                  f"worker ({offloaded:,} objects validated there) ({load()}); file read and "
                  f"parsed before in {read:.2f} s")
    for kind, (count, us) in sorted(validation_by_kind(args.file, args.objects).items()):
        print(f"validation, {kind}: {count:,} objects, {us:.1f} µs/object (CPU)")
    count, rate, cpu_rate = oasis_validator(args.file, args.validator_sample)
    print(f"stix2-validator alone: {count:,} objects at {rate:,.1f} objects/s wall, "
          f"{cpu_rate:,.1f} objects/s CPU ({load()})")


if __name__ == "__main__":
    main()
