"""Metrics, worst-of grading, principle mapping, and reproducible report cards."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from bayanihan.sandbox import RunOptions, SandboxError, Suite, parse_tool, run, stable_view
from bayanihan.sandbox.metrics import evaluate
from bayanihan.sandbox.policy import PRINCIPLES, load_policy
from bayanihan.sandbox.render import render_html
from bayanihan.sandbox.suite import Case, shipped_suite
from bayanihan.sandbox.verdict import Verdict

from .conftest import BAD_TOOL


def test_failures_count_as_misses_never_dropped():
    cases = [Case(f"p{i}", "scam", text="x", language="en") for i in range(4)] + \
            [Case(f"n{i}", "ham", text="x", language="en") for i in range(4)]
    verdicts = [Verdict("p0", label="scam"), Verdict("p1", label="scam"),
                Verdict("p2", "timeout"), Verdict("p3", "crash"),
                Verdict("n0", label="scam"), Verdict("n1", label="ham"),
                Verdict("n2", "malformed"), Verdict("n3", label="ham")]
    m = evaluate(cases, verdicts, ["scam"], seed=1)
    assert m["overall"]["recall"]["value"] == 0.5
    assert m["overall"]["fpr"]["value"] == 0.25
    assert m["overall"]["precision"]["value"] == pytest.approx(2 / 3, abs=1e-4)
    low, high = m["overall"]["recall"]["ci95"]
    assert low <= 0.5 <= high
    assert m["outcomes"]["timeout"] == 1 and m["outcomes"]["crash"] == 1


def _lang_suite(n: int = 40) -> Suite:
    cases = [Case(f"en{i}", "scam", text="win a prize now", language="en") for i in range(n)]
    cases += [Case(f"tl{i}", "scam" if i % 4 else "ham",
                   text="win panalo" if i % 8 == 1 else "panalo ka ng load", language="tl")
              for i in range(n)]
    cases += [Case(f"h{i}", "ham", text="see you at lunch", language="en") for i in range(n)]
    return Suite("langs", "text", tuple(cases))


def test_one_failing_language_fails_fairness_no_averaging(bad_tool_cmd):
    card = run(parse_tool(bad_tool_cmd), _lang_suite(),
               options=RunOptions(split="all", mutators=[])).card
    by_id = {c["id"]: c for c in card["criteria"]}
    assert by_id["recall_min_per_language"]["verdict"] == "fail"
    assert by_id["recall_min_per_language"]["evidence"]["failing"] == ["tl"]
    assert by_id["fairness_gap_max"]["verdict"] == "fail"
    assert card["principles"]["fairness and equity"]["verdict"] == "fail"
    assert card["grade"] == "fail"
    assert set(card["principles"]) == set(PRINCIPLES)


def test_same_tool_suite_seed_give_the_same_card(bad_tool_cmd):
    tool, suite = parse_tool(bad_tool_cmd), shipped_suite()
    first = run(tool, suite, options=RunOptions(seed=11)).card
    second = run(tool, suite, options=RunOptions(seed=11)).card
    other = run(tool, suite, options=RunOptions(seed=12)).card
    assert first["run"]["id"] != second["run"]["id"]
    assert stable_view(first) == stable_view(second)
    assert stable_view(first)["robustness"] != stable_view(other)["robustness"]
    assert first["suite"]["sha256"] == suite.sha256 and first["seed"] == 11
    assert first["tool"]["sha256"] == tool.sha256 and str(BAD_TOOL) in first["tool"]["hashed"]


def test_vendor_checklist_keeps_a_passing_card_incomplete(tmp_path, bad_tool_cmd):
    policy = tmp_path / "p.toml"
    policy.write_text('name = "lenient"\n[criteria]\ncrashes_max = 0\n'
                      '[[checklist]]\nid = "human-override"\nanswer = "yes"\n'
                      'evidence = "Vendor SOP 4.2"\n')
    card = run(parse_tool(bad_tool_cmd), shipped_suite(), load_policy(policy)).card
    assert [c["verdict"] for c in card["criteria"]] == ["pass"]
    assert card["grade"] == "unanswered"
    item = next(i for i in card["checklist"] if i["id"] == "human-override")
    assert item["answer"] == "yes" and item["evidence"] == "Vendor SOP 4.2"
    assert card["principles"]["human-centricity"]["verdict"] == "pass"
    assert card["principles"]["transparency and explainability"]["verdict"] == "unanswered"


@pytest.mark.parametrize(("body", "field"), [
    ("[criteria]\nrecal_min = 0.9\n", "criteria.recal_min"),
    ("[criteria]\nrecall_min = 'high'\n", "criteria.recall_min"),
    ("[criteria\n", "p.toml"),
    ('[[checklist]]\nid = "nope"\n', "checklist[0]"),
])
def test_bad_policy_is_refused_naming_the_key(tmp_path, body, field):
    path = tmp_path / "p.toml"
    path.write_text(body)
    with pytest.raises(SandboxError) as err:
        load_policy(path)
    assert field in err.value.field


def test_html_card_is_self_contained_with_charts(bad_tool_cmd):
    card = run(parse_tool(bad_tool_cmd), _lang_suite(), options=RunOptions(split="all")).card
    html = render_html(card)
    assert html.count("<svg") == 2
    assert not re.search(r"""(src|href)=["']?https?:""", html)
    assert "FAIL" in html and card["suite"]["sha256"] in html
    assert "human-centricity" in html and card["tool"]["sha256"] in html


def test_http_endpoint_tool_on_loopback(http_tool):
    tiny = shipped_suite()
    suite = Suite("h", "text", (*tiny.cases, Case("boom", "ham", text="CRASH", split="test")))
    result = run(parse_tool(http_tool), suite, options=RunOptions(mutators=[]))
    card = result.card
    assert card["outcomes_total"]["ok"] == len(tiny.cases)
    outcome = {v.case_id: v.outcome for v in result.verdicts}
    assert outcome["boom"] == "crash"  # the endpoint answers 500 when a case says CRASH
    labels = {v.case_id: v.label for v in result.verdicts}
    assert labels["tiny-en-1"] == "scam" and labels["tiny-en-3"] == "ham"
    assert card["isolation"]["network_namespace"] is False
    assert "not applicable" in card["isolation"]["network"]


def test_http_endpoint_outside_allowed_addresses_is_refused():
    with pytest.raises(SandboxError, match="not in the operator's allowed"):
        parse_tool("http://192.0.2.10:8080/classify")


def test_python_tool_in_missing_module_is_refused():
    with pytest.raises(SandboxError, match="not found"):
        parse_tool("py:no_such_module_xyz:f")
    assert Path(sys.executable).exists()
