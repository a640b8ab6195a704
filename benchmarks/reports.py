"""Reports: linked reports/s over HTTP, per-stage profile, report-to-alert latency, and the
cost of one report as its campaign grows.

    python benchmarks/reports.py [--reports 2000] [--clients 1 4] [--window 500] [--profile]
                                 [--chain 600] [--chain-window 100] [--postgres]
                                 [--mix varied|waves]

Three parts, in one run, on SQLite (and PostgreSQL with ``--postgres`` and
BAYANIHAN_BENCH_PG_URL or BAYANIHAN_TEST_PG_URL):

1. **For scale, the old figure**: the store stage alone, in-process (``submit_report``, no
   HTTP, no linking), as the issue's "2.5 reports/s" was measured before the pipeline.
2. **Load over HTTP**: ``bayanihan serve`` in its own process; ``--clients`` threads (each a
   different member's analyst key) post the varied reports of ``tests/reports/reportgen.py``
   through ``POST /api/v1/reports`` (stored, indexed, linked, campaigns and alerts included)
   until ``--reports`` are stored; reports/s per window of ``--window`` reports. With
   ``--profile`` the ``Server-Timing`` of every answer is summed per stage and window.
   Meanwhile a probe posts a cross-border pair every 2 s (TH then VN share a fresh URL) and
   measures *report-to-alert*: from VN's POST being sent until SG's ``GET /api/v1/alerts``
   shows the alert naming VN's report.
3. **Campaign size** (``--chain``): in-process through ``pipeline.submit``, report k shares
   one URL with report k-1 and one with k+1, so every report joins one growing campaign;
   the per-stage cost is printed per window of campaign sizes (does it grow?).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import itertools
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, machine, percentile, postgres_url  # noqa: E402

from bayanihan import pipeline  # noqa: E402
from bayanihan.config import Settings  # noqa: E402
from bayanihan.hub import Hub  # noqa: E402
from bayanihan.ingest.bundles import Submitter  # noqa: E402
from bayanihan.ingest.report_submit import submit_report  # noqa: E402
from bayanihan.ingest.reports import parse_report  # noqa: E402
from bayanihan.model.members import OrgKind  # noqa: E402
from bayanihan.model.timing import Stages  # noqa: E402
from bayanihan.share.policy import Reader, visible  # noqa: E402
from bayanihan.store import audit, keys  # noqa: E402
from bayanihan.store import organisations as orgs  # noqa: E402
from tests.reports.reportgen import report  # noqa: E402

POSTERS = ("TH", "PH", "ID", "MY")


def _hub(url: str, workdir: Path) -> Hub:
    hub = Hub(Settings(database_url=url, data_dir=str(workdir)))
    hub.open()
    if hub.db.read_sync(orgs.get, "TH") is None:
        hub.db.write_sync(orgs.seed_asean, audit.Actor.console())
    return hub


def _submitter(hub: Hub, code: str) -> Submitter:
    org = hub.db.read_sync(orgs.require, code)
    return Submitter(org.code, org.identity_id, org.kind)


# -- 1. the old figure: the store stage alone, in-process ---------------------------------

def store_only(url: str, workdir: Path, count: int) -> float:
    hub = _hub(url, workdir)
    try:
        sub = _submitter(hub, "TH")
        where = visible(Reader(org="TH", kind=OrgKind.MEMBER))
        docs = [parse_report(report(n)) for n in range(count)]

        async def go() -> None:
            for doc in docs:
                await submit_report(hub, doc, sub, where)

        t = time.perf_counter()
        asyncio.run(go())
        return count / (time.perf_counter() - t)
    finally:
        hub.close()


# -- 2. load over HTTP --------------------------------------------------------------------

def serve(url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`bayanihan serve` with its log in a file (a pipe nobody reads would fill and block)."""
    port = free_port()
    log = (workdir / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bayanihan.cli", "serve", "--port", str(port), "--database",
         url], cwd=workdir, env={**os.environ, "BAYANIHAN_DATA_DIR": str(workdir)},
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=5).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"hub did not start: see {log.name}")
        time.sleep(0.2)


def _timing(header: str) -> dict[str, float]:
    out = {}
    for part in header.split(","):
        name, _, dur = part.strip().partition(";dur=")
        if dur:
            out[name] = float(dur)
    return out


def wave_report(n: int) -> dict[str, Any]:
    """The ``n``-th report of a scam wave as members report them: TLP:GREEN, one of 20 waves,
    each with its own ten URLs (a report carries two), posted by the member it hit."""
    wave, country = n % 20, POSTERS[n % len(POSTERS)]
    urls = [f"https://wave{wave}-{(n // 20 + k) % 10}.example/pay" for k in range(2)]
    return {"vector": "phishing", "channel": "sms", "tlp": "green", "countries": [country],
            "title": f"Scam wave {wave}: report {n}", "observables": urls,
            "ai_involvement": {"assessment": "suspected"}}


#: what the load posts: ``varied`` (every vector, TLP from CLEAR to RED, shared observables:
#: campaigns of mixed visibility) or ``waves`` (GREEN scam waves)
MIXES = {"varied": report, "waves": wave_report}


class Load:
    """Shared state of the posting threads: next report number, completions, stages."""

    def __init__(self, total: int, mix: str = "varied") -> None:
        self.make = MIXES[mix]
        self.total = total
        self.numbers = itertools.count()
        self.lock = threading.Lock()
        self.done: list[tuple[float, dict[str, float]]] = []
        self.errors: list[str] = []

    def post_all(self, base: str, key: str) -> None:
        with httpx.Client(base_url=base, timeout=120,
                          headers={"Authorization": f"Bearer {key}"}) as client:
            while True:
                with self.lock:
                    n = next(self.numbers)
                if n >= self.total:
                    return
                r = client.post("/api/v1/reports", json=self.make(n))
                if r.status_code != 201:
                    self.errors.append(f"{r.status_code} {r.text[:200]}")
                    continue
                with self.lock:
                    self.done.append((time.perf_counter(),
                                      _timing(r.headers.get("server-timing", ""))))


def probe(base: str, tokens: dict[str, str], stop: threading.Event,
          latencies: list[float]) -> None:
    """Every 2 s: TH then VN report a fresh URL; time until SG is alerted about VN's."""
    heads = {org: {"Authorization": f"Bearer {tokens[org]}"} for org in ("TH", "VN", "SG")}
    with httpx.Client(base_url=base, timeout=120) as client:
        after = client.get("/api/v1/alerts", headers=heads["SG"], params={"limit": 500}
                           ).json()["next"] or 0
        for k in itertools.count():
            if stop.wait(2.0):
                return
            url = f"https://probe-{k}.example/fee"
            for org in ("TH", "VN"):
                sent = time.perf_counter()
                r = client.post("/api/v1/reports", headers=heads[org], json={
                    "vector": "phishing", "channel": "sms", "title": f"probe {k} {org}",
                    "observables": url, "ai_involvement": {"assessment": "suspected"}})
                if r.status_code != 201:
                    break
            else:
                vn_report = r.json()["id"]
                while not stop.is_set():
                    got = client.get("/api/v1/alerts", headers=heads["SG"],
                                     params={"after": after, "limit": 500}).json()
                    after = got["next"] or after
                    if vn_report in str(got["alerts"]):
                        latencies.append(time.perf_counter() - sent)
                        break
                    time.sleep(0.05)


def http_load(url: str, workdir: Path, clients: int, total: int, window: int,
              profile: bool, mix: str = "varied") -> None:
    hub = _hub(url, workdir)
    tokens = {org: hub.db.write_sync(keys.create, audit.Actor.console(), org,
                                     keys.Role.ANALYST)[0]
              for org in {*POSTERS[:clients], "TH", "VN", "SG"}}
    hub.close()
    load = Load(total, mix)
    latencies: list[float] = []
    stop = threading.Event()
    proc, base = serve(url, workdir)
    try:
        prober = threading.Thread(target=probe, args=(base, tokens, stop, latencies))
        threads = [threading.Thread(target=load.post_all, args=(base, tokens[org]))
                   for org in POSTERS[:clients]]
        start = time.perf_counter()
        prober.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        stop.set()
        prober.join()
    finally:
        proc.terminate()
        proc.wait(60)
    print(f"\n### {clients} client(s): {len(load.done):,} reports in {elapsed:,.1f} s = "
          f"{len(load.done) / elapsed:,.1f} reports/s"
          + (f"; {len(load.errors)} refused: {load.errors[0]}" if load.errors else ""))
    lat = sorted(latencies)
    if lat:
        print(f"report-to-alert (cross-border probe, {len(lat)} pairs during the load): "
              f"p50 {percentile(lat, 50) * 1000:,.0f} ms, p99 {percentile(lat, 99) * 1000:,.0f}"
              f" ms, max {lat[-1] * 1000:,.0f} ms")
    stages = sorted({s for _, st in load.done for s in st})
    head = "| reports | reports/s |" + ("".join(f" {s} ms |" for s in stages) if profile else "")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    prev = start
    for first in range(0, len(load.done), window):
        part = load.done[first:first + window]
        end = part[-1][0]
        row = f"| {first + 1:,}–{first + len(part):,} | {len(part) / (end - prev):,.1f} |"
        if profile:
            row += "".join(f" {sum(st.get(s, 0) for _, st in part) / len(part):,.1f} |"
                           for s in stages)
        print(row, flush=True)
        prev = end


# -- 3. the cost of one report as its campaign grows ---------------------------------------

def chain(url: str, workdir: Path, count: int, window: int) -> None:
    hub = _hub(url, workdir)
    try:
        subs = [_submitter(hub, c) for c in POSTERS]
        where = visible(Reader(org="TH", kind=OrgKind.MEMBER))

        async def go() -> list[tuple[float, Stages, str | None]]:
            out = []
            for k in range(count):
                doc = parse_report({
                    "vector": "phishing", "channel": "sms", "title": f"chain {k}",
                    "observables": [f"https://chain-{k}.example/a",
                                    f"https://chain-{k + 1}.example/a"],
                    "ai_involvement": {"assessment": "suspected"}})
                stages = Stages()
                t = time.perf_counter()
                _done, linked = await pipeline.submit(hub, doc, subs[k % len(subs)], where,
                                                      stages=stages)
                out.append(((time.perf_counter() - t) * 1000, stages, linked.campaign_id))
            return out

        rows = asyncio.run(go())
    finally:
        hub.close()
    print(f"\n### One growing campaign: {count} reports, each linked to the one before "
          f"(campaigns seen: {len({c for _, _, c in rows if c})})")
    names = sorted({s for _, st, _ in rows for s in st})
    print("| campaign size | ms per report |" + "".join(f" {s} ms |" for s in names))
    print("|" + "---|" * (2 + len(names)))
    for first in range(0, count, window):
        part = rows[first:first + window]
        print(f"| {first + 1}–{first + len(part)} | "
              f"{sum(ms for ms, _, _ in part) / len(part):,.1f} |"
              + "".join(f" {sum(st.get(s, 0) for _, st, _ in part) / len(part):,.1f} |"
                        for s in names), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=2000)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--window", type=int, default=500)
    ap.add_argument("--profile", action="store_true", help="per-stage ms (Server-Timing)")
    ap.add_argument("--chain", type=int, default=600, help="reports in one growing campaign")
    ap.add_argument("--chain-window", type=int, default=100)
    ap.add_argument("--store-only", type=int, default=200, help="reports for the old figure")
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--mix", choices=sorted(MIXES), default="varied",
                    help="varied reports (mixed TLPs) or GREEN scam waves")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(f"date: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}")
    print(f"command: python benchmarks/reports.py {' '.join(sys.argv[1:])}")
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("SQLite", lambda name: f"sqlite:///{tmp}/{name}.db")]
        if args.postgres:
            if postgres_url("bayanihan_bench_reports") is None:
                raise SystemExit("--postgres needs BAYANIHAN_BENCH_PG_URL or "
                                 "BAYANIHAN_TEST_PG_URL")
            backends.append(("PostgreSQL", lambda name: postgres_url(f"bayanihan_bench_{name}")))
        for label, make in backends:
            print(f"\n## {label}")
            if args.store_only:
                figure = store_only(str(make("store")), Path(tmp), args.store_only)
                print(f"old figure, for scale: store stage alone in-process (no HTTP, no "
                      f"linking): {figure:,.1f} reports/s over {args.store_only} reports")
            for n in args.clients:
                if args.reports:
                    http_load(str(make(f"load{n}")), Path(tmp), n, args.reports, args.window,
                              args.profile, args.mix)
            if args.chain:
                chain(str(make("chain")), Path(tmp), args.chain, args.chain_window)


if __name__ == "__main__":
    main()
