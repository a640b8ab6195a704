"""Bulk intake of reported messages: rate, memory and how well planted campaigns are recovered.

    python benchmarks/messages.py [--messages 1000000] [--copies 20] [--batch 10000]
                                  [--active 40] [--seed 7] [--postgres]

Messages: the real scam/spam SMS in ../shared/data/sms (deduplicated on their normalised text,
as benchmarks/lure_quality.py does) are the *campaigns*. Each campaign is expanded with the
AI-style variants of benchmarks/lure_variants.py (the original, then personalised, synonym,
homoglyph, zero-width, reordered and all-combined rewrites drawn at random) until there are
``messages / copies`` distinct texts, and every text is reported ``copies`` times (from a
pool of 30 senders per campaign, in the campaign's country): the duplication ratio is
``copies`` messages per distinct text. Waves overlap: ``--active`` campaigns are reported at
the same time, their messages shuffled together, as a national line sees them.

The hub runs as `bayanihan serve` (SQLite, or PostgreSQL with --postgres); one client posts
JSON-lines batches. Printed: messages/s per tenth of the run and overall, the server's peak
RSS, and recovery: a campaign's *main* cluster is the one holding most of its distinct
texts; recall is the share of distinct texts in their campaign's main cluster; a wrong link
is a distinct text folded into a cluster whose majority is another campaign (also shown with
"same template" pairs excused: originals whose texts are >= 0.8 alike by difflib, as the lure
benchmark does). Peer measured in the same run: the check+prepare stage alone, in-process
(the CPU ceiling of intake before the database).
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import orjson
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import free_port, machine, postgres_url
from lure_quality import originals
from lure_variants import VARIANTS, load_scams

from bayanihan.config import Settings
from bayanihan.hub import Hub
from bayanihan.messages.batch import MAX_BATCH, check_batch, parse_body
from bayanihan.messages.prepare import prepare
from bayanihan.store import audit, keys
from bayanihan.store import organisations as orgs

COUNTRY = {"th": "TH", "id": "ID", "ph": "PH", "en": "SG"}
SENDERS_PER_CAMPAIGN = 30


def sender(lang: str, rng: random.Random) -> str:
    n = rng.randrange(10**7)
    return {"th": f"08{rng.choice('1256789')}{n:07d}", "id": f"0812{n:07d}{rng.randrange(10)}",
            "ph": f"0917{n:07d}", "en": f"+65 9{n:07d}"}[lang]


def campaigns(total_texts: int, seed: int) -> list[tuple[str, str, list[str]]]:
    """(language, original, distinct texts) per campaign, ``total_texts`` texts in all."""
    rng = random.Random(seed)
    origs = [(lang, t) for lang, rows in originals(load_scams()).items() for _, t, _ in rows]
    rng.shuffle(origs)
    per = max(1, math.ceil(total_texts / len(origs)))
    count = min(len(origs), math.ceil(total_texts / per))
    makers = list(VARIANTS.values())
    out = []
    for lang, original in origs[:count]:
        texts = {original}
        tries = 0
        while len(texts) < per and tries < per * 5:
            texts.add(rng.choice(makers)(original, lang, rng))
            tries += 1
        out.append((lang, original, sorted(texts)))
    return out


def schedule(camps: list[tuple[str, str, list[str]]], copies: int, active: int,
             seed: int) -> list[tuple[int, int]]:
    """(campaign, text) per message, in the order the line reports them."""
    rng = random.Random(seed + 1)
    order: list[tuple[int, int]] = []
    for start in range(0, len(camps), active):
        wave = [(c, t) for c in range(start, min(start + active, len(camps)))
                for t in range(len(camps[c][2])) for _ in range(copies)]
        rng.shuffle(wave)
        order.extend(wave)
    return order


def body(camps: list[tuple[str, str, list[str]]], part: list[tuple[int, int]], first: int,
         pools: list[list[str]], rng: random.Random) -> bytes:
    base = 1_795_000_000  # 2026-11-18
    lines = []
    for i, (c, t) in enumerate(part):
        lang = camps[c][0]
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + (first + i) // 10))
        lines.append(orjson.dumps({"text": camps[c][2][t], "channel": "sms",
                                   "sender": rng.choice(pools[c]), "country": COUNTRY[lang],
                                   "received": at, "reporter_ref": f"{c}.{t}"}))
    return b"\n".join(lines)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYANIHAN_")}
    proc = subprocess.Popen([sys.executable, "-m", "bayanihan", "serve", "--port", str(port),
                             "--database", url], cwd=workdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("hub did not start")
        time.sleep(0.2)


def prepare_peer(camps: list[tuple[str, str, list[str]]], order: list[tuple[int, int]],
                 pools: list[list[str]], n: int) -> float:
    """Messages/s of check + prepare alone, in this process, on the run's first messages."""
    rng = random.Random(3)
    raws = [body(camps, order[i:i + MAX_BATCH], i, pools, rng)
            for i in range(0, min(n, len(order)), MAX_BATCH)]
    t0 = time.perf_counter()
    done = sum(len(prepare(check_batch(parse_body(raw)))) for raw in raws)
    return done / (time.perf_counter() - t0)


def recovery(url: str, camps: list[tuple[str, str, list[str]]]) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        pairs = conn.execute(text("SELECT DISTINCT reporter_ref, cluster_id FROM message_raw")).all()
    engine.dispose()
    cluster_of: dict[tuple[int, int], int] = {}
    for ref, cid in pairs:
        c, t = map(int, ref.split("."))
        cluster_of[(c, t)] = cid
    by_camp: dict[int, Counter[int]] = defaultdict(Counter)
    by_cluster: dict[int, Counter[int]] = defaultdict(Counter)
    for (c, _t), cid in cluster_of.items():
        by_camp[c][cid] += 1
        by_cluster[cid][c] += 1
    main = {c: cnt.most_common(1)[0][0] for c, cnt in by_camp.items()}
    hit = sum(1 for (c, _t), cid in cluster_of.items() if main[c] == cid)
    wrong = excused = 0
    for cnt in by_cluster.values():
        owner = cnt.most_common(1)[0][0]
        for c, n in cnt.items():
            if c == owner:
                continue
            wrong += n
            a, b = camps[c][1], camps[owner][1]
            if difflib.SequenceMatcher(None, a, b).ratio() >= 0.8:
                excused += n
    total = len(cluster_of)
    print(f"\n## Planted campaigns: {len(camps)} campaigns, {total} distinct texts, "
          f"{len(by_cluster)} clusters")
    print(f"- recall (distinct texts in their campaign's main cluster): {hit / total:.4f}")
    print(f"- wrong links (texts folded into another campaign's cluster): {wrong / total:.4f} "
          f"strict, {(wrong - excused) / total:.4f} with same-template originals excused")
    whole = sum(1 for c, cnt in by_camp.items() if len(cnt) == 1)
    print(f"- campaigns recovered whole (one cluster): {whole / len(camps):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--copies", type=int, default=20, help="messages per distinct text")
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--active", type=int, default=40, help="campaigns reported at once")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--postgres", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    camps = campaigns(max(1, args.messages // args.copies), args.seed)
    order = schedule(camps, args.copies, args.active, args.seed)[:args.messages]
    rng = random.Random(args.seed + 2)
    pools = [[sender(lang, rng) for _ in range(SENDERS_PER_CAMPAIGN)] for lang, _, _ in camps]
    distinct = len({(c, t) for c, t in order})
    print(f"# Message intake: {len(order):,} messages, {distinct:,} distinct texts "
          f"(duplication {len(order) / distinct:.1f} messages per text), {len(camps):,} "
          f"campaigns, batches of {args.batch:,}")
    print(f"machine: {machine()}; generated in {time.perf_counter() - t0:.1f} s")
    peer = prepare_peer(camps, order, pools, min(20_000, len(order)))
    print(f"peer: check + prepare alone, in-process: {peer:,.0f} messages/s")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = (postgres_url("bayanihan_bench_messages") if args.postgres
               else f"sqlite:///{work / 'hub.db'}")
        if url is None:
            raise SystemExit("--postgres needs BAYANIHAN_BENCH_PG_URL or BAYANIHAN_TEST_PG_URL")
        hub = Hub(Settings(database_url=url, data_dir=str(work)))
        hub.open()
        hub.db.write_sync(orgs.seed_asean, audit.Actor.console())
        key, _ = hub.db.write_sync(keys.create, audit.Actor.console(), "TH", keys.Role.ANALYST)
        hub.close()
        proc, base = start_server(url, work)
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}\n")
        print("| messages | window messages/s | cumulative messages/s | server peak RSS (MB) |")
        print("|---|---|---|---|")
        window = max(args.batch, len(order) // 10 // args.batch * args.batch)
        try:
            with httpx.Client(base_url=base, timeout=600, headers={
                    "Authorization": f"Bearer {key}",
                    "Content-Type": "application/x-ndjson"}) as client:
                start = w_start = time.perf_counter()
                w_done = 0
                for first in range(0, len(order), args.batch):
                    part = order[first:first + args.batch]
                    r = client.post("/api/v1/messages", content=body(camps, part, first, pools,
                                                                      rng))
                    if r.status_code != 200:
                        raise SystemExit(f"batch at {first}: {r.status_code} {r.text[:300]}")
                    done = first + len(part)
                    if done - w_done >= window or done == len(order):
                        now = time.perf_counter()
                        print(f"| {done:,} | {(done - w_done) / (now - w_start):,.0f} | "
                              f"{done / (now - start):,.0f} | {peak_rss_mb(proc.pid):,.0f} |",
                              flush=True)
                        w_done, w_start = done, now
            total = time.perf_counter() - start
            print(f"\noverall: {len(order) / total:,.0f} messages/s over {total:,.1f} s; "
                  f"server peak RSS {peak_rss_mb(proc.pid):,.0f} MB")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        recovery(url, camps)


if __name__ == "__main__":
    main()
