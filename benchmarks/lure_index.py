"""Lure index at scale: insert rate, query p50/p99 and peak RSS for N lures (default 1M).

    python benchmarks/lure_index.py [--count 1000000] [--queries 1000] [--database URL]
                                    [--existing] [--key-cap K]

Lures are synthesised from the real scam SMS in ../shared/data/sms: 70 % AI-style variants
of a random original (benchmarks/lure_variants.py), 30 % random fillers (8-40 words drawn
from the same messages). Text generation is not timed; inserts are timed per committed
batch of ``--batch`` lures through ``LureIndex.add_many``. Queries are fresh variants (each
has hundreds of siblings in the index: the heavy case) and fresh fillers, on a new
connection after the load. MinHash only: embeddings are measured by lure_quality.py.
The default database is a SQLite file (WAL, the hub's pragmas) in a temporary directory;
``--existing --database URL --key-cap K`` re-queries a kept database with another per-key cap.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from random import Random

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import machine
from lure_variants import LANGUAGES, VARIANTS, load_scams

from bayanihan.correlate.lures import KEY_CAP, LureIndex
from bayanihan.correlate.tables_lures import lure, lure_band
from bayanihan.store.schema import metadata


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_engine(url: str, *, fresh: bool) -> Engine:
    """Engine with the hub's SQLite pragmas; ``fresh`` recreates the lure tables."""
    engine = create_engine(url)
    if make_url(url).get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536",
                           "temp_store=MEMORY"):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

    if fresh:
        metadata.drop_all(engine, tables=[lure_band, lure])
        metadata.create_all(engine, tables=[lure, lure_band])
    return engine


class Synth:
    """Endless lure texts: variants of real scams and fillers from their words."""

    def __init__(self, seed: int) -> None:
        data = load_scams()
        self.rng = Random(seed)
        self.originals = [(lang, text) for lang in LANGUAGES for text in data[lang]]
        self.words = [w for _, text in self.originals for w in text.split()]
        self.makers = list(VARIANTS.values())

    def variant(self) -> tuple[str, str]:
        lang, text = self.rng.choice(self.originals)
        return self.rng.choice(self.makers)(text, lang, self.rng), lang

    def filler(self) -> tuple[str, str]:
        n = self.rng.randint(8, 40)
        return " ".join(self.rng.choice(self.words) for _ in range(n)), "und"

    def lures(self, count: int, start: int) -> Iterator[tuple[str, str, str]]:
        for i in range(start, start + count):
            text, lang = self.variant() if self.rng.random() < 0.7 else self.filler()
            yield f"lure-{i}", text, lang


def measure(engine: Engine, index: LureIndex, synth: Synth, count: int) -> None:
    """Query p50/p99 (wall clock and this process's CPU) for fresh variants and fillers."""
    queries = [("variant", *synth.variant()) for _ in range(count // 2)]
    queries += [("filler", *synth.filler()) for _ in range(count - len(queries))]
    synth.rng.shuffle(queries)
    wall: dict[str, list[float]] = {"variant": [], "filler": []}
    cpu: list[float] = []
    found: dict[str, list[int]] = {"variant": [], "filler": []}
    with engine.connect() as conn:
        lures = conn.execute(select(func.count()).select_from(lure)).scalar_one()
        for kind, text, lang in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            matches = index.similar(conn, text, lang)
            wall[kind].append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            found[kind].append(len(matches))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"queries at {lures} lures ({time.strftime('%H:%M UTC', time.gmtime())}, load average "
          f"{load}; key cap {index.key_cap}):")
    for kind, ms in (*wall.items(), ("all", wall["variant"] + wall["filler"])):
        q = statistics.quantiles(ms, n=100)
        extra = ""
        if kind in found:
            extra = (f", {sum(f > 0 for f in found[kind]) / len(ms):.2f} with matches, "
                     f"mean {statistics.mean(found[kind]):.1f} matches (limit 10)")
        print(f"  {kind}: n={len(ms)} wall p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms{extra}")
    q = statistics.quantiles(cpu, n=100)
    print(f"  all, CPU time of this process: p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--database", help="SQLAlchemy URL (default: SQLite file in a temp dir)")
    ap.add_argument("--existing", action="store_true",
                    help="only query the index already in --database (no inserts)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--key-cap", type=int, default=KEY_CAP,
                    help=f"lure ids a query reads per band key (default {KEY_CAP})")
    ap.add_argument("--checkpoints", default="100000,300000",
                    help="also measure queries after this many lures (comma-separated)")
    args = ap.parse_args()
    print(f"# Lure index benchmark\n{machine()}\n"
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
          f"command: python {' '.join(sys.argv)}")
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        url = args.database or f"sqlite:///{tmp}/lures.db"
        if args.existing:
            index = LureIndex(key_cap=args.key_cap)
            measure(open_engine(url, fresh=False), index, Synth(args.seed), args.queries)
            print(f"peak RSS of this process {peak_rss_mb():.0f} MB")
            return
        engine = open_engine(url, fresh=True)
        print(f"database: {make_url(url).render_as_string(hide_password=True)}")
        synth = Synth(args.seed)
        index = LureIndex(key_cap=args.key_cap)
        checkpoints = {int(c) for c in args.checkpoints.split(",") if c}
        insert_s = 0.0
        done = 0
        t_report = time.monotonic()
        while done < args.count:
            n = min(args.batch, args.count - done)
            batch = list(synth.lures(n, done))
            t0 = time.perf_counter()
            with engine.begin() as conn:
                index.add_many(conn, batch)
            insert_s += time.perf_counter() - t0
            done += n
            if done in checkpoints:
                measure(engine, index, synth, max(args.queries // 5, 100))
            if time.monotonic() - t_report > 60:
                print(f"  {done} lures, {done / insert_s:.0f}/s, peak RSS {peak_rss_mb():.0f} MB",
                      flush=True)
                t_report = time.monotonic()
        print(f"inserted {done} lures in {insert_s:.0f} s: {done / insert_s:.0f} lures/s "
              f"(normalise + MinHash + bands + insert, committed per batch of {args.batch}; "
              f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())})")
        engine.dispose()
        measure(open_engine(url, fresh=False), index, synth, args.queries)
        size = ""
        if make_url(url).get_backend_name() == "sqlite":
            db = Path(make_url(url).database or "")
            on_disk = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
            size = f", database file {on_disk / 2**30:.2f} GiB"
        print(f"peak RSS of this process {peak_rss_mb():.0f} MB{size}")
        engine.dispose()


if __name__ == "__main__":
    main()
