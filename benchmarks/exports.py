"""Exports at scale (issue 15): N indicators stored, then

* the value index catching up on all of them (once, after a bulk load);
* ``bayanihan export domains`` and ``bayanihan export rpz`` of all N, each in a fresh process:
  wall time and the process's peak RSS (``ru_maxrss`` of the child; the idle CLI's own peak —
  Python and its imports — is printed beside it);
* the same exports from ``bayanihan serve`` over loopback HTTP (``GET /api/v1/exports/FMT``,
  streamed, read whole): wall time and the server process's CPU time (``/proc``);
* a device's poll with ``If-None-Match`` that finds nothing new: ``GET /api/v1/exports/rpz``
  answered 304 by ``bayanihan serve`` on loopback, timed by the client (so it includes HTTP).

    python benchmarks/exports.py --indicators 1000000 [--database sqlite:///x.db] [--keep]

Indicators: domain names (80 %), IPv4 addresses (10 %) and URLs (10 %), TLP:GREEN, stored
through ``Hub.ingest_objects`` in bundles of 5,000 (validation on). ``benchmarks/check.py``
reuses the database (``--keep``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import hub_process, machine

from bayanihan.api.exports import fresh_tag
from bayanihan.config import load_settings
from bayanihan.correlate import value_index
from bayanihan.correlate.value_rows import export_context
from bayanihan.hub import Hub
from bayanihan.ingest.bundles import Submitter
from bayanihan.model.members import OrgKind
from bayanihan.model.stix import format_ms, now_us
from bayanihan.model.tlp import TLP
from bayanihan.share import exports
from bayanihan.share.exports import Scope
from bayanihan.share.policy import Reader
from bayanihan.store import audit, keys
from bayanihan.store import organisations as orgs

BUNDLE = 5000


def value(i: int) -> tuple[str, str]:
    """The i-th indicator's (kind, pattern value): deterministic, all distinct."""
    if i % 10 == 8:
        return "ipv4-addr", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
    if i % 10 == 9:
        return "url", f"https://pay-{i}.example-{i % 997}.net/login?id={i}"
    return "domain-name", f"login-{i}.bank-{i % 4999}.example.com"


def indicator(i: int, stamp: str) -> dict[str, Any]:
    kind, val = value(i)
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=i + 1, version=4)}",
            "created": stamp, "modified": stamp, "name": f"bench {i}",
            "pattern": f"[{kind}:value = '{val}']", "pattern_type": "stix",
            "valid_from": stamp, "confidence": 80,
            "object_marking_refs": [TLP.GREEN.marking_id]}


def fill(url: str, count: int, work: Path) -> Hub:
    """A hub at ``url`` holding ``count`` indicators (adds only what is missing)."""
    hub = Hub(load_settings(None, database_url=url, validation_processes=0, data_dir=str(work)))
    hub.open()
    if hub.db.read_sync(orgs.get, "TH") is None:
        hub.db.write_sync(orgs.seed_asean, audit.Actor.console())
    th = hub.db.read_sync(orgs.require, "TH")
    who = Submitter(th.code, th.identity_id, th.kind)
    have = hub.db.read_sync(lambda c: c.exec_driver_sql(
        "SELECT count(*) FROM stix_objects WHERE type = 'indicator'").scalar() or 0)
    stamp = format_ms(now_us())
    t0 = time.perf_counter()
    for start in range(int(have), count, BUNDLE):
        objects = [indicator(i, stamp) for i in range(start, min(count, start + BUNDLE))]
        result = asyncio.run(hub.ingest_objects(objects, who, None))
        assert not result.rejected, result.results[:1]
        if start // BUNDLE % 20 == 0:
            print(f"  stored {start + len(objects):,} ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
    if count > have:
        print(f"stored {count - have:,} indicators in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    read = hub.db.write_sync(value_index.catch_up)
    print(f"value index caught up on {read:,} versions in {time.perf_counter() - t0:.1f} s")
    return hub


#: Starts the command from a small process and reports its rusage: a child forked straight
#: from this (large) benchmark process counts this process's resident pages in its own peak
#: RSS until it execs (the first runs of this benchmark reported 208-282 MB so).
_MEASURE = ("import os, subprocess, sys\n"
            "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
            "_, status, u = os.wait4(p.pid, 0)\n"
            "print(os.waitstatus_to_exitcode(status), u.ru_utime + u.ru_stime, u.ru_maxrss)\n")


def child_run(args: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of ``bayanihan ARGS`` in a fresh process."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "bayanihan.cli",
                           *args], capture_output=True, text=True, check=True)
    took = time.perf_counter() - t0
    code, cpu, peak = done.stdout.split()
    assert code == "0", (args, done.stderr)
    return took, float(cpu), int(peak) / 1024


def _pid_serving(port: int) -> int:
    """The pid of the ``bayanihan serve --port PORT`` that ``hub_process`` started."""
    for proc in Path("/proc").iterdir():
        try:
            words = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in words and str(port).encode() in words:
            return int(proc.name)
    raise RuntimeError(f"no bayanihan serve on port {port}")


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def render_in_process(url: str, fmt: str, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the export itself (imports done, index fresh), this process."""
    hub = Hub(load_settings(None, database_url=url, data_dir=str(out.parent)))
    hub.open()
    reader = Reader(org="VN", kind=OrgKind.MEMBER)
    t0, c0 = time.perf_counter(), time.process_time()
    with hub.db.read_engine.connect() as conn, out.open("w") as fh:
        for chunk in exports.render(fmt, export_context(conn, reader, Scope())):
            fh.write(chunk)
    took = time.perf_counter() - t0, time.process_time() - c0
    hub.close()
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--indicators", type=int, default=1_000_000)
    ap.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--polls", type=int, default=300)
    ap.add_argument("--keep", action="store_true", help="keep the SQLite file (check.py)")
    ap.add_argument("--formats", default="domains,rpz", help="exports to time")
    ap.add_argument("--in-process", action="store_true",
                    help="also time each export in this process (imports done)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bayanihan-exports-"))
    url = args.database or f"sqlite:///{work / 'hub.db'}"
    print(f"machine: {machine()}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; database {url}")
    hub = fill(url, args.indicators, work)
    key, _ = hub.db.write_sync(keys.create, audit.Actor.console(), "VN", keys.Role("reader"))
    hub.close()

    idle = child_run(["--help"])
    print(f"idle CLI (python -m bayanihan.cli --help): {idle[0]:.2f} s wall, {idle[1]:.2f} s "
          f"CPU, peak RSS {idle[2]:.0f} MB")
    for fmt in args.formats.split(","):
        out = work / f"export.{fmt}"
        wall, cpu, peak = child_run(["export", fmt, "--org", "VN", "--database", url,
                                     "-o", str(out)])
        lines = sum(1 for line in out.open() if not line.startswith(("#", ";")))
        print(f"bayanihan export {fmt}: {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS "
              f"{peak:.0f} MB, {lines:,} lines ({out.stat().st_size / 2**20:.0f} MiB)")
        if not args.in_process:
            continue
        wall, cpu = render_in_process(url, fmt, out)
        print(f"  the export alone (in process, imports done): {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU")

    hub = Hub(load_settings(None, database_url=url, data_dir=str(work)))
    hub.open()
    reader, ms = Reader(org="VN", kind=OrgKind.MEMBER), []
    for _ in range(args.polls):
        t0 = time.perf_counter()
        assert hub.db.read_sync(fresh_tag, reader, Scope(), "rpzbayanihan-rpz.rpz")
        ms.append((time.perf_counter() - t0) * 1000)
    hub.close()
    q = statistics.quantiles(ms, n=100)
    print(f"If-None-Match poll, nothing new: its database work (is the index fresh? the ETag), "
          f"in process, n={len(ms)}: p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms")
    with hub_process(url, work) as base, httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=600) as client:
        server_pid = _pid_serving(int(base.rsplit(":", 1)[1]))
        time.sleep(5)  # the server's start-up work (ANALYZE) done
        for fmt in args.formats.split(","):
            c0, t0, size = _cpu_of(server_pid), time.perf_counter(), 0
            with client.stream("GET", f"/api/v1/exports/{fmt}") as streamed:
                for chunk in streamed.iter_bytes():
                    size += len(chunk)
            print(f"GET /api/v1/exports/{fmt} from bayanihan serve over loopback HTTP, streamed "
                  f"and read whole: {time.perf_counter() - t0:.2f} s wall, server CPU "
                  f"{_cpu_of(server_pid) - c0:.2f} s, {size / 2**20:.0f} MiB")
        tag = client.get("/api/v1/exports/rpz").headers["etag"]
        times, server = [], []
        for _ in range(args.polls):
            t0 = time.perf_counter()
            r = client.get("/api/v1/exports/rpz", headers={"If-None-Match": tag})
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 304, r.status_code
            server.append(float(r.headers["server-timing"].split("dur=")[1]))
        for what, ms in (("server time (Server-Timing)", server),
                         ("client-timed over loopback HTTP", times)):
            q = statistics.quantiles(ms, n=100)
            print(f"If-None-Match poll, nothing new (304), {what}, n={len(ms)}: "
                  f"p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms")
    if args.keep:
        print(f"kept: {url}")


if __name__ == "__main__":
    main()
