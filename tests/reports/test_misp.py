"""MISP events in and out: nothing the hub supports is lost or changed on the round trip."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ppdeep
import pytest
import tlsh
from pymisp import MISPEvent, MISPObject

from bayanihan.cli.ingest_files import ingest_file
from bayanihan.errors import InvalidInput
from bayanihan.ingest.misp import ATTRIBUTE_KINDS
from bayanihan.model.tlp import TLP
from tests.conftest import RunningHub


def blob(seed: int) -> bytes:
    rnd = random.Random(seed)
    return bytes(rnd.getrandbits(8) for _ in range(2048))


#: One canonical value per supported MISP attribute type (several for some).
VALUES: dict[str, list[str]] = {
    "url": ["https://scb-verify.com/th/login", "http://bit.ly/3pDp2ry"],
    "link": ["https://www.thaicert.or.th/alerts/2026/11/sms-wave"],
    "domain": ["gcash-rewards.ph", "vietcombank-otp.top"],
    "hostname": ["login.maybank2u-secure.com"],
    "ip-src": ["45.77.12.9", "2001:db8:85a3::8a2e:370:7334"],
    "ip-dst": ["103.21.244.7"],
    "email": ["hr.recruit@central-jobs.asia"],
    "email-src": ["support@scb-verify.com"],
    "email-dst": ["victim@example.co.th"],
    "md5": ["44d88612fea8a8f36de82e1278abb02f"],
    "sha1": ["3395856ce81f2b7382dee72602f798b642f14140"],
    "sha256": ["275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"],
    "sha512": ["cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
               "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"],
    "tlsh": [tlsh.hash(blob(1)), tlsh.hash(blob(2))],
    "ssdeep": [ppdeep.hash(blob(3))],
    "phone-number": ["+66812345678", "+639171234567", "+6281234567890"],
    "btc": ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"],
}
COINS = [("0x52908400098527886e0f7030069857d2e4169ee7", "ETH"),
         ("TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW", "TRX"),
         ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "BTC")]
LURES = ["ธนาคารแจ้ง บัญชีของท่านถูกระงับ กรุณายืนยันตัวตน",
         "Selamat! Anda memenangkan hadiah undian, segera klaim",
         "Ikaw ay nanalo ng premyo, i-click ang link para makuha ito"]
TLPS = ["tlp:clear", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red"]


def event(n: int) -> MISPEvent:
    """The ``n``-th test event, built with pymisp; every supported type over ten events."""
    ev = MISPEvent()
    ev.info = f"Smishing wave {n} with AI-written lures"
    ev.distribution = 1
    ev.set_date(f"2026-11-{1 + n:02d}")
    ev.add_tag(TLPS[n % 5])
    if n % 5 == 4:
        ev.add_tag('bayanihan:audience="TH"')
        ev.add_tag('bayanihan:audience="SG"')
    ev.add_tag('bayanihan:vector="phishing"')
    ev.add_tag(f'bayanihan:channel="{["sms", "email", "voice", "chat", "social"][n % 5]}"')
    ev.add_tag('bayanihan:ai-assessment="suspected"')
    ev.add_tag(f'bayanihan:ai-confidence="{10 * n}"')
    ev.add_tag('bayanihan:country="TH"')
    ev.add_tag('misp-galaxy:mitre-atlas-attack-pattern="Phishing - AML.T0052"')
    ev.add_event_report(name="narrative", content=f"Narrative of wave {n}.")
    ev.add_event_report(name="ai-evidence", content="Dozens of fluent variants per hour.")
    types = sorted(VALUES)
    for i, misp_type in enumerate(types):
        if i % 10 == n % 10 or (i + 3) % 10 == n % 10:
            for value in VALUES[misp_type]:
                ev.add_attribute(misp_type, value, comment=f"seen in wave {n}",
                                 to_ids=misp_type != "email-dst")
    address, symbol = COINS[n % 3]
    coin = MISPObject("coin-address")
    coin.add_attribute("address", value=address)
    coin.add_attribute("symbol", value=symbol)
    ev.add_object(coin)
    ev.add_attribute("text", LURES[n % 3], comment="lure")
    return ev


def supported(ev: MISPEvent) -> dict[str, Any]:
    """What the hub claims to keep of an event, in comparable form."""
    return {
        "info": ev.info,
        "date": str(ev.date),
        "attributes": sorted(
            (a.type, a.value, a.category, bool(a.to_ids), getattr(a, "comment", ""))
            for a in ev.attributes if a.type in ATTRIBUTE_KINDS),
        "lures": sorted(a.value for a in ev.attributes if a.type == "text"),
        "coins": sorted(tuple(sorted((a.object_relation, a.value) for a in o.attributes))
                        for o in ev.objects if o.name == "coin-address"),
        # the hub adds what it derives: the language of the lures, first-seen from the date
        "tags": sorted(t.name for t in ev.tags
                       if not t.name.startswith(("bayanihan:language", "bayanihan:first-seen"))),
        "reports": sorted((r.name, r.content) for r in ev.event_reports),
    }


def test_every_supported_attribute_type_is_covered() -> None:
    covered = {a.type for n in range(10) for a in event(n).attributes}
    assert set(ATTRIBUTE_KINDS) <= covered


def test_round_trip_of_ten_events(report_hub: Callable[..., RunningHub]) -> None:
    rh = report_hub()
    client = rh.client("TH")
    for n in range(10):
        original = event(n)
        r = client.post("/api/v1/import/misp", content=original.to_json())
        assert r.status_code == 201, (n, r.text)
        back = client.get(f"/api/v1/reports/{r.json()['id']}", params={"format": "misp"})
        assert back.status_code == 200, back.text
        returned = MISPEvent()
        returned.load(back.json())
        assert supported(returned) == supported(original), n
        again = client.post("/api/v1/import/misp", content=back.content)  # and once more
        assert again.status_code == 201, again.text
        twice = client.get(f"/api/v1/reports/{again.json()['id']}", params={"format": "misp"})
        assert supported(MISPEvent().load(twice.json()) or _load(twice.json())) == \
            supported(original)


def _load(doc: dict[str, Any]) -> MISPEvent:
    ev = MISPEvent()
    ev.load(doc)
    return ev


def test_distribution_and_tlp_tags_become_tlp_and_audience(
        report_hub: Callable[..., RunningHub]) -> None:
    rh = report_hub()
    th = rh.client("TH")
    cases: list[tuple[int, str | None, dict[str, Any], TLP, set[str]]] = [
        (0, None, {}, TLP.RED, {"TH"}),
        (1, None, {}, TLP.AMBER, {"TH", "VN", "TH-BANK"}),
        (2, None, {}, TLP.GREEN, {"TH", "VN", "TH-BANK", "JPCERT"}),
        (3, "tlp:white", {}, TLP.CLEAR, {"TH", "VN", "TH-BANK", "JPCERT", "public"}),
        (4, None, {"SharingGroup": {"name": "TH-VN", "SharingGroupOrg": [
            {"Organisation": {"name": "VN"}}]}}, TLP.AMBER, {"TH", "VN"}),
        (1, "tlp:amber+strict", {}, TLP.AMBER_STRICT, {"TH", "VN"}),
    ]
    for distribution, tag, extra, level, readers in cases:
        ev = MISPEvent()
        ev.info = f"distribution {distribution} {tag}"
        ev.distribution = distribution
        if tag:
            ev.add_tag(tag)
        ev.add_attribute("domain", "gcash-rewards.ph")
        doc = {"Event": {**json.loads(ev.to_json()), **extra}}
        r = th.post("/api/v1/import/misp", json=doc)
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        seen = {name for name, client in (
            ("TH", th), ("VN", rh.client("VN", "reader")), ("TH-BANK", rh.client("TH-BANK")),
            ("JPCERT", rh.client("JPCERT")), ("public", rh.client()))
            if client.get(f"/api/v1/reports/{rid}").status_code == 200}
        assert seen == readers, (distribution, tag)
        exported = th.get(f"/api/v1/reports/{rid}", params={"format": "misp"}).json()
        assert f"tlp:{level.value}" in {t["name"] for t in exported["Event"]["Tag"]}


def test_bad_attributes_are_named_and_the_rest_stored(
        report_hub: Callable[..., RunningHub]) -> None:
    rh = report_hub()
    th = rh.client("TH")
    ev = event(0)
    ev.add_attribute("ip-dst", "999.1.1.1")
    index = len(ev.attributes) - 1
    r = th.post("/api/v1/import/misp", content=ev.to_json(), params={"atomic": "true"})
    assert r.status_code == 400, r.text
    assert r.json()["fields"] == [f"Event.Attribute[{index}].value"]
    assert th.get("/api/v1/reports").json()["reports"] == []  # atomic: nothing stored
    r = th.post("/api/v1/import/misp", content=ev.to_json())
    assert r.status_code == 201, r.text
    assert [f["field"] for f in r.json()["refused"]] == [f"Event.Attribute[{index}].value"]
    bad = ev.attributes[index].uuid
    assert not {i for i in r.json()["objects"] if i.endswith(bad)}
    stored = MISPEvent()
    stored.load(th.get(f"/api/v1/reports/{r.json()['id']}", params={"format": "misp"}).json())
    assert {a.uuid for a in ev.attributes} - {a.uuid for a in stored.attributes} == {bad}
    red = MISPEvent()
    red.info = "red without recipients"
    red.add_tag("tlp:red")
    r = th.post("/api/v1/import/misp", content=red.to_json())
    assert r.status_code == 400 and r.json()["fields"] == ["Event.Tag", "audience"]
    r = th.post("/api/v1/import/misp", content=red.to_json(), params={"audience": "TH,VN"})
    assert r.status_code == 201, r.text
    assert rh.client("VN").get(f"/api/v1/reports/{r.json()['id']}").status_code == 200
    assert rh.client("SG").get(f"/api/v1/reports/{r.json()['id']}").status_code == 404
    assert th.post("/api/v1/import/misp", content=b"[1, 2]").status_code == 400
    assert th.post("/api/v1/import/misp", content=b'{"response": []}').status_code == 400
    assert len(th.get("/api/v1/reports").json()["reports"]) == 2


def test_cli_ingests_a_misp_file(report_hub: Callable[..., RunningHub], tmp_path: Path) -> None:
    rh = report_hub()
    path = tmp_path / "event.json"
    path.write_text(event(3).to_json(), encoding="utf-8")
    done, lines = ingest_file(rh.hub, path, "misp", "th", None)
    report_id = done.events[0].report_id
    assert lines[0].startswith(f"report {report_id}")
    # listed (indexed) as soon as the command returns, without waiting for the link queue
    listed = rh.client("TH").get("/api/v1/reports", params={"technique": "AML.T0052"}).json()
    assert [i["id"] for i in listed["reports"]] == [report_id]
    with pytest.raises(InvalidInput) as caught:
        ingest_file(rh.hub, path, "csv", "th", None)
    assert caught.value.fields == ["--format"]
