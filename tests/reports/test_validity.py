"""Everything the hub emits for many varied reports passes the OASIS stix2-validator."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from stix2validator import ValidationOptions, validate_instance

from bayanihan.model.extension import EXTENSION_ID, ai_properties, property_problems
from tests.conftest import RunningHub
from tests.reports.reportgen import report

OPTIONS = ValidationOptions(version="2.1")
SDO_TYPES = ("report", "incident", "indicator", "relationship")


def _sco(object_id: str) -> bool:
    return not object_id.startswith(tuple(f"{t}--" for t in SDO_TYPES))
REPORTS = 50


@pytest.mark.slow  # the OASIS validator takes ~25 ms an object; ~900 objects
def test_fifty_varied_reports_give_only_valid_stix(report_hub: Callable[..., RunningHub]) -> None:
    rh = report_hub()
    authors = ["TH", "ID", "PH", "VN", "MY", "SG"]
    seen: dict[str, dict] = {}
    for n in range(REPORTS):
        client = rh.client(authors[n % len(authors)])
        r = client.post("/api/v1/reports", json=report(n))
        assert r.status_code == 201, (n, r.text)
        bundle = client.get(f"/api/v1/reports/{r.json()['id']}").json()
        ids = {o["id"] for o in bundle["objects"]}
        made = set(r.json()["objects"])
        # every object made for this report is there, but an observable another
        # organisation reported first with the same content may be one the author cannot see
        assert {i for i in made if not _sco(i)} <= ids
        assert all(i.startswith("attack-pattern--") for i in ids - made)
        for obj in bundle["objects"]:
            seen[obj["id"]] = obj
    hub_client = rh.client("TH", "reader")
    for ext_id in (EXTENSION_ID, *[i for i in seen if i.startswith("extension-definition")]):
        versions = hub_client.get(f"/api/v1/objects/{ext_id}").json()["versions"]
        seen[ext_id] = versions[-1]["object"]
    phone_ext = next(iter(o for o in seen.values() if o["type"] == "bayanihan-phone-number"))
    for ext_id in phone_ext["extensions"]:
        seen[ext_id] = hub_client.get(f"/api/v1/objects/{ext_id}").json()["versions"][-1]["object"]
    errors = {}
    for oid, obj in seen.items():
        result = validate_instance(obj, OPTIONS)
        if not result.is_valid:
            errors[oid] = [e.message for e in result.errors]
        props = ai_properties(obj)
        if props is not None:
            problems = property_problems({"extension_type": "property-extension", **props})
            assert problems == [], (oid, problems)
    assert errors == {}
    kinds = Counter(o["type"] for o in seen.values())
    for kind in ("report", "incident", "indicator", "relationship", "attack-pattern", "url",
                 "domain-name", "ipv4-addr", "ipv6-addr", "email-addr", "file",
                 "bayanihan-phone-number", "bayanihan-crypto-wallet", "extension-definition"):
        assert kinds[kind] > 0, kind
    assert kinds["report"] == REPORTS
