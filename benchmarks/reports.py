"""Report ingest and listing: reports/s turned into STIX and stored, list latency.

In-process (the hub's own ``submit_report``, no HTTP), on SQLite and on PostgreSQL when
BAYANIHAN_TEST_PG_URL or BAYANIHAN_BENCH_PG_URL is set. Each report is a varied report of
``tests/reports/reportgen.py`` (lures, observables of every kind, techniques); in the same
run, for scale: building the STIX objects alone, and validating them alone.

    python benchmarks/reports.py [--reports 200]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, percentile, postgres_url  # noqa: E402

from bayanihan.config import Settings  # noqa: E402
from bayanihan.hub import Hub  # noqa: E402
from bayanihan.ingest.bundles import Submitter, check_objects  # noqa: E402
from bayanihan.ingest.report_stix import build  # noqa: E402
from bayanihan.ingest.report_submit import submit_report  # noqa: E402
from bayanihan.ingest.reports import parse_report  # noqa: E402
from bayanihan.model.members import OrgKind  # noqa: E402
from bayanihan.share.policy import Reader, visible  # noqa: E402
from bayanihan.store import audit  # noqa: E402
from bayanihan.store import organisations as orgs  # noqa: E402
from bayanihan.store.reports import ReportFilter, list_reports  # noqa: E402
from tests.reports.conftest import ATTACK_PHISHING  # noqa: E402
from tests.reports.reportgen import report  # noqa: E402

ATLAS = ROOT.parent / "shared" / "data" / "atlas" / "stix-atlas.json"


def run(url: str, workdir: Path, count: int) -> dict[str, float]:
    hub = Hub(Settings(database_url=url, data_dir=str(workdir)))
    hub.open()
    hub.db.write_sync(orgs.seed_asean, audit.Actor.console())
    hub_org = hub.db.read_sync(orgs.require, orgs.HUB_CODE)
    operator = Submitter(hub_org.code, hub_org.identity_id, hub_org.kind)
    from bayanihan.ingest.files import load_atlas

    asyncio.run(load_atlas(hub, ATLAS.read_bytes(), operator))
    asyncio.run(hub.ingest_objects([ATTACK_PHISHING], operator, None))
    th = hub.db.read_sync(orgs.require, "TH")
    submitter = Submitter(th.code, th.identity_id, th.kind)
    reader = Reader(org="TH", kind=OrgKind.MEMBER)
    docs = [parse_report(report(n)) for n in range(count)]

    async def submit_all() -> list[int]:
        sizes = []
        for doc in docs:
            done = await submit_report(hub, doc, submitter, visible(reader))
            sizes.append(len(done.object_ids))
        return sizes

    started = time.perf_counter()
    sizes = asyncio.run(submit_all())
    elapsed = time.perf_counter() - started
    where = visible(Reader(org="VN", kind=OrgKind.MEMBER))
    lat = []
    for n in range(50):
        f = [ReportFilter(), ReportFilter(country="KH"), ReportFilter(vector="malware"),
             ReportFilter(text="wave"), ReportFilter(language="th")][n % 5]
        t = time.perf_counter()
        hub.db.read_sync(list_reports, where, f)
        lat.append((time.perf_counter() - t) * 1000)
    hub.close()
    return {"reports_per_s": count / elapsed, "objects_per_report": sum(sizes) / len(sizes),
            "list_p50_ms": percentile(lat, 50), "list_p95_ms": percentile(lat, 95)}


def build_only(count: int) -> tuple[float, float]:
    docs = [parse_report(report(n)) for n in range(count)]
    techniques = {t: f"attack-pattern--00000000-0000-4000-8000-{i:012d}"
                  for i, t in enumerate(["AML.T0052", "AML.T0088", "AML.T0051", "AML.T0048",
                                         "T1566"])}
    t = time.perf_counter()
    built = [build(d, author="identity--00000000-0000-4000-8000-000000000001", country="TH",
                   techniques={k: techniques[k] for k in d.ai_involvement.techniques})
             for d in docs]
    build_s = time.perf_counter() - t
    sub = Submitter("TH", "identity--00000000-0000-4000-8000-000000000001", OrgKind.MEMBER)
    t = time.perf_counter()
    for b in built:
        check_objects(b.objects, sub)
    return count / build_s, count / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"date: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}")
    print(f"command: python benchmarks/reports.py --reports {args.reports}")
    per_build, per_check = build_only(args.reports)
    print(f"build STIX only: {per_build:.0f} reports/s; validate only: {per_check:.0f} reports/s")
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        pg = postgres_url("bayanihan_bench_reports")
        if pg:
            backends.append(("postgresql", pg))
        for name, url in backends:
            figures = run(url, Path(tmp), args.reports)
            print(f"{name}: {figures['reports_per_s']:.1f} reports/s stored "
                  f"({figures['objects_per_report']:.1f} objects each); list reports "
                  f"p50 {figures['list_p50_ms']:.1f} ms, p95 {figures['list_p95_ms']:.1f} ms "
                  f"over {args.reports} reports")


if __name__ == "__main__":
    main()
