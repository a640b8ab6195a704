"""Admin keys manage organisations and keys over HTTP; they do not widen reading."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from bayanihan.model.tlp import TLP
from tests.conftest import RunningHub
from tests.stixgen import bundle, indicator


def test_the_operator_admits_an_organisation_and_issues_it_a_key(
        make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    op = hub.client("HUB", "admin")
    r = op.post("/api/v1/admin/orgs", json={"code": "MY-BANK", "name": "A Malaysian bank",
                                            "kind": "downstream", "parent": "MY"})
    assert r.status_code == 201, r.text
    r = op.post("/api/v1/admin/keys", json={"org": "MY-BANK", "role": "reader", "expires_days": 7})
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    key = r.json()["key"]
    listed = op.get("/api/v1/admin/keys", params={"org": "MY-BANK"}).json()["keys"]
    assert [k["role"] for k in listed] == ["reader"] and key not in str(listed)
    assert httpx.get(hub.url + "/api/v1/objects/x", headers={"Authorization": f"Bearer {key}"}
                     ).status_code == 404
    assert op.delete(f"/api/v1/admin/keys/{r.json()['key_id']}").status_code == 200
    assert httpx.get(hub.url + "/api/v1/objects/x", headers={"Authorization": f"Bearer {key}"}
                     ).status_code == 401
    assert op.get("/api/v1/admin/audit/verify").json()["intact"] is True


def test_bad_admin_input_names_the_field(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    op = hub.client("HUB", "admin")
    r = op.post("/api/v1/admin/orgs", json={"code": "X", "name": ""})
    assert r.status_code == 400 and set(r.json()["fields"]) == {"code", "name"}
    r = op.post("/api/v1/admin/orgs", json={"code": "TH", "name": "again"})
    assert r.status_code == 409 and r.json()["fields"] == ["code"]


def test_member_admins_manage_only_their_own_keys(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    th_admin = hub.client("TH", "admin")
    assert th_admin.post("/api/v1/admin/keys", json={"org": "TH"}).status_code == 201
    assert th_admin.post("/api/v1/admin/keys", json={"org": "VN"}).status_code == 403
    assert th_admin.post("/api/v1/admin/orgs", json={"code": "ZZ", "name": "z"}).status_code == 403
    assert hub.client("TH", "analyst").get("/api/v1/admin/orgs").status_code == 403


def test_an_admin_key_reads_no_more_than_its_organisation(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    red = indicator(1, tlp=TLP.RED)
    assert hub.client("TH").post("/api/v1/objects", json=bundle(red),
                                 params={"audience": "VN"}).status_code == 200
    assert hub.client("HUB", "admin").get(f"/api/v1/objects/{red['id']}").status_code == 404
    assert hub.client("VN", "reader").get(f"/api/v1/objects/{red['id']}").status_code == 200
