"""Ingest rate: bundles of 1,000 indicators over HTTP on loopback, validation on.

Measures objects/s into SQLite and into PostgreSQL (when BAYANIHAN_TEST_PG_URL or
BAYANIHAN_BENCH_PG_URL is set), and in the same run the raw limit of this machine:
the same bundles parsed with orjson and ``executemany``-ed into SQLite with no
validation; also stix2-validator alone on a sample, for scale.

    python benchmarks/ingest.py [--objects 100000] [--bundle 1000] [--clients 2]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

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


def hub_rate(database_url: str, bundles: list[bytes], clients: int, workdir: Path) -> float:
    cli("org", "seed-asean", "--database", database_url)
    key = cli("key", "create", "--org", "TH", "--database", database_url).strip().splitlines()[-1]
    with hub_process(database_url, workdir) as url:
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
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()
    print(f"# ingest benchmark, {datetime.date.today()}")
    print(f"machine: {machine()}")
    bundles = make_bundles(args.objects + args.bundle, args.bundle)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results["raw limit (orjson + executemany into SQLite, no validation)"] = raw_limit(
            bundles[1:], work / "raw.db")
        results["Bayanihan, SQLite, validation on"] = hub_rate(
            f"sqlite:///{work / 'hub.db'}", bundles, args.clients, work)
        pg = postgres_url("bayanihan_bench_ingest")
        if pg:
            results["Bayanihan, PostgreSQL, validation on"] = hub_rate(pg, bundles, args.clients, work)
        else:
            print("PostgreSQL: skipped (set BAYANIHAN_TEST_PG_URL)")
    results["stix2-validator alone (same objects)"] = validator_rate(bundles)
    print(f"{args.objects:,} indicator objects in bundles of {args.bundle:,}, "
          f"{args.clients} concurrent HTTP clients\n")
    print("| what | objects/s |\n|---|---|")
    for what, rate in results.items():
        print(f"| {what} | {rate:,.0f} |")
    raw = results["raw limit (orjson + executemany into SQLite, no validation)"]
    hub = results["Bayanihan, SQLite, validation on"]
    print(f"\nBayanihan on SQLite reaches {hub / raw:.0%} of the raw limit.")


if __name__ == "__main__":
    main()
