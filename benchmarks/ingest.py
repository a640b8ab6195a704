"""Ingest rate: bundles of 1,000 indicators over HTTP on loopback, validation on.

Measures objects/s into SQLite and into PostgreSQL (when BAYANIHAN_TEST_PG_URL or
BAYANIHAN_BENCH_PG_URL is set), and in the same run the raw limit of this machine:
the same bundles parsed with orjson and ``executemany``-ed into SQLite with no
validation; also stix2-validator alone on a sample, for scale.

    python benchmarks/ingest.py [--objects 100000] [--bundle 1000] [--clients 1,2] [--workers 1,0]

Each hub run starts a fresh database. SQLite is measured with each ``validation_processes``
setting in ``--workers`` (1, the default: large bundles are validated in a worker process;
0: everything in the server process), for each number of concurrent clients.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cli, hub_process, machine, postgres_url

GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def make_bundles(total: int, size: int) -> list[bytes]:
    bundles = []
    n = 0
    for _ in range(total // size):
        objects = []
        for _ in range(size):
            objects.append({
                "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
                "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
                "name": f"Smishing URL {n}", "indicator_types": ["malicious-activity"],
                "pattern": f"[url:value = 'http://parcel-{n}.thai-post-verify.example/track']",
                "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z",
                "object_marking_refs": [GREEN],
            })
            n += 1
        bundles.append(orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                     "objects": objects}))
    return bundles


def post_all(url: str, key: str, bundles: list[bytes], clients: int) -> float:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def worker(chunk: list[bytes]) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as c:
            for body in chunk:
                r = c.post("/api/v1/objects", content=body)
                if r.status_code != 200:
                    raise RuntimeError(f"{r.status_code}: {r.text[:300]}")

    chunks = [bundles[i::clients] for i in range(clients)]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for f in [pool.submit(worker, c) for c in chunks]:
            f.result()
    return time.perf_counter() - start


def hub_rate(database_url: str, bundles: list[bytes], clients: int, workdir: Path,
             validation_processes: int = 1) -> float:
    cli("org", "seed-asean", "--database", database_url)
    key = cli("key", "create", "--org", "TH", "--database", database_url).strip().splitlines()[-1]
    env = {"BAYANIHAN_VALIDATION_PROCESSES": str(validation_processes)}
    with hub_process(database_url, workdir, extra_env=env) as url:
        post_all(url, key, bundles[:1], 1)  # warm-up: first request, caches
        seconds = post_all(url, key, bundles[1:], clients)
    return (len(bundles) - 1) * len(orjson.loads(bundles[0])["objects"]) / seconds


def raw_limit(bundles: list[bytes], path: Path) -> float:
    """orjson + executemany into SQLite (WAL, same columns), no validation."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE o (pk INTEGER PRIMARY KEY, id TEXT, type TEXT, version TEXT, "
               "date_added INTEGER UNIQUE, tlp TEXT, body TEXT, UNIQUE (id, version))")
    n = 0
    start = time.perf_counter()
    for raw in bundles:
        objects = orjson.loads(raw)["objects"]
        rows = []
        for o in objects:
            n += 1
            rows.append((o["id"], o["type"], o["modified"], n, "green", orjson.dumps(o).decode()))
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO o (id, type, version, date_added, tlp, body) "
                       "VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    return n / seconds


def validator_rate(bundles: list[bytes], sample: int = 300) -> float:
    from stix2validator import ValidationOptions, validate_instance

    objects = orjson.loads(bundles[0])["objects"][:sample]
    options = ValidationOptions(version="2.1")
    start = time.perf_counter()
    for o in objects:
        validate_instance(o, options)
    return len(objects) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--bundle", type=int, default=1000)
    parser.add_argument("--clients", default="1,2", help="comma-separated client counts")
    parser.add_argument("--workers", default="1,0",
                        help="comma-separated validation_processes settings to measure on SQLite")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each configuration (fresh database each); the median is shown")
    args = parser.parse_args()
    client_counts = [int(c) for c in args.clients.split(",")]
    worker_counts = [int(w) for w in args.workers.split(",")]
    print(f"# ingest benchmark, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    bundles = make_bundles(args.objects + args.bundle, args.bundle)
    rows: dict[str, dict[int, list[float]]] = {}
    raw_name = "raw limit (orjson + executemany into SQLite, no validation)"
    sqlite_name = "Bayanihan, SQLite, validation on"
    runs = 0

    def measure(name: str, clients: int, run: Callable[..., float], *args: Any) -> None:
        rows.setdefault(name, {}).setdefault(clients, []).append(run(*args))

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for _ in range(args.repeat):  # rounds, so slow spells of the machine hit every row
            for clients in client_counts:
                runs += 1
                measure(raw_name, clients, raw_limit, bundles[1:], work / f"raw{runs}.db")
                for processes in worker_counts:
                    name = sqlite_name + (
                        "" if processes == 1 else f", validation_processes={processes}")
                    db = f"sqlite:///{work / f'hub-{runs}-{processes}.db'}"
                    measure(name, clients, hub_rate, db, bundles, clients, work, processes)
                pg = postgres_url(f"bayanihan_bench_ingest_{clients}")
                if pg:
                    measure("Bayanihan, PostgreSQL, validation on", clients, hub_rate, pg,
                            bundles, clients, work)
    validator = validator_rate(bundles)
    print(f"{args.objects:,} indicator objects in bundles of {args.bundle:,}; median of "
          f"{args.repeat} runs (lowest-highest); load average at the end: "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| objects/s | " + " | ".join(f"{c} client{'s' * (c > 1)}" for c in client_counts) + " |")
    print("|---|" + "---|" * len(client_counts))
    for name, by_clients in rows.items():
        cells = [f"{statistics.median(v):,.0f} ({min(v):,.0f}-{max(v):,.0f})"
                 for v in (by_clients[c] for c in client_counts)]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"| stix2-validator alone (same objects) | {validator:,.0f} |")
    if "PostgreSQL" not in " ".join(rows):
        print("\nPostgreSQL: skipped (set BAYANIHAN_TEST_PG_URL)")
    for c in client_counts:
        hub, raw = (statistics.median(rows[n][c]) for n in (sqlite_name, raw_name))
        print(f"\n{c} client(s): Bayanihan on SQLite reaches {hub / raw:.0%} of the raw limit.")


if __name__ == "__main__":
    main()
