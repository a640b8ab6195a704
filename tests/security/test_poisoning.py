"""One compromised member key must not make the region block a bank, a government portal or
a popular site (issue 13, poisoning defences: bayanihan/correlate/guard.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bayanihan.correlate import guard
from bayanihan.errors import Conflict
from bayanihan.store import audit, keys
from bayanihan.store.schema import audit_log
from tests.conftest import RunningHub
from tests.stixgen import bundle, indicator

ADMIN = audit.Actor.console()


def domain_indicator(n: int, domain: str, **extra: Any) -> dict[str, Any]:
    # valid from now: an indicator from last month may have decayed out of every export
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return indicator(n, seed=hash((n, domain)), pattern=f"[domain-name:value = '{domain}']",
                     valid_from=now, created=now, modified=now, confidence=80, **extra)


def post(client: httpx.Client, *objs: dict[str, Any]) -> None:
    r = client.post("/api/v1/objects", json=bundle(*objs))
    assert r.status_code == 200, r.text


def exported(client: httpx.Client) -> set[str]:
    r = client.get("/api/v1/exports/domains")
    assert r.status_code == 200, r.text
    return {line for line in r.text.splitlines() if line and not line.startswith("#")}


def known(client: httpx.Client, value: str) -> bool:
    r = client.post("/api/v1/check", json={"items": [value]})
    assert r.status_code == 200, r.text
    return bool(r.json()["results"][0]["known"])


def test_a_protected_value_needs_a_second_organisation_and_an_admin(
        make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    th, vn, sg = hub.client("TH"), hub.client("VN"), hub.client("SG")
    post(th, domain_indicator(1, "scb.co.th"), domain_indicator(2, "www.gov.sg"),
         domain_indicator(3, "scb-verify-th.example"))
    assert exported(sg) == {"scb-verify-th.example"}  # the bank and the portal are held
    assert not known(sg, "scb.co.th") and known(sg, "scb-verify-th.example")
    with pytest.raises(Conflict, match="second organisation"):
        hub.hub.db.write_sync(guard.approve, ADMIN, "domain", "scb.co.th")
    post(vn, domain_indicator(4, "scb.co.th"))  # a second member confirms...
    assert "scb.co.th" not in exported(sg)  # ...still held until an admin approves
    [queue] = [h for h in hub.hub.db.read_sync(guard.held) if h["value"] == "scb.co.th"]
    assert queue["confirmed_by"] == ["TH", "VN"]  # traced to authors, keys and indicators
    assert {i["org"] for i in queue["indicators"]} == {"TH", "VN"}
    assert all(i["key"] for i in queue["indicators"])
    assert hub.hub.db.write_sync(guard.approve, ADMIN, "domain", "scb.co.th") == ["TH", "VN"]
    assert exported(sg) == {"scb-verify-th.example", "scb.co.th"}
    assert known(sg, "scb.co.th")
    assert "www.gov.sg" not in exported(sg)


def test_an_operator_protects_its_own_domain(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    post(hub.client("TH"), domain_indicator(1, "portal.hub-operator.example"))
    assert exported(hub.client("VN")) == {"portal.hub-operator.example"}
    hub.hub.db.write_sync(guard.protect, ADMIN, "hub-operator.example")
    assert exported(hub.client("VN")) == set()


def test_quarantine_pulls_a_flooding_key_out_of_exports_and_check(
        make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    flood = [domain_indicator(n, f"innocent-{n}.example") for n in range(60)]
    post(hub.client("TH"), *flood)  # a stolen TH key floods false indicators
    post(hub.client("VN"), domain_indicator(999, "innocent-7.example"))  # VN reported one too
    post(hub.client("VN"), domain_indicator(998, "real-phish.example"))
    sg = hub.client("SG")
    assert len(exported(sg)) == 61
    key_id = _key_id(hub, "TH")
    count = hub.hub.db.write_sync(guard.quarantine, ADMIN, key_id, "stolen key, flood")
    assert count == 60
    assert exported(sg) == {"innocent-7.example", "real-phish.example"}  # VN's stay
    assert not known(sg, "innocent-8.example") and known(sg, "innocent-7.example")
    r = hub.client("TH").post("/api/v1/objects", json=bundle(domain_indicator(5, "x.example")))
    assert r.status_code == 401  # and the key is revoked
    hub.hub.db.write_sync(guard.release, ADMIN, key_id)
    assert len(exported(sg)) == 61  # nothing was deleted: release puts it back
    actions = hub.hub.db.read_sync(lambda c: c.execute(select(audit_log.c.action)).scalars().all())
    assert {"key.quarantine", "key.release", "key.revoke"} <= set(actions)


def _key_id(hub: RunningHub, org: str) -> str:
    info = hub.hub.db.read_sync(keys.lookup, hub.key(org))
    assert info is not None
    return info.key_id


def test_a_key_over_its_write_rate_is_throttled_and_flagged(
        make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub(write_requests_per_minute=5)
    th = hub.client("TH")
    codes = []
    for n in range(8):
        r = th.post("/api/v1/objects", json=bundle(domain_indicator(n, f"burst-{n}.example")))
        codes.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
            assert r.json()["fields"] == ["Authorization"]
    assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3
    assert hub.client("VN").post("/api/v1/objects", json=bundle(  # other keys unaffected
        domain_indicator(50, "vn.example"))).status_code == 200
    assert th.get("/api/v1/exports/domains").status_code == 200  # reads are not limited
    flagged = hub.hub.db.read_sync(lambda c: c.execute(
        select(audit_log.c.actor_org, audit_log.c.actor_key).where(
            audit_log.c.action == "key.throttled")).all())
    assert flagged == [("TH", _key_id(hub, "TH"))]  # once, naming the key id (not the key)
    assert hub.key("TH") not in str(flagged)


@given(st.sampled_from(["scb.co.th", "www.gov.sg", "a.b.go.th", "mail.google.com"]),
       st.sampled_from(["domain", "email", "url"]))
def test_names_under_a_protected_domain_are_held_in_every_kind(host: str, kind: str) -> None:
    value = {"domain": host, "email": f"ceo@{host}", "url": f"https://{host}/"}[kind]
    assert guard.Guard().is_held(kind, value)
    assert not guard.Guard(approved={(kind, value)}).is_held(kind, value)
    assert not guard.Guard().is_held(kind, value.replace(host, f"{host}-phish.example"))
    assert not guard.Guard().is_held("url", f"https://{host}/login/phish")  # one page only


def test_false_positive_flags_of_a_quarantined_key_stop_hiding_a_value(
        make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    real = domain_indicator(1, "real-bank-phish.example")
    post(hub.client("VN"), real)
    sg = hub.client("SG")
    assert exported(sg) == {"real-bank-phish.example"}
    stolen = hub.client("TH")  # a stolen key flags the real indicator as a false positive
    r = stolen.post("/api/v1/sightings", json={"indicator": real["id"],
                                               "verdict": "false-positive", "tlp": "green"})
    assert r.status_code == 201, r.text
    assert exported(sg) == set()  # the flag hides it from everyone who sees the sighting
    hub.hub.db.write_sync(guard.quarantine, ADMIN, _key_id(hub, "TH"), "false flags")
    assert exported(sg) == {"real-bank-phish.example"}
    assert known(sg, "real-bank-phish.example")
