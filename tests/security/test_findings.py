"""The issue-13 probe's findings, each held closed by a test that failed before its fix
(docs/security.md, "Security findings", names each finding and its test).

Input findings here; real-time ones (webhooks, revocation, logs) in test_findings_realtime.py,
processes in test_findings_processes.py.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bayanihan.api.strict_json import duplicate_key
from bayanihan.config import Settings
from bayanihan.hub import Hub
from bayanihan.model.tlp import TLP
from tests.conftest import RunningHub
from tests.stixgen import bundle, indicator
from tests.taxii.conftest import PUBLIC, REGIONAL, TAXII

MakeHub = Callable[..., RunningHub]
TAXII_HEADERS = {"Accept": TAXII, "Content-Type": TAXII}


def test_no_property_test_depends_on_the_machines_speed() -> None:
    assert hypothesis.settings.default.deadline is None


def test_database_files_and_folder_are_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    hub = Hub(Settings(database_url=f"sqlite:///{folder / 'hub.db'}", data_dir=str(folder)))
    hub.open()
    try:
        files = sorted(folder.glob("hub.db*"))
        assert {f.name for f in files} >= {"hub.db", "hub.db-wal", "hub.db-shm"}
        for f in [*files, folder / "bayanihan-admin.key"]:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    finally:
        hub.close()


def test_taxii_status_failures_carry_a_version(make_hub: MakeHub) -> None:
    rh = make_hub()
    bad = indicator(1)
    bad["pattern"] = "[not a pattern"
    no_version = {"type": "indicator", "id": "indicator--not-a-uuid"}
    r = rh.client("TH").post(f"/taxii2/api/collections/{REGIONAL}/objects/",
                             json={"objects": [bad, no_version]}, headers=TAXII_HEADERS)
    assert r.status_code == 202, r.text
    failures = r.json()["failures"]
    assert len(failures) == 2
    assert all(f.get("version") and f.get("message") for f in failures), failures


# -- every listed 500 is a 4xx naming the field -------------------------------------------
def _refused(r: Any, field: str) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    body = r.json()
    fields = body.get("fields") or body.get("details", {}).get("fields", [])
    assert any(field in f for f in fields), body


@pytest.mark.parametrize(("path", "param"), [
    ("/api/v1/alerts", "after"), ("/api/v1/reports", "before"),
    ("/api/v1/messages/clusters", "before"), ("/api/v1/alerts", "limit")])
def test_huge_paging_cursors_are_a_400_naming_the_parameter(make_hub: MakeHub, path: str,
                                                             param: str) -> None:
    rh = make_hub()
    for value in ("243897033175756937054168023040", "99999999999999999999999", "-1"):
        r = rh.client("TH", "admin").get(path, params={param: value})
        _refused(r, param)


def test_an_organisation_with_an_empty_parent_is_a_400(make_hub: MakeHub) -> None:
    rh = make_hub()
    r = rh.client("HUB", "admin").post("/api/v1/admin/orgs", json={
        "code": "00", "name": "0", "kind": "member", "parent": ""})
    _refused(r, "parent")


def rejected(r: Any) -> list[str]:
    """Ids ``/api/v1/objects`` refused (its 200/207 answer)."""
    return [x["id"] for x in r.json()["results"] if x["status"] == "rejected"]


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("path", ["objects", "taxii"])
@pytest.mark.parametrize(("prop", "value"), [("lang", []), ("lang", {}),
                                             ("x_deep", _nested(500))])
def test_odd_property_values_are_refused_naming_the_property(
        make_hub: MakeHub, path: str, prop: str, value: Any) -> None:
    rh = make_hub()
    obj = indicator(7, **{prop: value})
    good = indicator(8)
    client = rh.client("TH")
    if path == "objects":
        r = client.post("/api/v1/objects", json=bundle(obj, good))
        assert r.status_code == 207, r.text
        assert rejected(r) == [obj["id"]], r.text
        assert f"objects[0].{prop}" in r.text
    else:
        r = client.post(f"/taxii2/api/collections/{REGIONAL}/objects/",
                        json={"objects": [obj, good]}, headers=TAXII_HEADERS)
        assert r.status_code == 202, r.text
        status = r.json()
        assert [f["id"] for f in status["failures"]] == [obj["id"]]
        assert prop in status["failures"][0]["message"]
    # the good neighbour was stored and is served: nothing of the bad one broke the bundle
    assert client.get(f"/api/v1/objects/{good['id']}").status_code == 200
    assert client.get(f"/api/v1/objects/{obj['id']}").status_code == 404
    r = client.get(f"/taxii2/api/collections/{REGIONAL}/objects/", headers={"Accept": TAXII})
    assert r.status_code == 200


# -- duplicate JSON keys ------------------------------------------------------------------
def test_duplicate_json_keys_are_refused_naming_the_key(make_hub: MakeHub) -> None:
    rh = make_hub()
    client = rh.client("TH")
    obj = indicator(9, tlp=TLP.RED)
    text = orjson.dumps(bundle(obj)).decode()
    # {"object_marking_refs": [RED], ..., "object_marking_refs": [CLEAR]} read as CLEAR before
    doubled = text.replace('"object_marking_refs":',
                           f'"object_marking_refs":["{TLP.CLEAR.marking_id}"],'
                           '"object_marking_refs":', 1)
    assert duplicate_key(doubled.encode()) == "object_marking_refs"
    for path, headers in (("/api/v1/objects?audience=TH", {"Content-Type": "application/json"}),
                          (f"/taxii2/api/collections/{REGIONAL}/objects/?audience=TH",
                           TAXII_HEADERS)):
        r = client.post(path, content=doubled.encode(), headers=headers)
        assert r.status_code == 400, r.text
        _refused(r, "object_marking_refs")
    r = client.post("/api/v1/reports", content=b'{"title": "a", "title": "b"}',
                    headers={"Content-Type": "application/json"})
    _refused(r, "title")
    assert rh.client().get(f"/api/v1/objects/{obj['id']}").status_code == 404
    assert client.get(f"/api/v1/objects/{obj['id']}").status_code == 404  # nothing stored


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
                    | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=4), max_leaves=20))
def test_a_document_without_repeated_keys_passes_and_one_with_them_is_named(value: Any) -> None:
    raw = orjson.dumps(value)
    assert duplicate_key(raw) is None
    if isinstance(value, dict) and value:
        key = next(iter(value))
        repeated = b"{" + orjson.dumps(key) + b":1," + raw[1:]
        assert duplicate_key(repeated) == key


# -- granular markings --------------------------------------------------------------------
def test_a_red_granular_marking_makes_the_whole_object_red(make_hub: MakeHub) -> None:
    rh = make_hub()
    obj = indicator(11, tlp=TLP.CLEAR, description="the victim bank's internal case number",
                    granular_markings=[{"marking_ref": TLP.RED.marking_id,
                                        "selectors": ["description"]}])
    author = rh.client("TH")
    r = author.post("/api/v1/objects", json=bundle(obj))
    assert rejected(r) == [obj["id"]], r.text  # RED must name its audience
    r = author.post("/api/v1/objects", json=bundle(obj), params={"audience": "TH"})
    assert r.status_code == 200 and not rejected(r), r.text
    assert author.get(f"/api/v1/objects/{obj['id']}").status_code == 200
    for reader in (rh.client(), rh.client("SG", "reader"), rh.client("JPCERT", "reader")):
        assert reader.get(f"/api/v1/objects/{obj['id']}").status_code == 404
        for coll in (PUBLIC, REGIONAL):
            r = reader.get(f"/taxii2/api/collections/{coll}/objects/", headers={"Accept": TAXII})
            assert obj["id"] not in r.text
        assert "internal case number" not in reader.get("/api/v1/stream",
                                                        params={"after": 0, "follow": "false"}).text


# -- the write path -----------------------------------------------------------------------
def test_the_write_path_answers_alike_for_readable_and_unreadable_ids(make_hub: MakeHub) -> None:
    """VN's analyst learns neither who owns an id it may not read nor anything more than
    about an id it may read: the answer is the same."""
    rh = make_hub()
    hidden = indicator(3, tlp=None)  # unmarked: AMBER, audience TH: VN may not read it
    shown = indicator(4, tlp=TLP.GREEN)  # VN may read this one
    th = rh.client("TH")
    assert th.post("/api/v1/objects", json=bundle(hidden), params={"audience": "TH"}).status_code == 200
    assert th.post("/api/v1/objects", json=bundle(shown)).status_code == 200
    vn = rh.client("VN")
    assert vn.get(f"/api/v1/objects/{hidden['id']}").status_code == 404

    def answer(obj: dict[str, Any]) -> tuple[int, str]:
        newer = {**obj, "modified": "2030-01-01T00:00:00.000Z", "object_marking_refs": [
            TLP.GREEN.marking_id]}
        r = vn.post("/api/v1/objects", json=bundle(newer))
        assert "TH" not in r.text, r.text
        return r.status_code, r.text.replace(obj["id"], "ID")

    assert answer(hidden) == answer(shown)
    r = vn.post(f"/taxii2/api/collections/{REGIONAL}/objects/", headers=TAXII_HEADERS,
                json={"objects": [{**hidden, "modified": "2030-01-01T00:00:00.000Z"}]})
    assert "TH" not in r.text


# Downstream and observer keys write nowhere (one rule on REST and TAXII): held by
# tests/security/test_declared_access.py::test_who_may_not_write_is_refused_on_every_write_path
