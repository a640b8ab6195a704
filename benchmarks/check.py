"""The check API at scale (issue 15): with N indicators (``benchmarks/exports.py``) and M lures
stored, ``POST /api/v1/check`` calls of 100 mixed items, server time (``Server-Timing``)
p50 and p99 (with each step's and the CPU time the server reports), and the client's view over
loopback HTTP.

    python benchmarks/exports.py --indicators 1000000 --keep    # prints the database URL
    python benchmarks/check.py --database sqlite:///…/hub.db --lures 100000 --calls 200

Each call: 30 domains (half stored), 10 Cyrillic lookalikes of stored domains, 10 URLs (half
stored), 10 IPv4 addresses (half stored), 10 SHA-256 and 10 TLSH digests (unknown), 20 SMS
lures (variants of real scam texts, each with a stored URL).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from random import Random
from typing import Any

import httpx
import tlsh
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import hub_process, machine
from exports import value
from lure_index import Synth

from bayanihan.config import load_settings
from bayanihan.correlate.report_links import lure_index
from bayanihan.correlate.tables_lures import lure
from bayanihan.hub import Hub
from bayanihan.store import audit, keys

ITEMS = 100


def add_lures(hub: Hub, count: int, synth: Synth) -> None:
    have = hub.db.read_sync(lambda c: c.execute(select(func.count()).select_from(lure)).scalar())
    index = lure_index()
    t0 = time.perf_counter()
    for start in range(int(have), count, 5000):
        batch = [(f"report--{uuid.UUID(int=i + 1, version=4)}#0", text, lang)
                 for i, (_, text, lang) in zip(range(start, min(count, start + 5000)),
                                                synth.lures(min(count, start + 5000) - start,
                                                            start), strict=True)]
        hub.db.write_sync(lambda c, b=batch: index.add_many(c, b))
    if count > have:
        print(f"indexed {count - have:,} lures in {time.perf_counter() - t0:.1f} s")


def items(rng: Random, stored: int, synth: Synth) -> list[dict[str, Any]]:
    def known() -> int:
        return rng.randrange(stored)

    def unknown() -> int:
        return stored + rng.randrange(10**7)

    def domain(i: int) -> str:
        while True:
            kind, val = value(i)
            if kind == "domain-name":
                return val
            i += 1

    out: list[dict[str, Any]] = []
    out += [{"type": "domain", "value": domain(known() if n % 2 else unknown())} for n in range(30)]
    out += [{"type": "domain", "value": domain(known()).replace("a", "\u0430", 1)}
            for _ in range(10)]
    out += [{"type": "url", "value": value((known() if n % 2 else unknown()) // 10 * 10 + 9)[1]}
            for n in range(10)]
    out += [{"type": "ip", "value": value((known() if n % 2 else unknown()) // 10 * 10 + 8)[1]}
            for n in range(10)]
    out += [{"type": "hash", "value": hashlib.sha256(rng.randbytes(32)).hexdigest()}
            for _ in range(10)]
    out += [{"type": "tlsh", "value": tlsh.hash(rng.randbytes(4096))} for _ in range(10)]
    out += [{"type": "message", "value": f"{synth.variant()[0]} "
             f"{value(known() // 10 * 10 + 9)[1]}"} for _ in range(20)]
    assert len(out) == ITEMS
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database", required=True, help="a database benchmarks/exports.py filled")
    ap.add_argument("--lures", type=int, default=100_000)
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bayanihan-check-"))
    print(f"machine: {machine()}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; database {args.database}")
    hub = Hub(load_settings(None, database_url=args.database, data_dir=str(work)))
    hub.open()
    stored = hub.db.read_sync(lambda c: c.exec_driver_sql(
        "SELECT count(*) FROM stix_objects WHERE type = 'indicator'").scalar() or 0)
    synth = Synth(15)
    add_lures(hub, args.lures, synth)
    key, _ = hub.db.write_sync(keys.create, audit.Actor.console(), "VN", keys.Role("reader"))
    hub.close()
    print(f"stored: {stored:,} indicators, {args.lures:,} lures")
    rng = Random(15)
    bodies = [{"items": items(rng, stored, synth)} for _ in range(args.calls + 5)]
    server: list[float] = []
    client_ms: list[float] = []
    steps: dict[str, list[float]] = {}
    known = 0
    with hub_process(args.database, work) as base, httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=600) as client:
        for n, body in enumerate(bodies):
            t0 = time.perf_counter()
            r = client.post("/api/v1/check", json=body)
            took = (time.perf_counter() - t0) * 1000
            assert r.status_code == 200, r.text[:300]
            if n < 5:
                continue  # warm-up: the index catch-up, caches
            timing = timings(r.headers["server-timing"])
            server.append(timing.pop("check"))
            for step, ms in timing.items():
                steps.setdefault(step, []).append(ms)
            client_ms.append(took)
            known += sum(x["known"] for x in r.json()["results"])
    for what, ms in (("server time (Server-Timing)", server), ("client, loopback HTTP", client_ms)):
        q = statistics.quantiles(ms, n=100)
        print(f"check, {ITEMS} mixed items a call, {what}, n={len(ms)}: p50 {q[49]:.1f} ms, "
              f"p99 {q[98]:.1f} ms")
    for step, ms in steps.items():
        q = statistics.quantiles(ms, n=100)
        print(f"  {step}: p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms"
              + (" (CPU time of parsing and checking)" if step == "cpu" else ""))
    print(f"items known: {known / len(server):.0f} of {ITEMS} a call (about 40 expected: half "
          "the stored kinds, the lookalikes, the messages' URLs)")


def timings(header: str) -> dict[str, float]:
    """``Server-Timing`` as name -> milliseconds (``check`` is the whole call)."""
    out: dict[str, float] = {}
    for part in header.split(","):
        name, _, ms = part.strip().partition(";dur=")
        out[name] = float(ms)
    return out


if __name__ == "__main__":
    main()
