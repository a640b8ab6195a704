"""What the demo's story must have left in the hub, checked through the API only.

Used by ``test_demo.py`` (the demo run in this environment) and ``tests/test_readme.py``
(the README's own command, in a fresh virtual environment built from the checkout).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx

from bayanihan.demo.scenario import RECON_BLOCK
from bayanihan.model.members import MEMBER_STATES

MEMBERS = frozenset(MEMBER_STATES)
#: the campaigns the scenario builds, by the countries they reach
EXPECTED = [{"TH", "KH", "LA", "VN"}, {"ID", "MY", "SG"}, {"PH", "MY"}, {"BN", "MM", "TL"}]


def _get(client: httpx.Client, path: str, **params: Any) -> Any:
    r = client.get(path, params=params)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:300]}"
    return r.json()


def check_story(base: str, keys: dict[str, str], red_report: str | None = None) -> None:
    clients = {org: httpx.Client(base_url=base, timeout=60,
                                 headers={"Authorization": f"Bearer {key}"})
               for org, key in keys.items()}
    try:
        _check(clients, red_report)
    finally:
        for c in clients.values():
            c.close()


def _check(clients: dict[str, httpx.Client], red_report: str | None) -> None:
    # the campaigns, as a member that may see every GREEN report sees them
    found = _get(clients["SG"], "/api/v1/campaigns")["campaigns"]
    reached = [{c["country"] for c in campaign["countries"]} for campaign in found]
    for expected in EXPECTED:
        assert expected in reached, f"no campaign across {sorted(expected)}: {reached}"

    # every regional alert went to a member not yet hit, and at each crossing every member
    # not yet hit was warned exactly once
    crossings: dict[str, list[tuple[str, frozenset[str]]]] = defaultdict(list)
    for org in MEMBERS:
        for alert in _get(clients[org], "/api/v1/alerts")["alerts"]:
            ext = alert["alert"]["x_bayanihan_alert"]
            hit = frozenset(c["country"] for c in ext["countries_hit"])
            assert ext["recipient"] == org and org not in hit, (org, sorted(hit))
            crossings[alert["trigger_report"]].append((org, hit))
    assert len(crossings) >= 5, f"too few border crossings alerted: {len(crossings)}"
    for trigger, told in crossings.items():
        hit = told[0][1]
        recipients = [org for org, _ in told]
        assert sorted(recipients) == sorted(MEMBERS - hit), (trigger, sorted(hit), recipients)

    # the TLP:RED report stayed with its author and its two recipients
    if red_report is not None:
        for org in MEMBERS:
            status = clients[org].get(f"/api/v1/reports/{red_report}").status_code
            assert (status == 200) == (org in ("TH", "KH", "VN")), (org, status)
        assert clients["HUB"].get(f"/api/v1/reports/{red_report}").status_code != 200
        for org in MEMBERS - {"TH", "KH", "VN"}:
            for campaign in _get(clients[org], "/api/v1/campaigns")["campaigns"]:
                shown = _get(clients[org], f"/api/v1/campaigns/{campaign['id']}")
                assert red_report not in {r["id"] for r in shown["report_list"]}, org

    # SingCERT's false-positive flag keeps that address out of its exports
    ips = clients["SG"].get("/api/v1/exports/ips").text
    assert RECON_BLOCK[0] in ips and RECON_BLOCK[2] not in ips, ips[-400:]
