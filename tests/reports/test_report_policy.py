"""The TLP matrix through every report read path: list, filters, by id, MISP export."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import RunningHub
from tests.reports.reportgen import report
from tests.share.test_policy_matrix import AUTHOR, CASES, EXPECTED, ORG_OF, READERS


def post_report_cases(hub: RunningHub) -> dict[str, str]:
    """One report per TLP case, authored by SG; case -> report id."""
    author = hub.client(AUTHOR)
    ids = {}
    for n, (case, (tlp, audience, _)) in enumerate(CASES.items()):
        doc = report(5 * n, tlp=tlp.value, audience=audience, title=f"matrix case {case}",
                     countries=["VN"], vector="phishing", channel="sms")
        if case.startswith("unmarked"):
            doc.pop("tlp")  # the report default: AMBER to every member
        r = author.post("/api/v1/reports", json=doc)
        assert r.status_code == 201, (case, r.text)
        ids[case] = r.json()["id"]
    return ids


def listed(client: httpx.Client, ids: dict[str, str]) -> set[str]:
    found = {i["id"] for i in client.get("/api/v1/reports", params={"limit": 500}).json()["reports"]}
    return {case for case, rid in ids.items() if rid in found}


def filtered(client: httpx.Client, ids: dict[str, str]) -> set[str]:
    params = {"country": "VN", "vector": "phishing", "q": "matrix case", "channel": "sms"}
    found = {i["id"] for i in client.get("/api/v1/reports", params=params).json()["reports"]}
    return {case for case, rid in ids.items() if rid in found}


def by_id(client: httpx.Client, ids: dict[str, str]) -> set[str]:
    seen = set()
    for case, rid in ids.items():
        r = client.get(f"/api/v1/reports/{rid}")
        assert r.status_code in (200, 404), r.text
        if r.status_code == 200:
            assert all(o.get("object_marking_refs") for o in r.json()["objects"]
                       if o["type"] != "attack-pattern")
            seen.add(case)
    return seen


def as_misp(client: httpx.Client, ids: dict[str, str]) -> set[str]:
    return {case for case, rid in ids.items()
            if client.get(f"/api/v1/reports/{rid}", params={"format": "misp"}).status_code == 200}


#: Every read path of reports: name -> function(client, ids) -> cases seen.
REPORT_READ_PATHS: dict[str, Callable[[httpx.Client, dict[str, str]], set[str]]] = {
    "reports-list": listed, "reports-filtered": filtered, "report-by-id": by_id,
    "report-as-misp": as_misp,
}


def test_report_read_paths_return_exactly_what_the_policy_allows(
        report_hub: Callable[..., RunningHub]) -> None:
    hub = report_hub()
    ids = post_report_cases(hub)
    for reader in READERS:
        org = ORG_OF[reader]
        client = hub.client(org, "reader") if org else hub.client()
        expected = {case for case in CASES if EXPECTED[(case, reader)]}
        for path, read in REPORT_READ_PATHS.items():
            assert read(client, ids) == expected, f"{reader} via {path}"
