"""A write on an id the caller may not read tells it nothing about the object: not who owns
it, not which versions exist, not whether a guess of its content is right (issue 13, F16:
bayanihan/ingest/blind_refusals.py). JSON API and TAXII."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from bayanihan.model.tlp import TLP
from tests.conftest import RunningHub
from tests.stixgen import bundle, indicator
from tests.taxii.conftest import REGIONAL, TAXII

HEADERS = {"Accept": TAXII, "Content-Type": TAXII}
LATER = "2030-01-01T00:00:00.000Z"


def _attempts(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What a caller might send for an id: a new version, the same version with the same
    content (a guess confirmed would be "duplicate"), the same version with other content."""
    return {"new version": {**obj, "modified": LATER},
            "same content": dict(obj),
            "other content": {**obj, "name": "a guess"}}


def _json_answer(client: Any, obj: dict[str, Any]) -> tuple[int, str]:
    r = client.post("/api/v1/objects", json=bundle(obj))
    body = r.json()
    for result in body.get("results", []):
        result.pop("version", None)  # the caller's own version, echoed
    return r.status_code, orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode().replace(
        obj["id"], "ID")


def _taxii_answer(client: Any, obj: dict[str, Any]) -> tuple[int, str]:
    r = client.post(f"/taxii2/api/collections/{REGIONAL}/objects/", headers=HEADERS,
                    json={"objects": [obj]})
    body = r.json()
    for drop in ("id", "request_timestamp"):
        body.pop(drop, None)
    for failure in body.get("failures", []):
        failure.pop("version", None)  # the caller's own version, echoed
    return r.status_code, orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode().replace(
        obj["id"], "ID")


def test_every_write_on_an_unreadable_id_gets_the_one_refusal(
        make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    th, vn = rh.client("TH"), rh.client("VN")
    hidden = indicator(3, tlp=None)  # unmarked: AMBER; audience TH: VN may not read it
    shown = indicator(4, tlp=TLP.GREEN)  # VN may read this one, but did not submit it
    assert th.post("/api/v1/objects", json=bundle(hidden), params={"audience": "TH"}).status_code == 200
    assert th.post("/api/v1/objects", json=bundle(shown)).status_code == 200
    assert vn.get(f"/api/v1/objects/{hidden['id']}").status_code == 404

    for answer in (_json_answer, _taxii_answer):
        got = {what: answer(vn, obj) for what, obj in _attempts(hidden).items()}
        reference = answer(vn, {**shown, "modified": LATER})  # an id VN may read, not its own
        assert set(got.values()) == {reference}, (answer.__name__, got, reference)
        assert "only the organisation that first submitted this id" in reference[1]
        assert "TH" not in reference[1] and "duplicate" not in reference[1]
    # nothing was stored for VN, and TH's object is as it was
    assert vn.get(f"/api/v1/objects/{hidden['id']}").status_code == 404
    versions = th.get(f"/api/v1/objects/{hidden['id']}").json()
    assert orjson.dumps(versions).count(b'"a guess"') == 0


def test_the_owner_and_readers_still_see_duplicates(make_hub: Callable[..., RunningHub]) -> None:
    """Blinding is only for callers that may not read: the owner re-sending its object, or a
    member re-sending a GREEN one it reads, is told "duplicate" as before."""
    rh = make_hub()
    th, vn = rh.client("TH"), rh.client("VN")
    shown = indicator(5, tlp=TLP.GREEN)
    assert th.post("/api/v1/objects", json=bundle(shown)).status_code == 200
    for client in (th, vn):
        r = client.post("/api/v1/objects", json=bundle(shown))
        assert r.json()["results"][0]["status"] == "duplicate", r.text
