"""File suites: harmless synthetic samples and their polymorphic rewrites reach the tool."""

from __future__ import annotations

import sys

from bayanihan.sandbox import RunOptions, Suite, parse_tool, run
from bayanihan.sandbox.filemutators import synthetic_sample
from bayanihan.sandbox.suite import Case

HEADER_TOOL = """
import json, sys
for line in sys.stdin:
    case = json.loads(line)
    head = open(case["path"], "rb").read(64)
    bad = head.startswith(b"BAYANIHAN-SYNTHETIC") and b"evil" in head
    print(json.dumps({"id": case["id"], "label": "malicious" if bad else "benign"}), flush=True)
"""


def test_file_variants_are_written_and_judged(tmp_path):
    cases = []
    for i in range(20):
        family = "evil-family" if i % 2 else "good-family"
        path = tmp_path / f"s{i}.bin"
        path.write_bytes(synthetic_sample(family, 2048, i))
        cases.append(Case(f"s{i}", "malicious" if i % 2 else "benign", path=str(path)))
    tool = tmp_path / "header_tool.py"
    tool.write_text(HEADER_TOOL)
    suite = Suite("blobs", "file", tuple(cases))
    card = run(parse_tool(f"cmd:{sys.executable} {tool}"), suite,
               options=RunOptions(split="all")).card
    assert card["metrics"]["overall"]["recall"]["value"] == 1.0
    assert card["mutators"] == ["junk_insertion", "block_reordering", "reencoding"]
    robust = card["robustness"]
    assert robust["block_reordering"]["drop"] == 0.0  # header block stays in place
    assert robust["reencoding"]["recall"] < 1.0  # a packer stub hides the header
    assert card["outcomes_total"]["ok"] == 80
