"""The baseline on real regional SMS: the cross-language gap shows and fails the card."""

from __future__ import annotations

import pytest

from bayanihan.sandbox import RunOptions, baseline, datasets, parse_tool, run


@pytest.mark.slow
def test_english_trained_baseline_fails_fairness_on_philippine_sms(sms_data, tmp_path):
    english = datasets.uci_english(sms_data)
    trained = baseline.train(english, tmp_path / "uci.pkl")
    assert trained["split"] == "train" and trained["sha256"] == english.sha256
    ph = datasets.philippine(sms_data, ham=english)
    assert not {c.id for c in english.select("train")} & {c.id for c in ph.cases}
    card = run(parse_tool(baseline.tool_spec(tmp_path / "uci.pkl")), ph,
               options=RunOptions(mutators=["code_mixing"])).card
    recall = card["metrics"]["fairness"]["languages"]
    assert recall["tl"] < recall["en"] - 0.3, recall
    assert card["metrics"]["overall"]["fpr"]["value"] < 0.05  # English ham stays quiet
    verdicts = {c["id"]: c["verdict"] for c in card["criteria"]}
    assert verdicts["fairness_gap_max"] == "fail"
    assert verdicts["recall_min_per_language"] == "fail"
    assert card["outcomes_total"]["ok"] == card["timing"]["cases"]
    assert card["isolation"]["network_namespace"] in (True, False)
    assert card["grade"] == "fail"
