"""Page speed: the overview and the campaign view with ``--reports`` (100,000) reports stored.

    python benchmarks/web.py [--reports 100000] [--requests 200] [--postgres]

Set-up, in-process: one real report per member state is built and stored through the report
path (``submit_report``); ``--reports`` copies of them are then stored through
``hub.ingest_objects`` in bundles of 1,000 (new ids, authors rotating over the eleven members,
vector, countries, languages and TLP varied, first seen spread over the last 365 days),
indexed (``report_index``) and marked as already linked (so the server's link queue has
nothing to do while it is measured). One cross-border campaign is then planted through the
whole pipeline (``pipeline.submit``: four members report the same lure), which issues real
regional alerts.

Measured: ``bayanihan serve`` in its own process; Viet Nam's analyst signs in (password and
TOTP) and GETs ``/`` (30-day window, the default), ``/?days=365`` (every report in the
window), ``/campaigns/{id}`` and ``/cooperation``, ``--requests`` times each, one at a time.
The time is taken by the client on loopback (HTTP included), so it bounds the server's time
from above.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyotp
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import hub_process, machine, percentile, postgres_url  # noqa: E402

from bayanihan import pipeline  # noqa: E402
from bayanihan.config import Settings  # noqa: E402
from bayanihan.correlate.tables_campaigns import campaigns, linked_report  # noqa: E402
from bayanihan.hub import Hub  # noqa: E402
from bayanihan.ingest.bundles import Submitter  # noqa: E402
from bayanihan.ingest.report_submit import submit_report  # noqa: E402
from bayanihan.ingest.reports import parse_report  # noqa: E402
from bayanihan.model.members import MEMBER_STATES, OrgKind  # noqa: E402
from bayanihan.model.stix import now_us  # noqa: E402
from bayanihan.model.tlp import MARKING_IDS, TLP  # noqa: E402
from bayanihan.share.policy import Reader, visible  # noqa: E402
from bayanihan.store import audit, keys, users  # noqa: E402
from bayanihan.store import organisations as orgs  # noqa: E402
from bayanihan.store.reports import index_pending  # noqa: E402
from bayanihan.store.schema import stix_objects  # noqa: E402
from bayanihan.store.tables_reports import report_index  # noqa: E402
from bayanihan.store.tables_users import users as users_table  # noqa: E402
from tests.correlate.linking import LURES  # noqa: E402

PASSWORD = "benchmark password 2026"
VECTORS = ("phishing", "malware", "identity-fraud", "reconnaissance", "other")
LANGS = ("th", "vi", "id", "tl", "ms", "en", "km", "lo", "my")
TLPS = (TLP.GREEN, TLP.GREEN, TLP.AMBER, TLP.CLEAR)


def _iso(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _submitter(hub: Hub, code: str) -> Submitter:
    org = hub.db.read_sync(orgs.require, code)
    return Submitter(org.code, org.identity_id, org.kind)


async def _templates(hub: Hub) -> dict[str, dict[str, Any]]:
    """One stored report per member (its STIX report object), built by the report path."""
    out = {}
    for code in MEMBER_STATES:
        sub = _submitter(hub, code)
        doc = parse_report({"vector": "phishing", "channel": "sms", "title": f"Template {code}",
                            "narrative": "A template report.", "countries": [code],
                            "observables": f"https://{code.lower()}-bank-verify.example.net/x",
                            "tlp": "green"})
        done = await submit_report(hub, doc, sub, visible(Reader(org=code, kind=OrgKind.MEMBER)))
        body = hub.db.read_sync(lambda c, rid=done.report_id: c.execute(
            select(stix_objects.c.body).where(stix_objects.c.id == rid)).scalar())
        out[code] = orjson.loads(body)
    return out


def _copy(template: dict[str, Any], n: int, rng: random.Random, now: int) -> dict[str, Any]:
    obj = orjson.loads(orjson.dumps(template))
    first = now - rng.randrange(365 * 86_400) * 1_000_000
    stamp = _iso(first + 3_600_000_000)
    obj.update(id=f"report--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
               name=f"Report {n}: {VECTORS[n % 5]} wave", created=stamp, modified=stamp,
               published=stamp)
    obj.pop("created_by_ref", None)
    obj["object_marking_refs"] = [MARKING_IDS[TLPS[n % len(TLPS)]]]
    ext = next(v for k, v in obj["extensions"].items() if k.startswith("extension-definition--"))
    countries = rng.sample(list(MEMBER_STATES), k=1 + n % 2)
    ext.update(vector=VECTORS[n % 5], first_seen=_iso(first), last_seen=_iso(first),
               targeted_countries=countries, languages=[LANGS[n % len(LANGS)]])
    return obj


def populate(hub: Hub, count: int) -> str:
    """Store ``count`` reports and plant one campaign; returns the campaign id."""
    rng = random.Random(7)
    templates = asyncio.run(_templates(hub))
    now = now_us()
    codes = list(MEMBER_STATES)
    t = time.perf_counter()
    for start in range(0, count, 1000):
        by_org: dict[str, list[dict[str, Any]]] = {}
        for n in range(start, min(count, start + 1000)):
            code = codes[n % len(codes)]
            by_org.setdefault(code, []).append(_copy(templates[code], n, rng, now))
        for code, objs in by_org.items():
            asyncio.run(hub.ingest_objects(objs, _submitter(hub, code), None, atomic=True))
        if start % 20_000 == 0:
            print(f"  stored {min(count, start + 1000):,} reports ({time.perf_counter() - t:.0f} s)",
                  flush=True)
    hub.db.write_sync(index_pending)
    hub.db.write_sync(_mark_linked)
    print(f"  {count:,} reports stored and indexed in {time.perf_counter() - t:.0f} s")
    campaign = None
    for code in ("MY", "TH", "KH", "ID"):
        doc = parse_report({"vector": "phishing", "channel": "sms", "title": f"Director SMS {code}",
                            "lures": [LURES["th"]], "countries": [code], "languages": ["th"],
                            "observables": "https://bank-verify-th.example.com/login",
                            "tlp": "green"})
        _, corr = asyncio.run(pipeline.submit(
            hub, doc, _submitter(hub, code), visible(Reader(org=code, kind=OrgKind.MEMBER))))
        campaign = getattr(corr, "campaign_id", None) or campaign
    assert campaign, "the planted campaign was not formed"
    return str(campaign)


def _mark_linked(conn: Any) -> None:
    """Every stored report counts as seen by the linker (no link queue while measuring)."""
    seen = set(conn.execute(select(linked_report.c.report_id)).scalars())
    rows = conn.execute(select(stix_objects.c.pk, stix_objects.c.id, stix_objects.c.author_org)
                        .where(stix_objects.c.type == "report",
                               stix_objects.c.is_latest.is_(True))).all()
    now = now_us()
    batch = [{"report_id": r.id, "object_pk": r.pk, "author_org": r.author_org,
              "countries": "[]", "languages": "[]", "vector": "other", "first_seen_us": now,
              "last_seen_us": now, "correlated_us": now, "campaign_id": None}
             for r in rows if r.id not in seen]
    for i in range(0, len(batch), 5000):
        conn.execute(linked_report.insert(), batch[i:i + 5000])


def sign_in(url: str, hub: Hub) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=60)
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/signin").text).group(1)  # type: ignore[union-attr]
    r = c.post("/signin", data={"username": "bench.vn", "password": PASSWORD, "csrf": token})
    assert r.status_code == 303, r.text
    page = c.get("/signin/second-factor").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    secret = hub.db.read_sync(lambda conn: conn.execute(
        select(users_table.c.totp_secret).where(users_table.c.username == "bench.vn")).scalar())
    r = c.post("/signin/second-factor", data={"code": pyotp.TOTP(secret).now(), "csrf": token})
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    return c


def measure(c: httpx.Client, path: str, requests: int) -> tuple[float, float]:
    assert c.get(path).status_code == 200, path  # warm
    times = []
    for _ in range(requests):
        t = time.perf_counter()
        r = c.get(path)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    return percentile(times, 50), percentile(times, 95)


def run(database_url: str, workdir: Path, count: int, requests: int,
        reuse: bool = False) -> None:
    hub = Hub(Settings(database_url=database_url, data_dir=str(workdir)))
    hub.open()
    try:
        if reuse:  # a database this script populated before
            campaign = hub.db.read_sync(lambda conn: conn.execute(
                select(campaigns.c.id).where(campaigns.c.state == "active")).scalar())
            count = hub.db.read_sync(lambda conn: conn.execute(
                select(func.count()).select_from(report_index)).scalar())
        else:
            hub.db.write_sync(orgs.seed_asean, audit.Actor.console())
            hub.db.write_sync(users.add, audit.Actor.console(), "bench.vn", "VN",
                              keys.Role.ANALYST, PASSWORD)
            campaign = populate(hub, count)
    finally:
        hub.close()
    with hub_process(database_url, workdir) as url:
        hub = Hub(Settings(database_url=database_url, data_dir=str(workdir)))
        hub.open()
        try:
            c = sign_in(url, hub)
            try:
                print(f"| page | p50 ms | p95 ms |  ({hub.db.dialect}, {count:,} reports, "
                      f"{requests} requests each)")
                print("|---|---|---|")
                for path in ("/", "/?days=365", f"/campaigns/{campaign}", "/cooperation"):
                    p50, p95 = measure(c, path, requests)
                    print(f"| `{path.replace(campaign, '{id}')}` | {p50:.1f} | {p95:.1f} |",
                          flush=True)
            finally:
                c.close()
        finally:
            hub.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    ap.add_argument("--reuse", type=Path, help="measure a SQLite file this script populated")
    args = ap.parse_args()
    print(machine(), "·", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    if args.reuse:
        run(f"sqlite:///{args.reuse.resolve()}", args.reuse.resolve().parent, 0, args.requests,
            reuse=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'web.db'}", Path(tmp), args.reports, args.requests)
    if args.postgres:
        url = postgres_url("bayanihan_bench_web")
        if url is None:
            print("no PostgreSQL configured (BAYANIHAN_BENCH_PG_URL or BAYANIHAN_TEST_PG_URL)")
            return
        with tempfile.TemporaryDirectory() as tmp:
            run(url, Path(tmp), args.reports, args.requests)


if __name__ == "__main__":
    main()
