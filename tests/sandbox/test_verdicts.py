"""Whatever a tool writes back, the harness turns it into exactly one recorded outcome."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bayanihan.sandbox import SandboxError
from bayanihan.sandbox.runner import fill_verdict
from bayanihan.sandbox.suite import parse_case
from bayanihan.sandbox.verdict import OUTCOMES, Verdict

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8)
answers = st.fixed_dictionaries(
    {"id": st.just("c1")},
    optional={"label": json_values, "score": json_values, "error": json_values,
              "detail": json_values})


@given(answers)
def test_any_answer_object_gives_one_valid_outcome(obj):
    verdict = Verdict("c1")
    fill_verdict(verdict, obj)
    assert verdict.outcome in OUTCOMES
    if verdict.outcome == "ok":
        assert isinstance(verdict.label, str) and verdict.label
        assert verdict.score is None or 0.0 <= verdict.score <= 1.0
    else:
        assert verdict.label is None and verdict.detail


@given(st.dictionaries(st.sampled_from(["id", "label", "text", "path", "language", "split",
                                        "extra"]), json_values))
def test_case_parser_accepts_or_names_the_line(obj):
    try:
        case = parse_case(obj, "suite.jsonl:7")
    except SandboxError as err:
        assert err.field == "suite.jsonl:7" and err.reason
    else:
        assert case.id == obj["id"] and case.label == obj["label"]
