"""Harness overhead: cases per second through the isolation boundary with a trivial tool.

10,000 synthetic cases x 8 text mutators (+ the clean cases) through one long-lived,
isolated tool process (private network namespace when available, rlimits, clean env).
Prints the isolation-boundary rate (tool session only) and the whole-run rate (mutation,
session, metrics and card). Bounded: a few minutes at most; loopback only.

    python benchmarks/sandbox.py [--cases 10000] [--batch-size 512]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from bayanihan.sandbox import Limits, RunOptions, Suite, parse_tool, run
from bayanihan.sandbox.harness import build_cases
from bayanihan.sandbox.isolation import network_namespace_available
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
            f"load avg {load[0]:.2f}, netns {network_namespace_available()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=512)
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
        for netns in (True, False):
            session = Session(tool.argv, limits, netns=netns and network_namespace_available(),
                              pythonpath=tool.pythonpath)
            t0 = time.monotonic()
            verdicts = session.run(wire)
            took = time.monotonic() - t0
            ok = sum(v.outcome == "ok" for v in verdicts)
            print(f"isolation boundary (netns={session.netns}): {len(wire)} cases, {ok} ok, "
                  f"{took:.2f} s -> {len(wire) / took:,.0f} cases/s")
        t0 = time.monotonic()
        card = run(tool, suite, options=RunOptions(limits=limits)).card
        took = time.monotonic() - t0
        print(f"whole run (mutate + isolate + metrics + card): {card['timing']['cases']} cases "
              f"in {took:.2f} s -> {card['timing']['cases'] / took:,.0f} cases/s; "
              f"session alone {card['timing']['cases_per_second']:,.0f} cases/s")
    print("command:", " ".join([sys.executable, *sys.argv]))


if __name__ == "__main__":
    main()
