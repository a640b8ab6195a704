"""Fuzz the hub's own OpenAPI document with schemathesis against a real server on loopback.

    python benchmarks/fuzz.py --cases 10000            # the issue-13 run: >= 10,000 cases
    python benchmarks/fuzz.py --cases 300 --roles analyst --seed 13   # what CI runs

A fresh hub (SQLite by default, ``--database URL`` for another) is seeded with the eleven
member states and one key per role (analyst and reader of TH, admin of the operator HUB);
``bayanihan serve`` runs in a subprocess on 127.0.0.1. schemathesis (``st run``) is run per
role with ``--checks all`` and a fixed seed, round after round (seed + 1 each round, more
examples per operation) until at least ``--cases`` test cases were generated in total.
The gate is the absence of server errors (ST101, any 5xx); failures of the other checks
(schema conformance, negative data accepted…) are counted and listed, not fatal.

The live stream (``GET /api/v1/stream``) is left out: it never ends by design, so every case
would wait for the request timeout; it is covered by tests/realtime/.
Prints a summary and writes it as JSON (``--out``); exits 1 on any 5xx.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import hub_process, machine

EXCLUDED = ("/api/v1/stream",)
ROLES = {"analyst": ("TH", "analyst"), "reader": ("TH", "reader"), "admin": ("HUB", "admin")}
SERVER_ERROR = "ST101"


@dataclass
class Outcome:
    """The sum of every schemathesis round."""

    cases: int = 0
    rounds: int = 0
    server_errors: dict[str, int] = field(default_factory=dict)   # operation -> count
    other_failures: dict[str, list[str]] = field(default_factory=dict)  # check -> operations
    operations: int = 0
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.server_errors


def prepare(database_url: str, workdir: Path) -> dict[str, str]:
    """Migrate and seed the hub; one key per role. Returns role -> key."""
    from bayanihan.config import Settings
    from bayanihan.hub import Hub
    from bayanihan.store import audit, keys
    from bayanihan.store import organisations as orgs

    hub = Hub(Settings(database_url=database_url, data_dir=str(workdir)))
    hub.open()
    try:
        console = audit.Actor.console()
        if not hub.db.read_sync(lambda c: orgs.get(c, "TH")):
            hub.db.write_sync(orgs.seed_asean, console)
        return {role: hub.db.write_sync(keys.create, console, org, keys.Role(name))[0]
                for role, (org, name) in ROLES.items()}
    finally:
        hub.close()


def st_run(base: str, key: str, seed: int, examples: int, report_dir: Path,
           checks: str, workers: int) -> tuple[dict[str, object], str]:
    """One ``st run``; returns its JSON report and its console output."""
    st = Path(sys.executable).with_name("st")
    cmd = [str(st) if st.exists() else "schemathesis", "run", f"{base}/openapi.json",
           "-H", f"Authorization: Bearer {key}", "--checks", checks,
           "--max-examples", str(examples), "--seed", str(seed), "--workers", str(workers),
           "--request-timeout", "60", "--no-shrink", "--report", "json",
           "--report-dir", str(report_dir)]
    for path in EXCLUDED:
        cmd += ["--exclude-path", path]
    before = set(report_dir.glob("json-*.json"))
    done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env={**os.environ, "NO_COLOR": "1"})
    made = sorted(set(report_dir.glob("json-*.json")) - before)
    if not made:
        raise RuntimeError(f"schemathesis wrote no report:\n{done.stdout[-3000:]}{done.stderr}")
    return json.loads(made[-1].read_text()), done.stdout


def failures_text(console: str) -> str:
    """The FAILURES section of st's output (curl lines to reproduce each failure)."""
    start = console.find("= FAILURES =")
    end = console.find("= WARNINGS =")
    return console[start:end if end > start else None].strip() if start >= 0 else ""


def fuzz(base: str, keys_by_role: dict[str, str], cases: int, seed: int, report_dir: Path,
         checks: str = "all", workers: int = 1, examples: int = 10) -> Outcome:
    outcome = Outcome()
    started = time.monotonic()
    roles = list(keys_by_role)
    while outcome.cases < cases:
        role = roles[outcome.rounds % len(roles)]
        report, console = st_run(base, keys_by_role[role], seed + outcome.rounds,
                                 examples, report_dir, checks, workers)
        outcome.rounds += 1
        outcome.cases += int(report["test_cases"]["generated"])  # type: ignore[index]
        outcome.operations = max(outcome.operations,
                                 int(report["operations"]["tested"]))  # type: ignore[index]
        for failure in report["failures"]:  # type: ignore[union-attr]
            if failure["code"] == SERVER_ERROR:
                for op in failure["operations"]:
                    outcome.server_errors[op] = outcome.server_errors.get(op, 0) + 1
                outcome.details.append(f"[{role}, seed {seed + outcome.rounds - 1}]\n"
                                       + failures_text(console))
            else:
                ops = outcome.other_failures.setdefault(
                    f"{failure['code']} {failure['title']}", [])
                ops.extend(op for op in failure["operations"] if op not in ops)
        print(f"round {outcome.rounds} ({role}, seed {seed + outcome.rounds - 1}, "
              f"{examples} examples/operation): {outcome.cases} cases so far, "
              f"{sum(outcome.server_errors.values())} with a 5xx", flush=True)
        if outcome.rounds % len(roles) == 0:
            examples *= 2  # later rounds dig deeper into each operation
    outcome.seconds = time.monotonic() - started
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="test cases to generate, at least")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--roles", default="analyst,admin,reader",
                        help=f"comma-separated, of {', '.join(ROLES)}")
    parser.add_argument("--checks", default="all", help="schemathesis checks (default all)")
    parser.add_argument("--examples", type=int, default=10, help="first round's examples/operation")
    parser.add_argument("--database", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--out", type=Path, help="write the outcome as JSON here")
    args = parser.parse_args()
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    with tempfile.TemporaryDirectory(prefix="bayanihan-fuzz-") as tmp:
        workdir = Path(tmp)
        url = args.database or f"sqlite:///{workdir / 'hub.db'}"
        keys_by_role = {r: k for r, k in prepare(url, workdir).items() if r in roles}
        print(machine(), flush=True)
        with hub_process(url, workdir) as base:
            outcome = fuzz(base, keys_by_role, args.cases, args.seed, workdir / "reports",
                           args.checks, examples=args.examples)
    print(f"\n{outcome.cases} cases over {outcome.operations} operations in {outcome.rounds} "
          f"rounds, {outcome.seconds:.0f} s; server errors: {outcome.server_errors or 'none'}")
    for check, ops in sorted(outcome.other_failures.items()):
        print(f"  {check}: {', '.join(sorted(ops))}")
    for text in outcome.details:
        print(text)
    if args.out:
        args.out.write_text(json.dumps({**asdict(outcome), "machine": machine(),
                                        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                        "command": " ".join(sys.argv)}, indent=2))
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
