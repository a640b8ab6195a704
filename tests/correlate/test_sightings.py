"""Sightings: members say "seen here" or "false positive"; confidence follows, and decays."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

from stix2validator import validate_instance

from bayanihan.correlate.sightings import DAY_US, confidence, decayed
from bayanihan.model.stix import parse_us
from bayanihan.model.validation import VALIDATOR_OPTIONS
from bayanihan.share.policy import Reader
from tests.conftest import RunningHub
from tests.correlate.linking import indicator_confidence, post_report
from tests.share.test_policy_matrix import CASES, EXPECTED, ORG_OF, READERS, post_cases


def _indicators(rh: RunningHub, org: str, report_id: str) -> dict[str, str]:
    """pattern -> indicator id, of one report."""
    r = rh.client(org).get(f"/api/v1/reports/{report_id}")
    assert r.status_code == 200, r.text
    return {o["pattern"]: o["id"] for o in r.json()["objects"] if o["type"] == "indicator"}


def test_sightings_raise_and_lower_confidence_as_each_reader_may_see(
        linking_hub: Callable[..., RunningHub]) -> None:
    rh = linking_hub()
    th = rh.client("TH")
    report = post_report(th, {"vector": "phishing", "channel": "sms", "title": "Toll SMS",
                              "lures": ["Unpaid toll: pay at https://exat-toll-pay.com/t/1"],
                              "tlp": "green"})
    (url_ind,) = [i for p, i in _indicators(rh, "TH", report).items() if "url:" in p]
    start = th.get(f"/api/v1/indicators/{url_ind}/confidence").json()
    assert start["base"] == 50 and start["seen_by"] == 0

    seen = rh.client("VN").post("/api/v1/sightings", json={
        "indicator": url_ind, "verdict": "seen", "count": 12, "tlp": "green"})
    assert seen.status_code == 201, seen.text
    assert validate_instance(seen.json()["sighting"], VALIDATOR_OPTIONS).is_valid
    assert seen.json()["confidence"]["raised"] == 60
    rh.client("MY").post("/api/v1/sightings", json={"indicator": url_ind, "verdict": "seen",
                                                    "tlp": "green"})
    assert th.get(f"/api/v1/indicators/{url_ind}/confidence").json()["raised"] == 70
    # A false positive reported at TLP:RED to SG only lowers it for SG, and for nobody else.
    fp = rh.client("PH").post("/api/v1/sightings", json={
        "indicator": url_ind, "verdict": "false-positive", "tlp": "red"},
        params={"audience": "PH,SG"})
    assert fp.status_code == 201, fp.text
    assert rh.client("SG").get(f"/api/v1/indicators/{url_ind}/confidence").json()["raised"] == 45
    assert th.get(f"/api/v1/indicators/{url_ind}/confidence").json()["raised"] == 70

    # Bad input names the field; an indicator the poster may not see is "not found".
    bad = rh.client("VN").post("/api/v1/sightings", json={"indicator": url_ind,
                                                          "verdict": "maybe"})
    assert bad.status_code == 400 and bad.json()["fields"] == ["verdict"]
    hidden = post_report(th, {"vector": "phishing", "channel": "sms", "title": "private", "tlp": "red",
                              "lures": ["Pay https://private-lure-host.com/z now"]},
                         audience=["TH"])
    (hidden_ind,) = _indicators(rh, "TH", hidden).values()
    nope = rh.client("VN").post("/api/v1/sightings", json={"indicator": hidden_ind})
    assert nope.status_code == 404 and nope.json()["fields"] == ["objects[0].sighting_of_ref"]


def test_phishing_urls_decay_in_days_malware_hashes_in_months(
        linking_hub: Callable[..., RunningHub]) -> None:
    rh = linking_hub()
    th = rh.client("TH")
    sha = hashlib.sha256(b"bayanihan harmless sample").hexdigest()
    phish = post_report(th, {"vector": "phishing", "channel": "email", "title": "Phish", "tlp": "green",
                             "lures": ["Login at https://decay-test-phish.com/l"]})
    malware = post_report(th, {"vector": "malware", "title": "Dropper", "tlp": "green",
                               "observables": f"sha256 {sha}"})
    (url_ind,) = _indicators(rh, "TH", phish).values()
    (hash_ind,) = _indicators(rh, "TH", malware).values()
    reader = Reader(org="VN")

    def at(indicator: str, days: float) -> int:
        now = rh.hub.db.read_sync(confidence, reader, indicator)
        assert now is not None
        found = rh.hub.db.read_sync(confidence, reader, indicator,
                                    now.anchor_us + int(days * DAY_US))
        assert found is not None
        return found.now

    assert at(url_ind, 0) == 50 and at(hash_ind, 0) == 50
    assert at(url_ind, 3) < 30 and at(url_ind, 8) == 0  # phishing URL: days
    assert at(hash_ind, 30) > 45 and at(hash_ind, 200) > 0  # malware hash: months
    # A fresh "seen here" renews the URL: it decays from the sighting, not from the report.
    later = "2099-01-01T00:00:00Z"
    r = rh.client("VN").post("/api/v1/sightings", json={
        "indicator": url_ind, "verdict": "seen", "last_seen": later, "tlp": "green"})
    assert r.status_code == 201, r.text
    renewed = rh.hub.db.read_sync(confidence, reader, url_ind, parse_us(later) + DAY_US)
    assert renewed is not None and renewed.now > 30


def test_decay_is_monotonic_and_bounded() -> None:
    values = [decayed(80, int(d * DAY_US), 7, 2.0) for d in range(0, 9)]
    assert values[0] == 80 and values[-1] == 0
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_confidence_follows_the_tlp_matrix(linking_hub: Callable[..., RunningHub]) -> None:
    rh = linking_hub()
    ids = post_cases(rh)
    for reader in READERS:
        org = ORG_OF[reader]
        client = rh.client(org, "reader") if org else rh.client()
        expected = {case for case in CASES if EXPECTED[(case, reader)]}
        assert indicator_confidence(client, ids) == expected, reader
