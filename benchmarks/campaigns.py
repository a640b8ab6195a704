"""Benchmark: linking reports into campaigns — correlation time per report, campaign views.

``--reports`` synthetic phishing reports (authors rotating over the eleven members, TLP
mixed: 70 % GREEN, 20 % AMBER, 10 % AMBER for a named audience) are stored as STIX through
``hub.ingest_objects`` (no linking), then correlated one by one with ``correlate_report`` in
the order they arrived, as the report path does. One report in three belongs to a planted
campaign of ``--campaign-size`` reports (same landing URL host, lure reworded, a fresh phone
number); the rest are unrelated, and one in four of all reports carries a ``bit.ly`` link
(a common value that must glue nothing). Printed: correlation time per report (p50/p99),
campaigns found against the planted ones (exactly recovered, merged, split), alerts issued,
and the time to list campaigns / read one campaign for a member.

    python benchmarks/campaigns.py                          # SQLite in a temporary directory
    python benchmarks/campaigns.py --database postgresql+psycopg://u:p@127.0.0.1:5432/db
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from bayanihan.config import Settings
from bayanihan.correlate.campaign_views import CampaignFilter, campaign_detail, list_campaigns
from bayanihan.correlate.campaigns import correlate_report
from bayanihan.correlate.links import load_rules
from bayanihan.correlate.tables_campaigns import linked_report
from bayanihan.hub import Hub
from bayanihan.ingest.bundles import Submitter
from bayanihan.ingest.report_stix import build
from bayanihan.ingest.report_submit import ensure_published
from bayanihan.ingest.reports import parse_report
from bayanihan.model.members import MEMBER_STATES, OrgKind
from bayanihan.share.policy import Reader
from bayanihan.store import audit
from bayanihan.store import organisations as orgs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, percentile


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))


def _sentence(rng: random.Random) -> list[str]:
    return [_word(rng) for _ in range(rng.randint(10, 18))]


def _reworded(rng: random.Random, words: list[str]) -> list[str]:
    """The campaign's lure as an LLM rewrites it: two words replaced, two swapped."""
    out = list(words)
    for _ in range(2):
        out[rng.randrange(len(out))] = _word(rng)
    i, j = rng.randrange(len(out)), rng.randrange(len(out))
    out[i], out[j] = out[j], out[i]
    return out


def _lure(words: list[str], host: str, phone: str, shortener: str | None) -> str:
    link = f"https://bit.ly/{shortener}" if shortener else f"https://{host}/p"
    return f"{' '.join(words).capitalize()} {link} call {phone}"


def _plan(n: int, size: int, seed: int, real: list[str],
          ) -> list[tuple[int | None, dict[str, object]]]:
    """(planted campaign number or None, report JSON) in arrival order. With ``real`` scam
    texts, the unrelated reports carry those (as sent) instead of generated words."""
    rng = random.Random(seed)
    pool = iter(rng.sample(real, len(real))) if real else None
    planted = n // 3 // size
    items: list[tuple[int | None, dict[str, object]]] = []
    for c in range(planted):
        spec = {"host": f"campaign-{c}-{rng.getrandbits(24):x}.com", "words": _sentence(rng)}
        items += [(c, spec)] * size
    while len(items) < n:
        items.append((None, {"host": f"lone-{rng.getrandbits(40):x}.net",
                             "words": _sentence(rng)}))
    rng.shuffle(items)
    out = []
    for k, (c, spec) in enumerate(items):
        phone = f"+66 8{rng.randint(10_000_000, 99_999_999)}"
        words = _reworded(rng, list(spec["words"]))  # type: ignore[arg-type]
        short = f"{rng.getrandbits(40):x}" if c is None and k % 4 == 0 else None
        lure = _lure(words, str(spec["host"]), phone, short)
        if c is None and pool is not None:
            lure = next(pool, lure)
        roll = rng.random()
        report: dict[str, object] = {"vector": "phishing", "channel": "sms",
                                     "title": f"SMS {k}", "lures": [lure],
                                     "tlp": "green" if roll < 0.7 else "amber"}
        if roll >= 0.9:
            report["audience"] = ["TH", "VN", "SG"]
        out.append((c, report))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=1500)
    ap.add_argument("--campaign-size", type=int, default=5)
    ap.add_argument("--database", default="")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--sms", type=Path, default=None,
                    help="UCI SMSSpamCollection.tsv: unrelated reports carry its real spam")
    args = ap.parse_args()
    real = []
    if args.sms:
        rows = args.sms.read_text("utf-8", "replace").splitlines()
        real = sorted({line.split("\t", 1)[1] for line in rows if line.startswith("spam\t")
                       and not any(0x80 <= ord(ch) <= 0x9F for ch in line)})  # mojibake
    tmp = tempfile.mkdtemp(prefix="bayanihan-bench-")
    url = args.database or f"sqlite:///{tmp}/bench.db"
    hub = Hub(Settings(database_url=url, data_dir=tmp))
    hub.open()
    console = audit.Actor.console()
    hub.db.write_sync(orgs.seed_asean, console)
    asyncio.run(ensure_published(hub))
    members = sorted(MEMBER_STATES)
    org_of = {m: hub.db.read_sync(orgs.require, m) for m in members}
    plan = _plan(args.reports, args.campaign_size, args.seed, real)
    ids: list[tuple[int | None, str]] = []
    started = time.perf_counter()
    for k, (c, raw) in enumerate(plan):
        org = org_of[members[k % len(members)]]
        report = parse_report(raw)
        built = build(report, author=org.identity_id, country=org.code, techniques={})
        done = asyncio.run(hub.ingest_objects(built.objects, Submitter(
            org.code, org.identity_id, org.kind), report.audience))
        assert done.rejected == 0, done.as_dict()
        ids.append((c, built.report_id))
    stored_s = time.perf_counter() - started
    rules = load_rules()
    times, alerts = [], 0
    for _c, rid in ids:
        t = time.perf_counter()
        alerts += len(hub.db.write_sync(correlate_report, rid, (), rules).alerts)
        times.append((time.perf_counter() - t) * 1000)
    found = hub.db.read_sync(lambda conn: dict(conn.execute(
        select(linked_report.c.report_id, linked_report.c.campaign_id)).all()))
    planted: dict[int, set[str | None]] = {}
    for c, rid in ids:
        if c is not None:
            planted.setdefault(c, set()).add(found.get(rid))
    exact = sum(1 for camps in planted.values() if len(camps) == 1 and None not in camps)
    lone_linked = sum(1 for c, rid in ids if c is None and found.get(rid))
    sizes: dict[str, int] = {}
    for cid in found.values():
        if cid:
            sizes[cid] = sizes.get(cid, 0) + 1
    reader = Reader(org="MY", kind=OrgKind.MEMBER)
    list_times = []
    for _ in range(5):
        t = time.perf_counter()
        listed = hub.db.read_sync(list_campaigns, reader, CampaignFilter(limit=500), rules)
        list_times.append((time.perf_counter() - t) * 1000)
    list_ms = statistics.median(list_times)
    detail_ms = []
    for item in listed[:50]:
        t = time.perf_counter()
        hub.db.read_sync(campaign_detail, reader, item["id"], rules)
        detail_ms.append((time.perf_counter() - t) * 1000)
    hub.close()
    print(f"# campaigns benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"database: {url.split('@')[-1]}")
    print(f"reports: {len(ids)} stored in {stored_s:.1f} s (without linking)")
    print(f"correlate_report: p50 {statistics.median(times):.1f} ms, "
          f"p99 {percentile(times, 99):.1f} ms, total {sum(times) / 1000:.1f} s")
    print(f"planted campaigns: {len(planted)} of {args.campaign_size} reports; recovered exactly: "
          f"{exact}; unrelated reports wrongly linked: {lone_linked}")
    print(f"campaigns: {len(sizes)}, largest {max(sizes.values(), default=0)} reports"
          + (f" (unrelated reports: {len(real)} distinct real spam SMS)" if real else ""))
    print(f"alerts issued: {alerts}")
    print(f"list campaigns (MY, {len(listed)} visible): median of 5 {list_ms:.1f} ms "
          f"(first {list_times[0]:.1f} ms); campaign detail: "
          f"p50 {statistics.median(detail_ms or [0]):.1f} ms")


if __name__ == "__main__":
    main()
