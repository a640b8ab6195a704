"""Benchmark: TAXII 2.1, Bayanihan beside medallion (the OASIS reference server), then 1M objects.

Part 1, side by side in one run on the same generated indicators (default 10,000):
POST rate (envelopes of ``--bundle`` objects), time to the first page, page latency while
walking the whole collection with ``next`` (limit 100, medallion's page size), and
get-by-id latency. medallion runs its memory backend in its own process.

Part 2, Bayanihan alone at ``--large`` objects (default 1,000,000) on SQLite, inserted
through the store directly (``store_versions`` in transactions of 10,000: the same code the
ingest path ends in, without HTTP and validation): paging the whole collection with
limit=1000, first-page time, get-by-id p50/p99, and the SQLite query plan of the page query.

Everything runs on loopback with bounded sizes and a per-request timeout.

    python benchmarks/taxii.py                      # 10k side by side + 1M alone
    python benchmarks/taxii.py --small 2000 --large 100000   # quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayanihan.config import Settings  # noqa: E402
from bayanihan.hub import Hub  # noqa: E402
from bayanihan.model.members import OrgKind  # noqa: E402
from bayanihan.model.tlp import TLP  # noqa: E402
from bayanihan.share.collections import (  # noqa: E402
    BY_ID,
    OBJECT_COLUMNS,
    Filters,
    _page_query,
)
from bayanihan.share.policy import Reader  # noqa: E402
from bayanihan.store import audit, keys  # noqa: E402
from bayanihan.store.objects import NewVersion, store_versions  # noqa: E402
from bayanihan.store.schema import stix_objects  # noqa: E402
from tests.conftest import seed  # noqa: E402
from tests.taxii.medallion import free_port, medallion  # noqa: E402

TAXII = "application/taxii+json;version=2.1"
REGIONAL = BY_ID["regional"].id
TIMEOUT = 900.0
LEVELS = [TLP.GREEN] * 7 + [TLP.AMBER] * 2 + [TLP.CLEAR]


def indicators(n: int, start: int = 0) -> Iterator[dict[str, Any]]:
    """Deterministic, valid STIX 2.1 indicators (about 450 bytes each)."""
    rnd = random.Random(start)
    for i in range(start, start + n):
        level = LEVELS[i % len(LEVELS)]
        yield {
            "type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{rnd.getrandbits(32):08x}-{rnd.getrandbits(16):04x}-4"
                  f"{rnd.getrandbits(12):03x}-8{rnd.getrandbits(12):03x}-{rnd.getrandbits(48):012x}",
            "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
            "name": f"Smishing URL {i}", "indicator_types": ["malicious-activity"],
            "pattern": f"[url:value = 'http://pay-{i}.parcel-th.example/track']",
            "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z",
            "object_marking_refs": [level.marking_id],
        }


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


class Target:
    """One TAXII server under test: a name, a collection URL and an HTTP client."""

    def __init__(self, name: str, collection_url: str, client: httpx.Client) -> None:
        self.name, self.url, self.client = name, collection_url, client

    def post(self, objects: list[dict[str, Any]]) -> None:
        r = self.client.post(self.url + "objects/", content=orjson.dumps({"objects": objects}),
                             headers={"Content-Type": TAXII})
        r.raise_for_status()
        status = r.json()
        if status.get("failure_count"):
            raise SystemExit(f"{self.name}: {status['failure_count']} objects rejected")

    def walk(self, limit: int, max_pages: int | None = None) -> tuple[int, list[float]]:
        """Walk the collection with ``next``: (objects, seconds per page)."""
        params: dict[str, Any] = {"limit": limit}
        times, count = [], 0
        while max_pages is None or len(times) < max_pages:
            t0 = time.perf_counter()
            r = self.client.get(self.url + "objects/", params=params)
            r.raise_for_status()
            body = orjson.loads(r.content)
            times.append(time.perf_counter() - t0)
            count += len(body.get("objects", []))
            if not body.get("more"):
                break
            params = {"limit": limit, "next": body["next"]}
        return count, times

    def get_by_id(self, ids: list[str]) -> list[float]:
        times = []
        for oid in ids:
            t0 = time.perf_counter()
            r = self.client.get(f"{self.url}objects/{oid}/")
            r.raise_for_status()
            times.append(time.perf_counter() - t0)
        return times


SERVER = """
import sys, uvicorn
from bayanihan.api.app import create_app
from bayanihan.config import Settings
from bayanihan.hub import Hub
settings = Settings(database_url=sys.argv[1], data_dir=sys.argv[2], max_bundle_objects=10_000,
                    max_request_bytes=64 * 1024 * 1024, key_cache_seconds=300)
hub = Hub(settings)
hub.open()
app = create_app(settings, hub)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning", access_log=False)
"""


def prepare(workdir: Path, name: str) -> tuple[Hub, str]:
    """A seeded hub database and an analyst key of SG."""
    settings = Settings(database_url=f"sqlite:///{workdir / name}", data_dir=str(workdir))
    hub = Hub(settings)
    hub.open()
    seed(hub)
    key, _ = hub.db.write_sync(keys.create, audit.Actor.console(), "SG", keys.Role.ANALYST)
    return hub, key


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(hub: Hub) -> tuple[str, Callable[[], None], int]:
    """``bayanihan serve`` equivalent in its own process (uvicorn, httptools, uvloop)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, hub.settings.database(),
                             hub.settings.data_dir, str(port)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the Bayanihan server did not start")
        time.sleep(0.2)

    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=30)

    return url, stop, proc.pid


def side_by_side(n: int, bundle: int, workdir: Path) -> None:
    objects = list(indicators(n))
    sample = [o["id"] for o in random.Random(7).sample(objects, min(200, n))]
    hub, key = prepare(workdir, "side.db")
    url, stop, _pid = start_server(hub)
    # medallion drops a `next` token 30 s after the request that made it began; its first page
    # takes longer than that at 10,000 objects, so the walk could not continue (HTTP 400).
    with medallion(workdir, page_size=100, session_timeout=7200) as med:
        targets = [
            Target("bayanihan", f"{url}/taxii2/api/collections/{REGIONAL}/",
                   httpx.Client(headers={"Accept": TAXII, "Authorization": f"Bearer {key}"},
                                timeout=TIMEOUT)),
            Target("medallion", med.collection_url,
                   httpx.Client(auth=(med.user, med.password), headers={"Accept": TAXII},
                                timeout=TIMEOUT)),
        ]
        print(f"load average now {os.getloadavg()[0]:.1f}")
        print(f"\n## Side by side: {n:,} indicators, POST in envelopes of {bundle}, pages of 100")
        print("| server | POST objects/s | first page | first page again | page p50 | page p99 | "
              "pages | get-by-id p50 | get-by-id p99 |")
        print("|---|---|---|---|---|---|---|---|---|")
        for t in targets:
            t0 = time.perf_counter()
            for start in range(0, n, bundle):
                t.post(objects[start:start + bundle])
            post_rate = n / (time.perf_counter() - t0)
            try:
                count, pages = t.walk(100)
                again = t.walk(100, max_pages=1)[1][0] if pages[0] < 60 else float("nan")
                by_id = t.get_by_id(sample[:50] if t.name == "medallion" else sample)
            except httpx.TimeoutException:
                print(f"| {t.name} | {post_rate:,.0f} | no answer within {TIMEOUT:.0f} s | | | | | | |",
                      flush=True)
                continue
            except httpx.HTTPStatusError as exc:
                print(f"| {t.name} | {post_rate:,.0f} | failed: {exc!s:.120} | | | | | | |", flush=True)
                continue
            print(f"| {t.name} | {post_rate:,.0f} | {ms(pages[0])} | {ms(again)} | "
                  f"{ms(pct(pages[1:] or pages, 50))}"
                  f" | {ms(pct(pages[1:] or pages, 99))} | {len(pages)} ({count:,} objects) | "
                  f"{ms(pct(by_id, 50))} | {ms(pct(by_id, 99))} |", flush=True)
            t.client.close()
    stop()
    hub.close()


def fill(hub: Hub, n: int, chunk: int = 10_000) -> float:
    t0 = time.perf_counter()
    done = 0
    for start in range(0, n, chunk):
        batch = [NewVersion(o, author_org="TH", tlp=TLP(LEVELS[(start + i) % len(LEVELS)]))
                 for i, o in enumerate(indicators(min(chunk, n - start), start))]
        hub.db.write_sync(store_versions, batch)
        done += len(batch)
        if done % 100_000 == 0:
            print(f"  inserted {done:,} ({done / (time.perf_counter() - t0):,.0f}/s)", flush=True)
    return n / (time.perf_counter() - t0)


def query_plan(hub: Hub) -> list[str]:
    """SQLite's plan for the page query of a member reading the regional collection."""
    reader = Reader(org="SG", kind=OrgKind.MEMBER)
    query = _page_query(BY_ID["regional"], reader, Filters(), "last", False, OBJECT_COLUMNS)
    compiled = query.params(after=0, rows=1001).compile(
        hub.db.read_engine, compile_kwargs={"literal_binds": True, "render_postcompile": True})
    sql = str(compiled)
    return hub.db.read_sync(lambda conn: [
        str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")])


def large(n: int, workdir: Path) -> None:
    hub, key = prepare(workdir, "large.db")
    print(f"\n## Bayanihan alone: {n:,} indicators on SQLite (inserted through store_versions)")
    rate = fill(hub, n)
    url, stop, pid = start_server(hub)
    size = (workdir / "large.db").stat().st_size
    print(f"insert: {rate:,.0f} objects/s; database {size / 1e9:.2f} GB")
    print("page query plan:", *query_plan(hub), sep="\n  ")
    target = Target("bayanihan", f"{url}/taxii2/api/collections/{REGIONAL}/",
                    httpx.Client(headers={"Accept": TAXII, "Authorization": f"Bearer {key}"},
                                 timeout=TIMEOUT))
    first = [target.walk(1000, max_pages=1)[1][0] for _ in range(5)]
    t0, cpu0, mine0 = time.perf_counter(), cpu_seconds(pid), time.process_time()
    count, pages = target.walk(1000)
    elapsed, server_cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    client_cpu = time.process_time() - mine0
    ids = hub.db.read_sync(lambda conn: [r.id for r in conn.execute(
        select(stix_objects.c.id).where(stix_objects.c.type == "indicator")
        .order_by(stix_objects.c.pk).limit(n))])
    cpu0 = cpu_seconds(pid)
    by_id = target.get_by_id(random.Random(3).sample(ids, min(1000, len(ids))))
    by_id_cpu = (cpu_seconds(pid) - cpu0) / len(by_id)
    print("| measure | value |\n|---|---|")
    print(f"| paging the whole collection, limit=1000 | {count / elapsed:,.0f} objects/s "
          f"({count:,} objects, {len(pages)} pages, {elapsed:.1f} s) |")
    print(f"| first page (limit=1000), median of 5 | {ms(statistics.median(first))} |")
    slowest = max(range(len(pages)), key=pages.__getitem__)
    print(f"| any page p50 / p99 / last | {ms(pct(pages, 50))} / {ms(pct(pages, 99))} / "
          f"{ms(pages[-1])} (slowest: page {slowest + 1}, {ms(pages[slowest])}) |")
    print(f"| server CPU while paging | {server_cpu / len(pages) * 1000:.1f} ms per page of 1000 "
          f"(= {count / server_cpu:,.0f} objects per CPU-second) |")
    print(f"| client CPU while paging (httpx + orjson) | {client_cpu / len(pages) * 1000:.1f} ms "
          "per page |")
    print(f"| get-by-id p50 / p99 (1,000 random ids) | {ms(pct(by_id, 50))} / "
          f"{ms(pct(by_id, 99))} (server CPU {by_id_cpu * 1000:.2f} ms per request) |")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    target.client.close()
    stop()
    hub.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000, help="objects, side by side")
    parser.add_argument("--bundle", type=int, default=1000, help="objects per POST")
    parser.add_argument("--large", type=int, default=1_000_000, help="objects, Bayanihan alone")
    parser.add_argument("--skip-medallion", action="store_true")
    args = parser.parse_args()
    print(f"# TAXII benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}; "
          f"load average at start {os.getloadavg()[0]:.1f} (other jobs share the CPUs)")
    with tempfile.TemporaryDirectory(prefix="taxii-bench-") as tmp:
        if not args.skip_medallion and args.small:
            side_by_side(args.small, args.bundle, Path(tmp))
        if args.large:
            large(args.large, Path(tmp))


if __name__ == "__main__":
    main()
