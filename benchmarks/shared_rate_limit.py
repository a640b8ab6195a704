"""Cost of the shared per-key write limit on PostgreSQL: one upsert of ``write_rate`` per write
request (bayanihan/api/ratelimit.py, SharedLimiter.wait_sync), timed from the caller.

    python benchmarks/shared_rate_limit.py --database postgresql+psycopg://USER:PW@HOST/DB

Migrates the database (it may be empty), then takes a token N times for each of K keys,
one call at a time, and prints wall and CPU time per call (p50, p99, mean).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time

from bayanihan.api.ratelimit import SharedLimiter
from bayanihan.store.database import Database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--keys", type=int, default=50)
    args = parser.parse_args()
    db = Database(args.database)
    db.upgrade()
    limiter = SharedLimiter(db, 1_000_000)  # never refuses: the cost of a passing request
    buckets = [hashlib.sha256(f"key-{k}".encode()).hexdigest() for k in range(args.keys)]
    for b in buckets:  # warm the pool and the rows
        limiter.wait_sync(b)
    walls = []
    cpu0 = time.process_time()
    for n in range(args.calls):
        t0 = time.perf_counter()
        limiter.wait_sync(buckets[n % len(buckets)])
        walls.append(time.perf_counter() - t0)
    cpu = time.process_time() - cpu0
    walls.sort()
    print(f"calls {args.calls}, keys {args.keys}: wall p50 {walls[len(walls) // 2] * 1e3:.3f} ms, "
          f"p99 {walls[int(len(walls) * 0.99)] * 1e3:.3f} ms, "
          f"mean {statistics.fmean(walls) * 1e3:.3f} ms; client CPU {cpu / args.calls * 1e3:.3f} ms "
          "per call")
    db.close()


if __name__ == "__main__":
    main()
