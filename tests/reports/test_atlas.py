"""MITRE ATLAS: the release bundle loads (repaired) and techniques are found by id."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bayanihan.cli.ingest_files import ingest_file
from bayanihan.hub import Hub
from bayanihan.ingest.report_submit import find_techniques
from bayanihan.model.atlas import is_technique_id, repair, techniques_by_id
from bayanihan.model.members import OrgKind
from bayanihan.model.validation import validate
from bayanihan.share.policy import Reader, visible
from tests.conftest import seed


def test_repair_makes_every_object_valid(atlas_raw: bytes) -> None:
    objects = json.loads(atlas_raw)["objects"]
    fixed, notes = repair(objects)
    assert len(fixed) == len(objects) == 538
    assert len({o["id"] for o in fixed}) == len(fixed)  # no id used twice any more
    assert [validate(o) for o in fixed if validate(o)] == []
    assert sum("before created" in n for n in notes) == 2
    assert sum("used twice" in n for n in notes) == 80  # 114 relationships share 34 ids
    assert not any("created_by_ref" in n for n in notes)  # kept as MITRE sent it (issue 11)
    assert repair(fixed)[1] == []  # repairing twice changes nothing more
    names = {k: v["name"] for k, v in techniques_by_id(fixed).items()}
    assert names["AML.T0052"] == "Phishing"
    assert "Deepfake" in names["AML.T0088"] or "deepfake" in names["AML.T0088"].lower()
    assert len(names) == 170


def test_operator_loads_atlas_and_reports_find_techniques(hub: Hub, atlas_raw: bytes,
                                                           tmp_path: Path) -> None:
    seed(hub)
    path = tmp_path / "stix-atlas.json"
    path.write_bytes(atlas_raw)
    result, lines = ingest_file(hub, path, "atlas", "HUB", None)
    assert (result.accepted, result.rejected) == (538, 0)
    assert lines[-1] == "538 accepted, 0 rejected"
    again, _ = ingest_file(hub, path, "atlas", "HUB", None)  # the same release twice
    assert again.rejected == 0 and again.stored == []
    member = visible(Reader(org="VN", kind=OrgKind.MEMBER))
    found = hub.db.read_sync(find_techniques, ["AML.T0052", "AML.T0088", "AML.T9999"], member)
    assert set(found) == {"AML.T0052", "AML.T0088"}
    assert found["AML.T0052"] == "attack-pattern--c9a9741c-6c66-5456-807f-1d47140851a9"
    partner = visible(Reader(org="JPCERT", kind=OrgKind.PARTNER))  # loaded at AMBER (default)
    # the partner cannot read the AMBER copy; the packaged catalogue (public) still names it
    assert hub.db.read_sync(find_techniques, ["AML.T0052"], partner) == {
        "AML.T0052": "attack-pattern--c9a9741c-6c66-5456-807f-1d47140851a9"}


def _by_hand(value: str) -> bool:
    head = value.removeprefix("AML.")
    ascii_digits = set("0123456789")
    if not head.startswith("T") or len(head) not in (5, 9) or not set(head[1:5]) <= ascii_digits:
        return False
    return len(head) == 5 or (head[5] == "." and set(head[6:]) <= ascii_digits)


@given(st.one_of(st.text(max_size=12),
                 st.from_regex(r"(aml\.|AML\.)?[tT][0-9٠-٩]{4}(\.[0-9]{3})?\n?", fullmatch=True)))
def test_technique_ids_follow_the_mitre_grammar(text: str) -> None:
    assert is_technique_id(text) == _by_hand(text.strip().upper())
