"""The regional alert: a varied campaign crossing borders, one alert per member not yet hit,
and nothing revealed beyond what each member may see (TLP)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from stix2validator import validate_instance

from bayanihan.correlate.media import _tool
from bayanihan.model.validation import VALIDATOR_OPTIONS
from bayanihan.share.collections import ALERT_LABEL
from tests.conftest import RunningHub, need
from tests.correlate.linking import (
    LURES,
    MEMBERS,
    alerts_of,
    campaigns_of,
    cloned_voice,
    family,
    outbox,
    post_report,
    streamed,
)


def _fpcalc() -> bool:
    try:
        _tool("fpcalc")
        _tool("ffprobe")
    except Exception:
        return False
    return True


def _report(country: str, lang: str, phone: str) -> dict[str, Any]:
    return {
        "vector": "identity-fraud", "channel": "voice", "deepfake_media": ["audio"],
        "title": f"Cloned bank director voice calls ({country})",
        "narrative": "Victims got a call in the bank director's voice, then an SMS; the "
                     "attached dropper was offered as a 'security app'.",
        "lures": [LURES[lang] + f" โทร/Call {phone}"], "languages": [lang],
        "countries": [country],
        "ai_involvement": {"assessment": "confirmed", "confidence": 80},
    }


def _new_alerts(clients: dict[str, Any], before: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for org, client in clients.items():
        got = alerts_of(client)
        out[org] = got[before.get(org, 0):]
        before[org] = len(got)
    return out


@pytest.mark.slow
def test_three_states_one_campaign_one_alert_per_member_not_yet_hit(
        linking_hub: Callable[..., RunningHub]) -> None:
    need("fpcalc/ffprobe (Debian libchromaprint-tools, ffmpeg)", _fpcalc())
    rh = linking_hub()  # media are fingerprinted, not stored
    clients = {org: rh.client(org) for org in MEMBERS}
    blobs = family()
    seen: dict[str, int] = {}

    # TH reports first, naming who may read it (AMBER with a named audience).
    th = post_report(clients["TH"], _report("TH", "th", "+66 81 234 5678"), blobs[1],
                     cloned_voice("none"), audience=["TH", "VN", "ID", "SG", "BN"])
    assert campaigns_of(clients["TH"]) == []
    assert all(not a for a in _new_alerts(clients, seen).values())

    # VN: a different hash, a Vietnamese lure, the same voice (noisier): one campaign.
    vn = post_report(clients["VN"], _report("VN", "vi", "+84 91 234 5678"), blobs[2],
                     cloned_voice("noisy"))
    found = campaigns_of(clients["VN"])
    assert len(found) == 1 and found[0]["reports"] == 2
    assert [c["country"] for c in found[0]["countries"]] == ["TH", "VN"]
    new = _new_alerts(clients, seen)
    # Members that may see both reports and are not hit: exactly one alert each.
    assert {o: len(a) for o, a in new.items() if a} == {"ID": 1, "SG": 1, "BN": 1}
    # Members that may not see the TH report learn nothing (no alert, no campaign).
    assert campaigns_of(clients["MY"]) == []

    # ID: a third copy; the campaign reaches a third state.
    idr = post_report(clients["ID"], _report("ID", "id", "+62 812 3456 7890"), blobs[3],
                      cloned_voice("quieter"))
    assert len({c["id"] for org in ("TH", "VN", "ID") for c in campaigns_of(clients[org])}) == 1
    new = _new_alerts(clients, seen)
    counts = {o: len(a) for o, a in new.items() if a}
    assert counts == {"SG": 1, "BN": 1, "KH": 1, "LA": 1, "MM": 1, "MY": 1, "PH": 1, "TL": 1}
    assert all(a["trigger_report"] == idr for got in new.values() for a in got)
    # MY may not see the TH report: its alert names VN and ID only, never TH or the report.
    my_alert = new["MY"][0]
    assert my_alert["countries"] == ["ID", "VN"]
    assert th not in orjson.dumps(my_alert).decode()
    assert "TH" not in [c["country"] for c in my_alert["alert"]["x_bayanihan_alert"]["countries_hit"]]
    assert my_alert["first_report"] == vn
    # SG may see all three: its second alert is about ID, with TH as the first report.
    sg_alert = new["SG"][0]
    assert sg_alert["alert"]["x_bayanihan_alert"]["new_countries"] == ["ID"]
    assert sg_alert["first_report"] == th
    body = sg_alert["alert"]
    assert ALERT_LABEL in body["labels"] and body["type"] == "report"
    assert any(ref.startswith("indicator--") for ref in body["object_refs"])
    assert validate_instance(body, VALIDATOR_OPTIONS).is_valid

    # PH reports at TLP:RED for PH and SG only: SG learns of PH, nobody else does.
    ph = post_report(clients["PH"], _report("PH", "tl", "+63 917 123 4567"), blobs[0],
                     cloned_voice("trimmed"), audience=["PH", "SG"])
    new = _new_alerts(clients, seen)
    assert {o: len(a) for o, a in new.items() if a} == {"SG": 1}
    for org in MEMBERS:
        for campaign in campaigns_of(clients[org]):
            shown = rh.client(org).get(f"/api/v1/campaigns/{campaign['id']}").json()
            ids = {r["id"] for r in shown["report_list"]}
            assert (ph in ids) == (org in ("PH", "SG")), org
            assert (th in ids) == (org in ("TH", "VN", "ID", "SG", "BN")), org
        told = [ph in orjson.dumps(a).decode() for a in alerts_of(clients[org])]
        assert any(told) == (org == "SG"), org

    # In total: exactly one alert per member per crossing it may see; none to those hit.
    totals = Counter({org: len(alerts_of(c)) for org, c in clients.items()})
    assert totals == Counter({"SG": 3, "BN": 2, "ID": 1, "KH": 1, "LA": 1, "MM": 1, "MY": 1,
                              "PH": 1, "TL": 1})
    # The outbox carries one "alert" event per alert, marked for its recipient alone.
    events = outbox(rh, "alert")
    assert Counter(orjson.loads(e.audience)[0] for e in events) == totals
    assert all(e.tlp == "amber+strict" for e in events)
    payload = orjson.loads(events[-1].payload)
    assert {"vector", "countries", "confidence"} <= set(payload)
    assert payload["vector"] == "identity-fraud" and 0 < payload["confidence"] <= 100
    # The stream delivers each member its own alerts and nobody else's.
    for org in ("SG", "MY", "TH"):
        got = streamed(rh.client(org), "alert")
        assert [e["object_id"] for e in got] == [a["id"] for a in alerts_of(clients[org])], org
    # campaign.linked events carry each member's view only (MY never hears of TH or PH).
    for event in streamed(rh.client("MY"), "campaign.linked"):
        assert set(event["payload"]["countries"]) <= {"VN", "ID"}
    last = streamed(rh.client("SG"), "campaign.linked")[-1]["payload"]
    assert last["countries"] == ["ID", "PH", "TH", "VN"] and last["confidence"] > 0
    # The alert object itself: its recipient reads it, another member does not.
    alert_id = sg_alert["id"]
    assert rh.client("SG").get(f"/api/v1/objects/{alert_id}").status_code == 200
    assert rh.client("MY").get(f"/api/v1/objects/{alert_id}").status_code == 404
    # Downstream organisations and the public get no alerts or campaigns.
    assert alerts_of(rh.client("TH-BANK")) == []
    assert campaigns_of(rh.client()) == []
