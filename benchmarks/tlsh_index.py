"""Benchmark: the TLSH variant index at 100k and 1M digests, against a brute-force scan.

Stored: mutated families (real TLSH of generated harmless blobs) plus unrelated random valid
digests up to each size. Queries: held-out family members (never stored), so their true
neighbours are the stored members of their family. Truth comes from a numpy brute-force scan of
every stored digest (cross-checked against ``tlsh.diff``) in the same run; a plain Python
``tlsh.diff`` loop is timed on a few queries for scale.

    python benchmarks/tlsh_index.py --backend sqlite
    python benchmarks/tlsh_index.py --backend postgresql \
        --pg-url postgresql+psycopg://bayanihan:bayanihan@127.0.0.1:5432/variants_dev
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa
import tlsh
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from bayanihan.correlate.variant_samples import family_digests, random_digest
from bayanihan.correlate.variants import VariantIndex

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, percentile

PG_URL = os.environ.get(
    "BAYANIHAN_TEST_PG_URL", "postgresql+psycopg://bayanihan:bayanihan@127.0.0.1:5432/variants_dev"
)
MIGRATION = importlib.import_module("bayanihan.store.migrations.versions.variants_0001_tlsh_index")


def _code_table() -> np.ndarray:
    """Body distance between two body bytes (four 2-bit codes; a step of 3 costs 6)."""
    table = np.zeros((256, 256), dtype=np.uint16)
    for a in range(256):
        for b in range(256):
            cost = 0
            for k in range(4):
                d = abs(((a >> 2 * k) & 3) - ((b >> 2 * k) & 3))
                cost += 6 if d == 3 else d
            table[a, b] = cost
    return table


class BruteForce:
    """Exact TLSH distance from one digest to every stored one, vectorised with numpy."""

    def __init__(self, capacity: int) -> None:
        self.body = np.zeros((32, capacity), dtype=np.uint8)
        self.head = np.zeros((3, capacity), dtype=np.int16)  # checksum, lvalue, q byte
        self.size = 0
        self.table = _code_table()

    @staticmethod
    def _split(digest: str) -> tuple[bytes, tuple[int, int, int]]:
        raw = bytes.fromhex(digest[2:])
        swap = [((b & 15) << 4) | (b >> 4) for b in raw[:3]]
        return raw[3:], (swap[0], swap[1], swap[2])

    def add(self, digests: list[str]) -> None:
        for digest in digests:
            body, head = self._split(digest)
            self.body[:, self.size] = np.frombuffer(body, dtype=np.uint8)
            self.head[:, self.size] = head
            self.size += 1

    def distances(self, digest: str) -> np.ndarray:
        body, (chk, lv, q) = self._split(digest)
        n = self.size
        total = np.zeros(n, dtype=np.int32)
        for j, byte in enumerate(body):
            total += self.table[byte][self.body[j, :n]]
        ld = np.abs(self.head[1, :n] - lv)
        ld = np.minimum(ld, 256 - ld)
        total += np.where(ld <= 1, ld, ld * 12)
        for shift in (0, 4):
            qd = np.abs(((self.head[2, :n] >> shift) & 15) - ((q >> shift) & 15))
            qd = np.minimum(qd, 16 - qd)
            total += np.where(qd <= 1, qd, (qd - 1) * 12)
        total += self.head[0, :n] != chk
        return total


def make_engine(args: argparse.Namespace) -> tuple[sa.Engine, str, str]:
    if args.backend == "sqlite":
        path = Path(args.sqlite_path or tempfile.mkdtemp(prefix="tlsh-bench-")) / "variants.db"
        path.unlink(missing_ok=True)
        engine = sa.create_engine(f"sqlite:///{path}")

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi, _record):  # type: ignore[no-untyped-def]
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-262144"):
                dbapi.execute(f"PRAGMA {pragma}")

        import sqlite3

        return engine, f"SQLite {sqlite3.sqlite_version} (WAL, 256 MiB cache) {path}", str(path)
    schema = "tlsh_bench"
    admin = sa.create_engine(args.pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        version = conn.execute(sa.text("SHOW server_version")).scalar()
    admin.dispose()
    engine = sa.create_engine(args.pg_url, connect_args={"options": f"-csearch_path={schema}"})
    return engine, f"PostgreSQL {version} (schema {schema})", schema


def db_size(engine: sa.Engine, where: str) -> float:
    """MiB used by the variant tables and their indexes."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
            return Path(where).stat().st_size / 2**20
        return conn.execute(sa.text(
            "SELECT (pg_total_relation_size('variant_digest') "
            "+ pg_total_relation_size('variant_object')) / 1048576.0"
        )).scalar_one()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--sqlite-path", default=None, help="folder for the SQLite file")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--families", type=int, default=400)
    ap.add_argument("--members", type=int, default=8, help="per family, one held out as the query")
    ap.add_argument("--radius", type=int, default=50)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=20261127)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    engine, backend, where = make_engine(args)
    print(f"# TLSH variant index benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} (other jobs share it)")
    print(f"backend: {backend}")
    print(f"command: {' '.join(sys.argv)}")
    with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        MIGRATION.upgrade()

    t0 = time.perf_counter()
    queries: list[str] = []
    stored: list[str] = []
    stress: list[str] = []
    for _ in range(args.families):
        members = family_digests(rng, args.members)
        queries.append(members[0])
        stored.extend(members[1:])
        stress.append(nudge_codes(rng, members[1], rng.randint(20, 45)))
    print(f"families: {args.families} x {args.members} members (real TLSH of mutated blobs), "
          f"{len(queries)} held-out queries, made in {time.perf_counter() - t0:.1f} s")

    index = VariantIndex()
    brute = BruteForce(max(args.sizes) + len(stored))
    for size in sorted(args.sizes):
        # Fill to `size` digests: family members first, then unrelated random digests.
        insert_s, inserted = 0.0, 0
        while brute.size < size:
            if stored:
                batch, stored = stored[: args.batch], stored[args.batch :]
            else:
                batch = [random_digest(rng) for _ in range(min(args.batch, size - brute.size))]
            items = [(f"file--{brute.size + i}", d) for i, d in enumerate(batch)]
            start = time.perf_counter()
            with engine.begin() as conn:
                index.add_many(conn, items)
            insert_s += time.perf_counter() - start
            inserted += len(batch)
            brute.add(batch)
        print(f"\n## {size:,} digests")
        print(f"insert: {inserted:,} digests in {insert_s:.1f} s = {inserted / insert_s:,.0f}/s "
              f"(add_many, batches of {args.batch:,}, one transaction each)")
        print(f"database size (variant tables + indexes): {db_size(engine, where):,.0f} MiB")
        print("### queries: held-out members of mutated blob families (real TLSH)")
        report(engine, index, brute, queries, args.radius, size)
        print("### stress: a stored member with 20-45 body codes moved by one step (header kept)")
        report(engine, index, brute, stress, args.radius, size)


def nudge_codes(rng: random.Random, digest: str, count: int) -> str:
    """The digest with ``count`` body codes moved up or down one step: distance ``count``."""
    raw = bytearray(bytes.fromhex(digest[2:]))
    for pos in rng.sample(range(128), count):
        byte, shift = 3 + pos // 4, 2 * (pos % 4)
        code = (raw[byte] >> shift) & 3
        new = code + 1 if code == 0 else code - 1 if code == 3 else code + rng.choice((-1, 1))
        raw[byte] = (raw[byte] & ~(3 << shift) & 0xFF) | (new << shift)
    return "T1" + raw.hex().upper()


def report(
    engine: sa.Engine, index: VariantIndex, brute: BruteForce, queries: list[str], radius: int,
    size: int,
) -> None:
    """Recall against the brute-force truth and query latency for one query set."""
    refs_of = np.arange(brute.size)
    # Brute force truth; spot-check its distances against tlsh.diff.
    start = time.perf_counter()
    truth = []
    for q in queries:
        dist = brute.distances(q)
        truth.append({f"file--{i}": int(dist[i]) for i in refs_of[dist <= 100]})
    brute_s = (time.perf_counter() - start) / len(queries)
    for q, near in zip(queries[:20], truth[:20], strict=True):
        for ref, d in near.items():
            assert d == tlsh.diff(q, index_digest(engine, ref)), "brute force disagrees"
    with engine.connect() as conn:
        all_digests = [d for (d,) in conn.execute(sa.text(
            "SELECT digest FROM variant_digest LIMIT 200000"))]
    texts = ["T1" + bytes(d).hex().upper() for d in all_digests]
    start = time.perf_counter()
    for q in queries[:3]:
        [tlsh.diff(q, t) for t in texts]
    loop_s = (time.perf_counter() - start) / 3 * (size / len(texts))
    scanned = len(texts)
    del texts, all_digests
    gc.collect()  # keep the scan's garbage out of the timed queries

    with engine.connect() as conn:
        for q in queries[:20]:  # warm-up
            index.near(conn, q, radius)
        times, found, expected = [], {30: 0, 50: 0, 70: 0}, {30: 0, 50: 0, 70: 0}
        for q, near in zip(queries, truth, strict=True):
            start = time.perf_counter()
            got = index.near(conn, q, 70 if radius < 70 else radius)
            times.append(time.perf_counter() - start)
            got_refs = {m.object_ref for m in got}
            for r in (30, 50, 70):
                want = {ref for ref, d in near.items() if d <= r}
                expected[r] += len(want)
                found[r] += len(want & got_refs)
        times_50, cpu_50 = [], []
        for q in queries:
            start, cpu = time.perf_counter(), time.thread_time()
            index.near(conn, q, radius)
            times_50.append(time.perf_counter() - start)
            cpu_50.append(time.thread_time() - cpu)

    def p(values: list[float], q: float) -> float:
        return percentile(values, q * 100) * 1e3

    print(f"query near(d, {radius}): p50 {p(times_50, .5):.2f} ms, p99 {p(times_50, .99):.2f} ms, "
          f"mean {statistics.mean(times_50) * 1e3:.2f} ms over {len(queries)} queries")
    print(f"  client CPU time per query (no waits, no server work): p50 {p(cpu_50, .5):.2f} ms, "
          f"p99 {p(cpu_50, .99):.2f} ms; load average now {os.getloadavg()[0]:.1f}")
    if engine.dialect.name == "postgresql":
        server = server_times(engine, queries[:100], radius)
        print(f"  PostgreSQL server time (EXPLAIN ANALYZE, planning + execution): "
              f"p50 {percentile(server, 50):.2f} ms, p99 {percentile(server, 99):.2f} ms")
    print(f"query near(d, 70): p50 {p(times, .5):.2f} ms, p99 {p(times, .99):.2f} ms")
    for r in (30, 50, 70):
        rec = found[r] / expected[r] if expected[r] else float("nan")
        print(f"recall within {r}: {found[r]}/{expected[r]} = {rec:.4f}")
    print(f"brute force (numpy scan, all {size:,}): {brute_s * 1e3:.0f} ms/query; "
          f"plain Python tlsh.diff loop: {loop_s:.2f} s/query (timed over {scanned:,})")


def server_times(engine: sa.Engine, queries: list[str], radius: int) -> list[float]:
    """Planning + execution time PostgreSQL reports for the index's query (ms)."""
    from sqlalchemy.dialects import postgresql

    from bayanihan.correlate.tlsh_bands import lvalue_window, parse_digest
    from bayanihan.correlate.variants import _NEAR

    sql = "EXPLAIN (ANALYZE) " + str(_NEAR.compile(dialect=postgresql.dialect()))
    out = []
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for q in queries:
            parsed, width = parse_digest(q), lvalue_window(radius)
            params = {f"k{i:02d}": k for i, k in enumerate(parsed.keys)}
            params.update(lo=parsed.lvalue - width, hi=parsed.lvalue + width)
            cursor.execute(sql, params)
            lines = [row[0] for row in cursor.fetchall()]
            out.append(sum(float(line.split(":")[1].split()[0]) for line in lines
                           if line.startswith(("Planning Time", "Execution Time"))))
    return out


def index_digest(engine: sa.Engine, ref: str) -> str:
    with engine.connect() as conn:
        raw = conn.execute(sa.text(
            "SELECT d.digest FROM variant_digest d JOIN variant_object o ON o.digest_id = d.id "
            "WHERE o.object_ref = :r"), {"r": ref}).scalar_one()
    return "T1" + bytes(raw).hex().upper()


if __name__ == "__main__":
    main()
