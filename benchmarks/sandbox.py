"""Harness overhead: cases per second through the isolation boundary with a trivial tool,
and the start-up cost of one isolated tool process.

10,000 synthetic cases x 8 text mutators (+ the clean cases) through one long-lived tool
process, confined three ways: bubblewrap (namespaces, read-only view, seccomp, pids cgroup,
rlimits, clean env: the default), rlimits + network namespace only (what an
``--unsafe-no-isolation`` run gets) and rlimits only. Then ``--starts`` fresh tool processes
each answering one case, per confinement: the cost a restart adds. Finally a whole run
(mutation, session, metrics and card). Bounded: a few minutes at most; loopback only.

    python benchmarks/sandbox.py [--cases 10000] [--batch-size 512] [--starts 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bayanihan.sandbox import Limits, RunOptions, Suite, bwrap, parse_tool, pidlimit, run, seccomp
from bayanihan.sandbox.harness import build_cases
from bayanihan.sandbox.isolation import Confinement, confinement_for, network_namespace_available
from bayanihan.sandbox.mutators import TEXT_MUTATORS
from bayanihan.sandbox.runner import Session
from bayanihan.sandbox.suite import Case

TRIVIAL = '''
def classify(case):
    return "scam" if "http" in case["text"] else "ham", 0.5
'''
TEMPLATES = ("Your parcel is held. Pay {n} USD at http://parcel{n}.example.com now",
             "Nanalo ka ng {n} pesos! I-click ang http://premyo{n}.example.org",
             "See you at {n} pm for lunch, bring the slides",
             "Tahniah! Anda menang RM{n}. Klik sekarang")


def synthetic_suite(n: int) -> Suite:
    rng = random.Random(0)
    cases = tuple(Case(f"b{i}", "scam" if i % 4 != 2 else "ham",
                       text=TEMPLATES[i % 4].format(n=rng.randrange(10, 99999)),
                       language=("en", "tl", "en", "ms")[i % 4], split="test")
                  for i in range(n))
    return Suite("bench", "text", cases)


def machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"load avg {load[0]:.2f}, netns {network_namespace_available()}, "
            f"bubblewrap {bwrap.usable()}, seccomp {seccomp.program() is not None}, "
            f"pids cgroup {pidlimit.hierarchy() is not None}")


def confinements(argv: list[str], pythonpath: list[str]) -> dict[str, Confinement]:
    """The ways a tool can be confined here, strongest first."""
    wrapped = confinement_for(argv, pythonpath, netns=True, unsafe_no_isolation=False)
    readable = wrapped.readable
    return {"bubblewrap": wrapped,
            "rlimits+netns": Confinement(False, network_namespace_available(), readable),
            "rlimits only": Confinement(False, False, readable)}


def _median_start(argv: list[str], n: int) -> float:
    """Median milliseconds to start and finish ``argv`` (no Python: bubblewrap's own cost)."""
    times = []
    for _ in range(n):
        t0 = time.monotonic()
        subprocess.run(argv, check=True, env={}, stdin=subprocess.DEVNULL)
        times.append(time.monotonic() - t0)
    return 1000 * sorted(times)[n // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--starts", type=int, default=20)
    args = parser.parse_args()
    print("machine:", machine())
    suite = synthetic_suite(args.cases)
    names = list(TEXT_MUTATORS)
    limits = Limits(batch_size=args.batch_size, run_timeout=600)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "trivial.py").write_text(TRIVIAL)
        tool = parse_tool("py:trivial:classify", [tmp])
        t0 = time.monotonic()
        wire, _, _ = build_cases(list(suite.cases), names, 0, "text")
        t_mut = time.monotonic() - t0
        print(f"mutation: {len(wire)} cases in {t_mut:.2f} s ({len(wire) / t_mut:,.0f}/s)")
        rates: dict[str, float] = {}
        for name, confined in confinements(tool.argv, tool.pythonpath).items():
            session = Session(tool.argv, limits, confined.netns, tool.pythonpath,
                              confined=confined)
            t0 = time.monotonic()
            verdicts = session.run(wire)
            took = time.monotonic() - t0
            ok = sum(v.outcome == "ok" for v in verdicts)
            rates[name] = len(wire) / took
            print(f"isolation boundary ({name}): {len(wire)} cases, {ok} ok, "
                  f"{took:.2f} s -> {rates[name]:,.0f} cases/s "
                  f"({1e6 / rates[name]:.1f} us/case)")
        extra = 1e6 / rates["bubblewrap"] - 1e6 / rates["rlimits only"]
        print(f"bubblewrap overhead per case vs rlimits only: {extra:+.1f} us")
        for name, confined in confinements(tool.argv, tool.pythonpath).items():
            times = []
            for i in range(args.starts):
                session = Session(tool.argv, limits, confined.netns, tool.pythonpath,
                                  confined=confined)
                t0 = time.monotonic()
                [verdict] = session.run([{"id": f"s{i}", "text": "hello"}])
                times.append(time.monotonic() - t0)
                assert verdict.outcome == "ok", verdict
            times.sort()
            print(f"start-up, one tool process answering one case ({name}): "
                  f"median {1000 * times[len(times) // 2]:.0f} ms, "
                  f"min {1000 * times[0]:.0f} ms, max {1000 * times[-1]:.0f} ms "
                  f"over {args.starts} starts")
        if bwrap.usable()[0]:
            plain = _median_start(["/usr/bin/true"], args.starts)
            wrapped = _median_start([str(bwrap.executable()), *bwrap.base_args(), "--",
                                     "/usr/bin/true"], args.starts)
            print(f"bubblewrap alone: /usr/bin/true median {plain:.1f} ms plain, "
                  f"{wrapped:.1f} ms in bubblewrap ({wrapped - plain:+.1f} ms per start)")
        t0 = time.monotonic()
        card = run(tool, suite, options=RunOptions(limits=limits)).card
        took = time.monotonic() - t0
        print(f"whole run (mutate + isolate + metrics + card): {card['timing']['cases']} cases "
              f"in {took:.2f} s -> {card['timing']['cases'] / took:,.0f} cases/s; "
              f"session alone {card['timing']['cases_per_second']:,.0f} cases/s")
    print("command:", " ".join([sys.executable, *sys.argv]))


if __name__ == "__main__":
    main()
