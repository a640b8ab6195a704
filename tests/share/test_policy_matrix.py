"""The access-policy matrix: TLP level × kind of reader, through every read path."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from bayanihan.model.members import OrgKind
from bayanihan.model.tlp import TLP
from bayanihan.share.policy import Reader, may_see
from tests.conftest import RunningHub
from tests.correlate.linking import indicator_confidence
from tests.realtime.sse import read_stream
from tests.stixgen import bundle, indicator

AUTHOR = "SG"
AUDIENCE = ["SG", "TH"]
READERS = ["author", "member-in-audience", "member-not-in-audience", "downstream-of-audience",
           "downstream-of-other", "partner", "public"]
ORG_OF = {"author": "SG", "member-in-audience": "TH", "member-not-in-audience": "VN",
          "downstream-of-audience": "TH-BANK", "downstream-of-other": "VN-SOC",
          "partner": "JPCERT", "public": None}

#: case -> (TLP, audience or None for the default, readers that see it)
Y = True
N = False
CASES: dict[str, tuple[TLP, list[str] | None, list[bool]]] = {
    "clear": (TLP.CLEAR, None, [Y, Y, Y, Y, Y, Y, Y]),
    "green": (TLP.GREEN, None, [Y, Y, Y, Y, Y, Y, N]),
    "amber-named": (TLP.AMBER, AUDIENCE, [Y, Y, N, Y, N, N, N]),
    "amber-default": (TLP.AMBER, None, [Y, Y, Y, Y, Y, N, N]),
    "amber-strict-named": (TLP.AMBER_STRICT, AUDIENCE, [Y, Y, N, N, N, N, N]),
    "amber-strict-default": (TLP.AMBER_STRICT, None, [Y, Y, Y, N, N, N, N]),
    "red-named": (TLP.RED, AUDIENCE, [Y, Y, N, N, N, N, N]),
    "unmarked-default": (TLP.AMBER, None, [Y, Y, Y, Y, Y, N, N]),  # no marking: AMBER
}
EXPECTED = {(case, reader): row[2][i] for case, row in CASES.items()
            for i, reader in enumerate(READERS)}


def reader_for(name: str) -> Reader:
    kinds = {"SG": OrgKind.MEMBER, "TH": OrgKind.MEMBER, "VN": OrgKind.MEMBER,
             "TH-BANK": OrgKind.DOWNSTREAM, "VN-SOC": OrgKind.DOWNSTREAM, "JPCERT": OrgKind.PARTNER}
    org = ORG_OF[name]
    if org is None:
        return Reader()
    parent = {"TH-BANK": "TH", "VN-SOC": "VN"}.get(org)
    return Reader(org=org, kind=kinds[org], parent=parent,
                  parent_kind=OrgKind.MEMBER if parent else None)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("reader", READERS)
def test_may_see_follows_the_table(case: str, reader: str) -> None:
    tlp, audience, _ = CASES[case]
    assert may_see(reader_for(reader), tlp.value, AUTHOR, audience) is EXPECTED[(case, reader)]


def post_cases(hub: RunningHub) -> dict[str, str]:
    """Store one indicator per case, authored by SG; returns case -> object id."""
    author = hub.client(AUTHOR)
    ids = {}
    for n, (case, (tlp, audience, _)) in enumerate(CASES.items()):
        obj = indicator(n, tlp=None if case.startswith("unmarked") else tlp)
        params = {"audience": ",".join(audience)} if audience else {}
        r = author.post("/api/v1/objects", json=bundle(obj), params=params)
        assert r.status_code == 200, r.text
        ids[case] = obj["id"]
    return ids


def cases_found(client: httpx.Client, ids: dict[str, str], path: str) -> set[str]:
    """The cases whose object ``path`` (with ``{id}``) answers 200; anything but 404 fails."""
    seen = set()
    for case, oid in ids.items():
        r = client.get(path.format(id=oid))
        assert r.status_code in (200, 404), r.text
        if r.status_code == 200:
            seen.add(case)
    return seen


def read_by_id(client: httpx.Client, ids: dict[str, str]) -> set[str]:
    return cases_found(client, ids, "/api/v1/objects/{id}")


TAXII_ACCEPT = {"Accept": "application/taxii+json;version=2.1"}


def _taxii_collections(client: httpx.Client) -> list[str]:
    r = client.get("/taxii2/api/collections/", headers=TAXII_ACCEPT)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json().get("collections", []) if c["can_read"]]


def _taxii_listing(client: httpx.Client, ids: dict[str, str], endpoint: str) -> set[str]:
    """Cases seen through a TAXII listing (objects or manifest) of every readable collection."""
    case_of = {oid: case for case, oid in ids.items()}
    seen = set()
    for collection in _taxii_collections(client):
        params = {"match[id]": ",".join(ids.values()), "match[version]": "all"}
        r = client.get(f"/taxii2/api/collections/{collection}/{endpoint}/", params=params,
                       headers=TAXII_ACCEPT)
        assert r.status_code == 200, r.text
        seen |= {case_of[o["id"]] for o in r.json().get("objects", [])}
    return seen


def taxii_objects(client: httpx.Client, ids: dict[str, str]) -> set[str]:
    return _taxii_listing(client, ids, "objects")


def taxii_manifest(client: httpx.Client, ids: dict[str, str]) -> set[str]:
    return _taxii_listing(client, ids, "manifest")


def taxii_by_id(client: httpx.Client, ids: dict[str, str]) -> set[str]:
    """Cases seen through TAXII get-an-object and object-versions, in every readable collection."""
    seen = set()
    for collection in _taxii_collections(client):
        for case, oid in ids.items():
            base = f"/taxii2/api/collections/{collection}/objects/{oid}/"
            one = client.get(base, headers=TAXII_ACCEPT)
            versions = client.get(base + "versions/", headers=TAXII_ACCEPT)
            assert one.status_code == versions.status_code, (one.text, versions.text)
            assert one.status_code in (200, 404), one.text
            if one.status_code == 200:
                seen.add(case)
    return seen


#: Every read path that returns objects: name -> function(client, ids) -> cases seen.
READ_PATHS: dict[str, Callable[[httpx.Client, dict[str, str]], set[str]]] = {
    "api-object-by-id": read_by_id,
    "stream-after-0": read_stream,
    "taxii-objects": taxii_objects,
    "taxii-manifest": taxii_manifest,
    "taxii-object-and-versions": taxii_by_id,
    "indicator-confidence": indicator_confidence,
}


@pytest.mark.parametrize("path", list(READ_PATHS))
def test_every_read_path_returns_exactly_what_the_policy_allows(
        make_hub: Callable[..., RunningHub], path: str) -> None:
    hub = make_hub()
    ids = post_cases(hub)
    for reader in READERS:
        org = ORG_OF[reader]
        client = hub.client(org, "reader") if org else hub.client()
        seen = READ_PATHS[path](client, ids)
        expected = {case for case in CASES if EXPECTED[(case, reader)]}
        assert seen == expected, f"{reader} via {path}"


# -- campaigns and alerts: a report a reader may not see never bridges two it may ---------

#: bridge case -> (TLP of the bridging report B, its audience)
BRIDGES = {"red-bridge": (TLP.RED, ["VN"]), "amber-strict-bridge": (TLP.AMBER_STRICT, ["VN"])}
#: reader -> (reports it sees joined as one campaign, alerted)
BRIDGE_EXPECTED = {
    "SG": (set(), False),  # sees A and C only: no link between them it may see
    "PH": (set(), False),  # author of C, sees A: the same
    "TH": ({"A", "B", "C"}, False),  # author of A and B, hit already
    "VN": ({"A", "B", "C"}, True),  # in B's audience: sees the whole campaign, alerted
    "HUB": (set(), False),  # hub operator: B is not for it either
}


def _phishing(title: str, urls: list[str], tlp: TLP, audience: list[str] | None = None,
              ) -> dict[str, object]:
    report: dict[str, object] = {
        "vector": "phishing", "channel": "sms", "title": title, "tlp": tlp.value,
        "observables": "\n".join(urls), "ai_involvement": {"assessment": "suspected"}}
    if audience is not None:
        report["audience"] = audience
    return report


@pytest.mark.parametrize("bridge", list(BRIDGES))
def test_a_hidden_report_never_bridges_two_visible_ones(
        make_hub: Callable[..., RunningHub], bridge: str) -> None:
    """TH posts A (GREEN, URL x); TH posts B (hidden: to VN only, x and y); PH posts C
    (GREEN, y). Only readers of B see one campaign; nobody else is alerted, and nothing the
    hub authors (campaign, relationships, alerts) names B to a reader of it who may not
    read B — the hub operator included."""
    hub = make_hub()
    x, y = "https://parcel-th.example/track/91", "https://parcel-ph.example/pay/17"
    th, ph = hub.client("TH"), hub.client("PH")
    tlp, audience = BRIDGES[bridge]
    ids = {}
    for name, client, report in (
            ("A", th, _phishing("Parcel fee SMS (A)", [x], TLP.GREEN)),
            ("B", th, _phishing("Parcel fee SMS (B)", [x, y], tlp, audience)),
            ("C", ph, _phishing("Parcel fee SMS (C)", [y], TLP.GREEN))):
        r = client.post("/api/v1/reports", json=report)
        assert r.status_code == 201, r.text
        ids[r.json()["id"]] = name
    for org, (joined, alerted) in BRIDGE_EXPECTED.items():
        client = hub.client(org, "admin" if org == "HUB" else "reader")
        found = client.get("/api/v1/campaigns").json()["campaigns"]
        seen = [{ids[rep["id"]] for rep in client.get(f"/api/v1/campaigns/{c['id']}").json()
                 ["report_list"]} for c in found]
        assert seen == ([joined] if joined else []), org
        if org != "HUB":
            got = client.get("/api/v1/alerts").json()["alerts"]
            assert bool(got) is alerted, org
    # Everything hub-authored the operator can read, read object by object: never B.
    b_id = next(i for i, n in ids.items() if n == "B")
    operator = hub.client("HUB", "admin")
    stream = operator.get("/api/v1/stream", params={"after": 0, "follow": "false"})
    assert b_id not in stream.text
    hub_made = [line for line in stream.text.splitlines() if '"HUB"' in line]
    assert hub_made  # the campaign's own objects are there
    for object_id in {i for line in hub_made for i in _ids_in(line)}:
        r = operator.get(f"/api/v1/objects/{object_id}")
        assert b_id not in r.text, object_id


def _ids_in(text: str) -> set[str]:
    import re

    return set(re.findall(r"(?:campaign|relationship|report)--[0-9a-f-]{36}", text))
