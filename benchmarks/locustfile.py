"""Load: locust, headless, on loopback, bounded in time (issue 13). Needs ``pip install locust``
(not a dependency of the hub or its tests).

    python benchmarks/locustfile.py --users 200 --minutes 5     # prepares a hub, runs, reports

prepares a fresh SQLite hub (``--database URL`` for another), one analyst key per simulated
client slot spread over the eleven member states (so the per-key write limit is what a real
member would meet), starts ``bayanihan serve`` on 127.0.0.1, and runs ``locust --headless``
on this same file. The mix per client, each waiting 1-3 s between tasks: posting a report
(2), polling the regional TAXII collection from where it left off (4), the check API with
five values (3); one client in ten holds a live stream (SSE) open for 30 s at a time and
reconnects. Prints throughput and p50/p99 per operation, errors, and the server's memory
(RSS of the server and its workers) after warm-up and at the end; ``--out`` writes JSON.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid

from locust import FastHttpUser, User, between, events, task

TAXII = "application/taxii+json;version=2.1"
REGIONAL = os.environ.get("BAYANIHAN_LOAD_COLLECTION", "")
KEYS = [k for k in os.environ.get("BAYANIHAN_LOAD_KEYS", "").split(",") if k]
_slot = itertools.count()


def _key() -> str:
    return KEYS[next(_slot) % len(KEYS)] if KEYS else ""


class Member(FastHttpUser):
    """A member CERT's tooling: reports, TAXII polls, check calls."""

    wait_time = between(1, 3)
    weight = 9

    def on_start(self) -> None:
        self.auth = {"Authorization": f"Bearer {_key()}"}
        self.added_after: str | None = None
        self.n = 0

    @task(2)
    def post_report(self) -> None:
        self.n += 1
        tag = uuid.uuid4().hex[:10]
        body = {"vector": "phishing", "channel": "sms", "title": f"Parcel fee SMS {tag}",
                "narrative": "SMS asking for a customs fee.",
                "observables": [f"https://parcel-{tag}.example/pay", f"parcel-{tag}.example"],
                "countries": ["TH"], "tlp": "green",
                "ai_involvement": {"assessment": "suspected", "confidence": 50}}
        with self.client.post("/api/v1/reports", json=body, headers=self.auth,
                              name="POST /api/v1/reports", catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")

    @task(4)
    def poll_taxii(self) -> None:
        params = f"?limit=100&added_after={self.added_after}" if self.added_after else "?limit=100"
        with self.client.get(f"/taxii2/api/collections/{REGIONAL}/objects/{params}",
                             headers={**self.auth, "Accept": TAXII},
                             name="GET /taxii2/…/objects/", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                return
            last = r.headers.get("X-TAXII-Date-Added-Last")
            if last:
                self.added_after = last

    @task(3)
    def check(self) -> None:
        items = [f"https://parcel-{uuid.uuid4().hex[:10]}.example/pay" for _ in range(4)]
        items.append("parcel-fee.example")
        with self.client.post("/api/v1/check", json={"items": items}, headers=self.auth,
                              name="POST /api/v1/check", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")


class Watcher(User):
    """A SOC dashboard: a live stream (SSE) held open 30 s at a time, then reopened.
    Reported as "stream (30 s held)": the time to the first byte, and the bytes received."""

    wait_time = between(0.5, 1.5)
    weight = 1

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {_key()}", "Accept": "text/event-stream"}

    @task
    def hold_stream(self) -> None:
        import httpx

        started = time.perf_counter()
        first: float | None = None
        received = 0
        error: Exception | None = None
        try:
            with httpx.stream("GET", f"{self.host}/api/v1/stream", headers=self.headers,
                              timeout=60) as r:
                if r.status_code != 200:
                    raise RuntimeError(f"status {r.status_code}")
                for chunk in r.iter_bytes():
                    if first is None:
                        first = time.perf_counter() - started
                    received += len(chunk)
                    if time.perf_counter() - started > 30:
                        break
        except Exception as exc:  # reported to locust as a failure
            error = exc
        events.request.fire(request_type="SSE", name="stream (30 s held)",
                            response_time=1000 * (first if first is not None else
                                                  time.perf_counter() - started),
                            response_length=received, exception=error, context={})


# -- the runner: python benchmarks/locustfile.py ----------------------------------------------
def _rss_kib(pid: int) -> int:
    """RSS of ``pid`` and its children (the validation worker), in KiB."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if int(entry) != pid and ppid != pid:
                continue
            with open(f"/proc/{entry}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
        except (OSError, StopIteration, ValueError):
            continue
    return total


def main() -> int:
    import argparse
    import csv
    import subprocess
    import sys
    import tempfile
    import threading
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import free_port, machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--spawn-rate", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before memory counts")
    parser.add_argument("--database")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from bayanihan.config import Settings
    from bayanihan.hub import Hub
    from bayanihan.share.collections import BY_ID
    from bayanihan.store import audit, keys
    from bayanihan.store import organisations as orgs

    with tempfile.TemporaryDirectory(prefix="bayanihan-load-") as tmp:
        work = Path(tmp)
        url = args.database or f"sqlite:///{work / 'hub.db'}"
        hub = Hub(Settings(database_url=url, data_dir=str(work)))
        hub.open()
        console = audit.Actor.console()
        members = [o.code for o in hub.db.write_sync(orgs.seed_asean, console)]
        tokens = [hub.db.write_sync(keys.create, console, members[i % len(members)],
                                    keys.Role.ANALYST)[0] for i in range(min(args.users, 100))]
        hub.close()
        port = free_port()
        env = {**os.environ, "BAYANIHAN_DATA_DIR": str(work)}
        server = subprocess.Popen([sys.executable, "-m", "bayanihan.cli", "serve", "--port",
                                   str(port), "--database", url], cwd=work, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        import httpx

        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the hub did not start")
            time.sleep(0.2)
        memory: list[tuple[float, int]] = []
        stop = threading.Event()
        started = time.monotonic()

        def sample() -> None:
            while not stop.wait(5):
                memory.append((time.monotonic() - started, _rss_kib(server.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        prefix = work / "locust"
        try:
            subprocess.run(
                [sys.executable, "-m", "locust", "-f", __file__, "--headless", "--host", base,
                 "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
                 "--run-time", f"{int(args.minutes * 60)}s", "--stop-timeout", "35",
                 "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
                env={**env, "BAYANIHAN_LOAD_KEYS": ",".join(tokens),
                     "BAYANIHAN_LOAD_COLLECTION": BY_ID["regional"].id},
                check=False, cwd=work)
        finally:
            stop.set()
            server.terminate()
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(30)
        with open(f"{prefix}_stats.csv") as f:
            rows = list(csv.DictReader(f))
        with open(f"{prefix}_failures.csv") as f:
            failures = list(csv.DictReader(f))
    after = [kib for t, kib in memory if t >= args.warmup] or [kib for _, kib in memory]
    result = {
        "machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join(sys.argv), "users": args.users, "minutes": args.minutes,
        "operations": [{"name": r["Name"], "requests": int(r["Request Count"]),
                        "failures": int(r["Failure Count"]),
                        "per_second": float(r["Requests/s"]), "p50_ms": r["50%"],
                        "p99_ms": r["99%"]} for r in rows],
        "failures": [{"name": f["Name"], "error": f["Error"], "count": f["Occurrences"]}
                     for f in failures],
        "rss_mib_after_warmup": round(after[0] / 1024, 1) if after else None,
        "rss_mib_end": round(after[-1] / 1024, 1) if after else None,
        "rss_mib_max": round(max(after) / 1024, 1) if after else None,
        # the last sample of each minute: growth that slows to a plateau is the caches and
        # allocator filling; growth at a steady slope to the end would be a leak
        "rss_mib_by_minute": [round(kib / 1024, 1) for _, kib in
                              {int(t // 60): (t, kib) for t, kib in memory}.values()],
    }
    if after:
        result["rss_growth_percent"] = round(100 * (after[-1] - after[0]) / after[0], 1)
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
