"""Benchmark: time to warn — from a report's POST returning to each entitled subscriber having it.

The eleven member organisations hold ``--subscribers`` (100) Server-Sent Event streams
between them. Reports (bundles of one indicator, authors rotating over the members, TLP mixed:
60 % GREEN, 20 % AMBER, 10 % AMBER for a named audience, 10 % RED for two named recipients)
are posted at a steady ``--rate`` for ``--reports`` reports. For every (report, subscriber
entitled to it under the access policy) the script records the time from the POST returning
to the subscriber having the whole SSE frame, and counts events missing after a grace period
and events seen by a subscriber not entitled to them (must be 0).

Backends: SQLite with one ``bayanihan serve`` process; PostgreSQL with two processes (posts
alternate between them, subscribers are split between them, so half the deliveries cross
processes through LISTEN/NOTIFY). Subscribers run in their own process (one asyncio loop,
httpx), timestamps are CLOCK_MONOTONIC, shared by every process on the machine.
Loopback only; bounded by ``--reports`` and a per-request timeout.

    python benchmarks/time_to_warn.py                        # sqlite, and postgresql if set
    BAYANIHAN_BENCH_PG_URL=postgresql+psycopg://u:p@127.0.0.1:5432/postgres \\
        python benchmarks/time_to_warn.py --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayanihan.config import Settings  # noqa: E402
from bayanihan.hub import Hub  # noqa: E402
from bayanihan.model.members import MEMBER_STATES, OrgKind  # noqa: E402
from bayanihan.model.tlp import TLP  # noqa: E402
from bayanihan.share.policy import Reader, may_see  # noqa: E402
from bayanihan.store import audit, keys  # noqa: E402
from bayanihan.store import organisations as orgs  # noqa: E402
from benchmarks.common import machine, percentile, postgres_url  # noqa: E402
from tests.realtime.serve import start, stop  # noqa: E402
from tests.stixgen import bundle, indicator  # noqa: E402

MEMBERS = list(MEMBER_STATES)
TIMEOUT = 30.0


def prepare(url: str, workdir: Path, subscribers: int) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Members and keys: an analyst key per member, a reader key per subscriber."""
    hub = Hub(Settings(database_url=url, data_dir=str(workdir)))
    hub.open()
    console = audit.Actor.console()
    hub.db.write_sync(orgs.seed_asean, console)
    analysts = {code: hub.db.write_sync(keys.create, console, code, keys.Role.ANALYST)[0]
                for code in MEMBERS}
    readers = [(MEMBERS[i % len(MEMBERS)],
                hub.db.write_sync(keys.create, console, MEMBERS[i % len(MEMBERS)],
                                  keys.Role.READER)[0]) for i in range(subscribers)]
    hub.close()
    return analysts, readers


def plan(reports: int, seed: int = 7) -> list[tuple[dict[str, Any], str, TLP, list[str] | None]]:
    """(indicator, author, TLP, audience) for each report."""
    rnd = random.Random(seed)
    out = []
    for n in range(reports):
        author = MEMBERS[n % len(MEMBERS)]
        draw = rnd.random()
        others = rnd.sample([m for m in MEMBERS if m != author], 2)
        if draw < 0.6:
            level, audience = TLP.GREEN, None
        elif draw < 0.8:
            level, audience = TLP.AMBER, None
        elif draw < 0.9:
            level, audience = TLP.AMBER, [author, *others]
        else:
            level, audience = TLP.RED, [author, *others]
        out.append((indicator(n, tlp=level, seed=1_000_000 + n), author, level, audience))
    return out


# -- subscribers (own process) ----------------------------------------------------------------
async def _subscribe(base: str, key: str, sid: int, got: dict[tuple[int, str], float],
                     ready: list[int]) -> None:
    """A bare HTTP/1.1 SSE client (asyncio streams): little CPU, so the hub is what we time."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /api/v1/stream HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    try:
        while line := await reader.readline():  # chunk-size lines pass by harmlessly
            if line.startswith(b"data:"):
                got[(sid, orjson.loads(line[5:])["object_id"])] = time.monotonic()
            elif line.startswith(b": ready"):
                ready.append(sid)
    finally:
        writer.close()


async def _subscribers(targets: list[tuple[str, str]], pipe: Connection) -> None:
    got: dict[tuple[int, str], float] = {}
    ready: list[int] = []
    tasks = [asyncio.create_task(_subscribe(base, key, sid, got, ready))
             for sid, (base, key) in enumerate(targets)]
    while len(ready) < len(targets):
        await asyncio.sleep(0.05)
    pipe.send("ready")
    while not pipe.poll():
        await asyncio.sleep(0.1)
    pipe.recv()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send(got)


def subscriber_process(targets: list[tuple[str, str]], pipe: Connection) -> None:
    asyncio.run(_subscribers(targets, pipe))


# -- one run ----------------------------------------------------------------------------------
def run(backend: str, url: str, processes: int, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bayanihan-ttw-{backend}-"))
    analysts, readers = prepare(url, workdir, args.subscribers)
    servers = start(url, workdir, count=processes, env={"BAYANIHAN_LOG_LEVEL": "warning"})
    try:
        bases = [base for _, base in servers]
        targets = [(bases[i % len(bases)], key) for i, (_, key) in enumerate(readers)]
        parent, child = mp.Pipe()
        sub = mp.get_context("fork").Process(target=subscriber_process, args=(targets, child))
        sub.start()
        if not parent.poll(120):
            raise RuntimeError("subscribers did not connect")
        parent.recv()
        reports = plan(args.reports)
        posted: dict[str, float] = {}
        sent: dict[str, float] = {}
        clients = [httpx.Client(base_url=b, timeout=TIMEOUT) for b in bases]
        start_at = time.monotonic() + 0.2
        for n, (obj, author, _level, audience) in enumerate(reports):
            time.sleep(max(0.0, start_at + n / args.rate - time.monotonic()))
            params = {"audience": ",".join(audience)} if audience else {}
            sent[obj["id"]] = time.monotonic()
            r = clients[n % len(clients)].post(
                "/api/v1/objects", content=orjson.dumps(bundle(obj)), params=params,
                headers={"Authorization": f"Bearer {analysts[author]}",
                         "Content-Type": "application/json"})
            posted[obj["id"]] = time.monotonic()
            if r.status_code != 200:
                raise RuntimeError(f"POST failed: {r.status_code} {r.text[:300]}")
        posting_seconds = time.monotonic() - start_at
        time.sleep(args.grace)
        parent.send("stop")
        got: dict[tuple[int, str], float] = parent.recv()
        sub.join(30)
        for c in clients:
            c.close()
    finally:
        for proc, _ in servers:
            stop(proc)
    latencies, from_sent, missing, leaked, early = [], [], 0, 0, 0
    for obj, author, level, audience in reports:
        for sid, (org, _key) in enumerate(readers):
            reader = Reader(org=org, kind=OrgKind.MEMBER)
            entitled = may_see(reader, level.value, author, audience)
            at = got.get((sid, obj["id"]))
            if not entitled:
                leaked += at is not None
            elif at is None:
                missing += 1
            else:
                delta = at - posted[obj["id"]]
                early += delta < 0
                latencies.append(max(0.0, delta) * 1000)
                from_sent.append((at - sent[obj["id"]]) * 1000)
    return {"backend": backend, "processes": processes, "reports": len(reports),
            "rate": len(reports) / posting_seconds, "deliveries": len(latencies),
            "missing": missing, "leaked": leaked, "early": early,
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "max": max(latencies) if latencies else float("nan"),
            "sent_p50": percentile(from_sent, 50), "sent_p99": percentile(from_sent, 99),
            "sent_max": max(from_sent) if from_sent else float("nan")}


def report(r: dict[str, Any]) -> None:
    print(f"{r['backend']:<11}{r['processes']:>6}{r['reports']:>8}{r['rate']:>8.1f}"
          f"{r['deliveries']:>11}{r['missing']:>8}{r['leaked']:>7}{r['p50']:>8.1f}"
          f"{r['p99']:>8.1f}{r['max']:>8.1f}", flush=True)
    print(f"  from the POST being sent (ingest included): p50 {r['sent_p50']:.1f} ms, "
          f"p99 {r['sent_p99']:.1f} ms, max {r['sent_max']:.1f} ms; {r['early']} deliveries "
          "arrived before the POST response did (counted as 0 ms above)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="reports per second")
    parser.add_argument("--grace", type=float, default=3.0,
                        help="seconds to wait for stragglers after the last POST")
    args = parser.parse_args()
    print(f"time to warn — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start")
    print(f"{args.subscribers} SSE subscribers over {len(MEMBERS)} members, {args.reports} reports "
          f"at {args.rate:g}/s (60% GREEN, 20% AMBER, 10% AMBER named, 10% RED named)")
    print(f"{'backend':<11}{'procs':>6}{'reports':>8}{'rate/s':>8}{'deliveries':>11}"
          f"{'missing':>8}{'leaked':>7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}", flush=True)
    if args.backend in ("sqlite", "both"):
        workdir = Path(tempfile.mkdtemp(prefix="bayanihan-ttw-db-"))
        report(run("sqlite", f"sqlite:///{workdir / 'hub.db'}", 1, args))
    if args.backend in ("postgresql", "both"):
        url = postgres_url("bayanihan_bench_ttw")
        if url is None:
            print("postgresql: skipped (set BAYANIHAN_BENCH_PG_URL or BAYANIHAN_TEST_PG_URL)")
        else:
            report(run("postgresql", url, 2, args))
    print(f"goal: p99 < 100 ms, missing 0, leaked 0 — load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
