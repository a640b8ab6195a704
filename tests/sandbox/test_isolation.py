"""A misbehaving tool cannot take the harness down, and each misdeed lands on its case."""

from __future__ import annotations

import os
import sys

import pytest

from bayanihan.sandbox import Limits, RunOptions, SandboxError, Suite, parse_tool, run
from bayanihan.sandbox.isolation import network_namespace_available
from bayanihan.sandbox.runner import Session
from bayanihan.sandbox.suite import Case

from .conftest import BAD_TOOL, HERE

LIMITS = Limits(case_timeout=1.0, memory_bytes=512 << 20, output_line_bytes=1 << 20,
                batch_size=64)
needs_netns = pytest.mark.skipif(  # in CI (CI=true) the tests run, and fail without namespaces
    not network_namespace_available() and os.environ.get("CI") != "true",
    reason="network namespaces not available on this machine")


def bad_cases(port: int) -> list[dict]:
    texts = ["hello there"] * 4 + ["CRASH now", "win a prize", "SLEEP forever", "FLOOD",
                                   "ALLOC lots", f"CONNECT {port} home", "GARBAGE please",
                                   "click to claim", "see you"]
    return [{"id": f"c{i}", "text": t} for i, t in enumerate(texts)]


EXPECTED = {"c4": "crash", "c6": "timeout", "c7": "output_flood", "c8": "memory_exceeded"}


@needs_netns
def test_bad_command_tool_is_contained_case_by_case(listener):
    cases = bad_cases(listener.port)
    session = Session([sys.executable, str(BAD_TOOL)], LIMITS, netns=True)
    verdicts = {v.case_id: v for v in session.run(cases)}
    assert len(verdicts) == len(cases)
    for case_id, outcome in {**EXPECTED, "c10": "malformed"}.items():
        assert verdicts[case_id].outcome == outcome, verdicts[case_id]
    others = set(verdicts) - set(EXPECTED) - {"c10"}
    assert all(verdicts[c].outcome == "ok" for c in others)
    assert verdicts["c5"].label == "scam" and verdicts["c11"].label == "scam"
    assert [c for c, v in verdicts.items() if v.network_attempts] == ["c9"]
    assert any("127.0.0.1" in a for a in verdicts["c9"].network_attempts)
    assert listener.accepted == 0  # the connection attempt never reached the host


@needs_netns
def test_python_callable_errors_are_recorded_without_restart(listener):
    cases = [*bad_cases(listener.port), {"id": "r1", "text": "RAISE"}]
    session = Session(parse_tool("py:badtool:classify", [str(HERE)]).argv, LIMITS, netns=True,
                      pythonpath=[str(HERE)])
    verdicts = {v.case_id: v for v in session.run(cases)}
    assert verdicts["r1"].outcome == "crash" and "ValueError" in verdicts["r1"].detail
    assert verdicts["c8"].outcome == "memory_exceeded"
    assert verdicts["c4"].outcome == "crash"
    assert verdicts["c9"].outcome == "ok"
    assert verdicts["c9"].network_attempts, "audit hook should name the case"
    assert listener.accepted == 0


def test_without_namespace_python_tools_are_refused_the_network(listener):
    cases = [{"id": "n1", "text": f"CONNECT {listener.port} x"}, {"id": "n2", "text": "hi"}]
    session = Session(parse_tool("py:badtool:classify", [str(HERE)]).argv, LIMITS, netns=False,
                      pythonpath=[str(HERE)])
    verdicts = session.run(cases)
    assert verdicts[0].network_attempts and not verdicts[1].network_attempts
    assert listener.accepted == 0


@needs_netns
def test_kernel_counter_catches_non_python_network_use(listener, tmp_path):
    # python -I ignores PYTHONPATH, so no audit hook: only the namespace's counter sees it.
    script = tmp_path / "dialer.py"
    script.write_text(
        "import json, socket, sys\n"
        "for line in sys.stdin:\n"
        "    case = json.loads(line)\n"
        "    if 'CONNECT' in case['text']:\n"
        "        try: socket.create_connection(('127.0.0.1', int(case['text'].split()[1])), 1)\n"
        "        except OSError: pass\n"
        "    print(json.dumps({'id': case['id'], 'label': 'ham'}), flush=True)\n")
    cases = [{"id": "a", "text": "hi"}, {"id": "b", "text": f"CONNECT {listener.port}"}]
    limits = Limits(case_timeout=2.0, batch_size=1)
    verdicts = Session([sys.executable, "-I", str(script)], limits, netns=True).run(cases)
    assert not verdicts[0].network_attempts
    assert verdicts[1].network_attempts and "kernel counter" in verdicts[1].network_attempts[0]
    assert listener.accepted == 0


def test_run_timeout_counts_unfinished_cases_as_not_run():
    cases = [{"id": "s", "text": "SLEEP"}, {"id": "t", "text": "hi"}]
    limits = Limits(case_timeout=30.0, run_timeout=1.0)
    verdicts = Session([sys.executable, str(BAD_TOOL)], limits, netns=False).run(cases)
    assert [v.outcome for v in verdicts] == ["not_run", "not_run"]


@needs_netns
def test_card_of_bad_tool_fails_and_counts_every_failure(listener, bad_tool_cmd):
    cases = tuple(Case(c["id"], "scam" if i % 2 else "ham", text=c["text"], language="en")
                  for i, c in enumerate(bad_cases(listener.port)))
    suite = Suite("bad", "text", cases)
    card = run(parse_tool(bad_tool_cmd), suite, options=RunOptions(
        split="all", mutators=["truncation"], limits=LIMITS)).card
    totals = card["outcomes_total"]
    assert totals["crash"] >= 1 and totals["timeout"] >= 1 and totals["memory_exceeded"] >= 1
    assert totals["output_flood"] >= 1 and totals["network_attempt_cases"] >= 1
    assert card["grade"] == "fail"
    assert {"network_attempts_max", "crashes_max", "timeouts_max"} <= set(card["failing"])
    assert card["isolation"]["network_namespace"] is True
    assert card["principles"]["privacy and data governance"]["verdict"] == "fail"
    assert listener.accepted == 0


def test_tool_that_never_starts_is_given_up_and_every_case_counted(tmp_path):
    (tmp_path / "broken.py").write_text("raise ImportError('missing model file')\n")
    tool = parse_tool("py:broken:classify", [str(tmp_path)])
    cases = [{"id": f"x{i}", "text": "hi"} for i in range(40)]
    limits = Limits(case_timeout=1.0, give_up_after=5)
    session = Session(tool.argv, limits, netns=False, pythonpath=tool.pythonpath)
    verdicts = session.run(cases)
    assert {v.outcome for v in verdicts} == {"crash"}
    assert session.restarts == 5
    assert "missing model file" in verdicts[-1].detail


def test_program_that_cannot_start_is_a_clear_error(tmp_path):
    script = tmp_path / "tool.sh"
    script.write_text("#!/bin/sh\n")  # not executable
    with pytest.raises(SandboxError, match="cannot start"):
        Session([str(script)], LIMITS, netns=False).run([{"id": "a", "text": "x"}])
