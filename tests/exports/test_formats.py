"""Every export format read by its real consumer: BIND's named-checkzone (RPZ),
suricataparser (Suricata rules; Suricata itself is not installable on this Debian mirror, so
``suricata -T`` is not run), pySigma + its Splunk backend (Sigma), the OASIS STIX validator
(STIX) and PyMISP (the MISP feed). A consumer missing in CI fails the test (``need``)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import RunningHub, need
from tests.exports.helpers import SHA, export, post, report, values

OBSERVABLES = ["hxxps://evil-bank[.]example.com/login?next=a;b", "198.51.100.7",
               "+66 81 234 5678", SHA, "p\u0430ypal-verify.com", "10.1.2.0/24",
               "http://203.0.113.9:8080/x\"y"]


@pytest.fixture
def served(make_hub: Callable[..., RunningHub]) -> RunningHub:
    rh = make_hub()
    post(rh.client("TH"), report("Bank SMS", OBSERVABLES))
    post(rh.client("VN"), report("Courier SMS", ["parcel-fee.example.net"], tlp="amber",
                                 countries=("VN",)))
    return rh


def test_rpz_loads_in_bind(served: RunningHub, tmp_path: Path) -> None:
    tool = shutil.which("named-checkzone") or shutil.which("named-checkzone", path="/usr/sbin")
    need("named-checkzone (bind9-utils)", tool is not None)
    text = export(served.client("SG"), "rpz").text
    zone = tmp_path / "bayanihan.rpz"
    zone.write_text(text)
    done = subprocess.run([str(tool), "rpz.bayanihan", str(zone)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "xn--pypal-verify-x9j.com CNAME ." in text  # the lookalike, in punycode
    assert "*.parcel-fee.example.net CNAME ." in text
    assert "32.7.100.51.198.rpz-ip CNAME ." in text
    assert text.startswith("; Bayanihan export") and "TLP:AMBER (this format carries no" in text


def test_suricata_rules_parse_with_stable_sids(served: RunningHub) -> None:
    need("suricataparser", importlib.util.find_spec("suricataparser") is not None)
    from suricataparser import parse_rules

    text = export(served.client("SG"), "suricata").text
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    rules = parse_rules(text)
    assert len(rules) == len(lines) >= 7
    sids = [r.sid for r in rules]
    assert len(set(sids)) == len(sids)
    by_header = {r.header.split()[0] for r in rules}
    assert by_header == {"dns", "tls", "http", "ip"}
    for rule in rules:
        assert rule.enabled and rule.rev is not None and rule.msg.startswith('BAYANIHAN')
    # stable: the same rules (sid and rev) on a second export
    again = parse_rules(export(served.client("SG"), "suricata").text)
    assert [(r.sid, r.rev, r.raw) for r in again] == [(r.sid, r.rev, r.raw) for r in rules]
    # a value with ; is carried in hex, not breaking the rule
    assert any("|3B|" in r.raw for r in rules)


def test_sigma_rules_convert_to_splunk(served: RunningHub) -> None:
    need("pySigma + Splunk backend", importlib.util.find_spec("sigma") is not None
         and importlib.util.find_spec("sigma.backends.splunk") is not None)
    from sigma.backends.splunk import SplunkBackend
    from sigma.collection import SigmaCollection

    text = export(served.client("SG"), "sigma").text
    rules = SigmaCollection.from_yaml(text)
    assert [r.logsource.category for r in rules] == ["proxy", "proxy", "dns"]
    queries = SplunkBackend().convert(rules)
    assert len(queries) == 3
    assert "parcel-fee.example.net" in queries[0] and "xn--pypal-verify-x9j.com" in queries[0]
    assert "xn--pypal-verify-x9j.com" in queries[2]


def test_stix_bundle_is_valid(served: RunningHub) -> None:
    from stix2validator import ValidationOptions, validate_string

    text = export(served.client("SG"), "stix").text
    bundle = json.loads(text)
    assert {o["type"] for o in bundle["objects"]} == {"indicator"}
    assert len(bundle["objects"]) == len({o["id"] for o in bundle["objects"]}) >= 8
    result = validate_string(text, ValidationOptions(version="2.1", strict=False))
    assert result.is_valid, [str(e) for o in result.object_results for e in o.errors]


def test_misp_feed_reads_back_with_pymisp(served: RunningHub) -> None:
    from pymisp import MISPEvent

    client = served.client("SG")
    manifest = client.get("/api/v1/exports/misp/manifest.json")
    assert manifest.status_code == 200, manifest.text
    events = manifest.json()
    assert events
    hashes = client.get("/api/v1/exports/misp/hashes.csv").text.splitlines()
    seen: set[str] = set()
    for uuid, meta in events.items():
        r = client.get(f"/api/v1/exports/misp/{uuid}.json")
        assert r.status_code == 200, r.text
        event = MISPEvent()
        event.load(r.text)
        assert event.uuid == uuid and event.info == meta["info"]
        assert {t.name for t in event.tags} == {t["name"] for t in meta["Tag"]}
        for attribute in event.attributes:
            assert attribute.to_ids and attribute.tags[0].name.startswith("tlp:")
            seen.add(attribute.value)
    assert {"xn--pypal-verify-x9j.com", "+66812345678", SHA, "198.51.100.7"} <= seen
    assert len(hashes) == len(seen)
    assert client.get("/api/v1/exports/misp/0000.json").status_code == 404


def test_lists_are_sorted_and_carry_a_header(served: RunningHub) -> None:
    client = served.client("SG")
    text = export(client, "domains").text
    assert text.startswith("# Bayanihan export: domain names")
    assert "TLP levels carried: TLP:CLEAR, TLP:GREEN, TLP:AMBER" in text
    listed = [line for line in text.splitlines() if not line.startswith("#")]
    assert listed == sorted(listed)
    assert {"evil-bank.example.com", "parcel-fee.example.net", "xn--pypal-verify-x9j.com"} \
        <= set(listed)
    assert values(export(client, "phones").text) == {"+66812345678"}
    assert values(export(client, "sha256").text) == {SHA}
    csv = export(client, "csv").text
    assert "xn--pypal-verify-x9j.com,paypal-verify.com,green" in csv
