"""Authorisation by declaration (issue 13, deliverable 1).

Every route of the live app declares who may call it (``bayanihan/api/access.py``); the
server is held to the declaration for every role and organisation kind, and every read path
to the TLP access policy for every TLP level.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bayanihan.api.access import Access, Endpoint, endpoints
from bayanihan.api.app import create_app
from bayanihan.config import Settings
from bayanihan.model.members import OrgKind
from bayanihan.model.tlp import TLP
from bayanihan.share.policy import Reader, may_see, may_write
from tests.conftest import RunningHub
from tests.stixgen import bundle, indicator
from tests.taxii.conftest import PUBLIC, REGIONAL, TAXII

MakeHub = Callable[..., RunningHub]
#: FastAPI's own documentation routes: public, nothing of the hub's data
FRAMEWORK = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
#: (organisation, kind) of one organisation of each kind (tests/conftest.py seeds them)
ORGS = [("TH", OrgKind.MEMBER), ("JPCERT", OrgKind.PARTNER), ("OBS", OrgKind.OBSERVER),
        ("TH-BANK", OrgKind.DOWNSTREAM), ("HUB", OrgKind.HUB)]
ROLES = ("reader", "analyst", "admin")


def _routes(tmp_path: Path) -> list[Endpoint]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'routes.db'}",
                              data_dir=str(tmp_path)))
    return endpoints(app)


def test_every_route_declares_who_may_call_it(tmp_path: Path) -> None:
    routes = _routes(tmp_path)
    undeclared = [f"{sorted(r.methods)} {r.path}" for r in routes
                  if r.rule is None and r.path not in FRAMEWORK]
    assert undeclared == [], f"routes without an access declaration: {undeclared}"
    assert len([r for r in routes if r.rule is not None]) >= 45


def test_the_openapi_document_carries_every_declaration(make_hub: MakeHub) -> None:
    rh = make_hub()
    doc = httpx.get(f"{rh.url}/openapi.json").json()
    missing = [f"{method.upper()} {path}" for path, item in doc["paths"].items()
               for method, op in item.items() if "x-bayanihan-access" not in op]
    assert missing == []
    # every HTTP route of the app is in the document, or deliberately hidden
    routes = {(m, r.path) for r in _routes(Path(rh.hub.settings.data_dir))
              if r.in_schema for m in r.methods - {"HEAD"}}
    documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert routes <= documented


def test_one_rule_decides_who_may_write() -> None:
    """The WRITE declaration and the policy's may_write agree for every role and kind."""
    from bayanihan.api.access import WRITE

    for kind in OrgKind:
        for role in (*ROLES, None):
            reader = Reader(org="X", kind=kind)
            assert WRITE.admits(role, kind, "X") == may_write(reader, role), (kind, role)
    assert not may_write(Reader(org="B", kind=OrgKind.DOWNSTREAM), "analyst")
    assert not may_write(Reader(org="O", kind=OrgKind.OBSERVER), "admin")


def _concrete(path: str, method: str) -> str:
    # reads probe the public collection (readable without a key), writes the regional one
    values = {"collection_id": PUBLIC if method == "GET" else REGIONAL,
              "object_id": "indicator--00000000-0000-4000-8000-000000000000",
              "report_id": "report--00000000-0000-4000-8000-000000000000"}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "x"), path)


def _web_page(path: str) -> bool:
    """A server-rendered page (bayanihan/web), signed in by session rather than by key."""
    return not path.startswith(("/api/", "/taxii2/", "/healthz", "/static", "/metrics"))


def _status(client: httpx.Client, method: str, path: str) -> int:
    headers = {"Accept": TAXII, "Content-Type": TAXII} if path.startswith("/taxii2") else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["content"] = b"{}"
        kwargs["headers"] = {**headers, "Content-Type": headers.get("Content-Type",
                                                                    "application/json")}
    with client.stream(method, path, **kwargs) as r:  # streams: the status line is enough
        return r.status_code


def test_every_route_answers_as_declared_for_every_role_and_kind(make_hub: MakeHub) -> None:
    """Declared refusal -> 401/403; declared admission -> never 401, and 403 only where the
    declaration says the route narrows further (admin routes: the operator or own org)."""
    rh = make_hub()
    routes = [r for r in _routes(Path(rh.hub.settings.data_dir)) if not r.websocket
              and r.path not in FRAMEWORK]
    callers: list[tuple[str | None, OrgKind | None, str | None, httpx.Client]] = [
        (None, None, None, rh.client())]
    callers += [(org, kind, role, rh.client(org, role)) for org, kind in ORGS for role in ROLES]
    wrong = []
    checked = 0
    for route in routes:
        rule = route.rule
        assert isinstance(rule, Access)
        for method in sorted(route.methods - {"HEAD"}):
            path = _concrete(route.path, method)
            for org, kind, role, client in callers:
                status = _status(client, method, path)
                checked += 1
                if _web_page(route.path):
                    # pages admit by signed-in session, never by API key: a key alone gets a
                    # non-public page nothing but the sign-in redirect (or a CSRF refusal)
                    if "public" not in rule.roles and status not in (303, 401, 403):
                        wrong.append((method, route.path, org, role, status, "page served"))
                    continue
                admitted = rule.admits(role, kind, org)
                if not admitted and status not in (401, 403):
                    wrong.append((method, route.path, org, role, status, "should be refused"))
                if admitted and (status == 401 or (status == 403 and rule.reads != "admin")):
                    wrong.append((method, route.path, org, role, status, "should be admitted"))
    assert wrong == [], '\n'.join(map(str, wrong))
    assert checked > 500


LEVELS = [(TLP.CLEAR, None), (TLP.GREEN, None), (TLP.AMBER, None), (TLP.AMBER, "TH"),
          (TLP.AMBER_STRICT, None), (TLP.AMBER_STRICT, "TH"), (TLP.RED, "TH"), (TLP.RED, "SG")]
READERS = [(None, None, None, None), ("TH", OrgKind.MEMBER, None, None),
           ("SG", OrgKind.MEMBER, None, None), ("JPCERT", OrgKind.PARTNER, None, None),
           ("OBS", OrgKind.OBSERVER, None, None),
           ("TH-BANK", OrgKind.DOWNSTREAM, "TH", OrgKind.MEMBER),
           ("VN-SOC", OrgKind.DOWNSTREAM, "VN", OrgKind.MEMBER), ("HUB", OrgKind.HUB, None, None)]


def test_every_read_path_shows_what_the_policy_allows(make_hub: MakeHub) -> None:
    """route x organisation kind x TLP level (x audience) on every path that returns objects."""
    rh = make_hub()
    author = rh.client("VN")
    ids: dict[str, tuple[TLP, str | None]] = {}
    for n, (level, audience) in enumerate(LEVELS):
        obj = indicator(n, tlp=level)
        params = {"audience": audience} if audience else {}
        r = author.post("/api/v1/objects", json=bundle(obj), params=params)
        assert r.status_code == 200, r.text
        ids[obj["id"]] = (level, audience)
    wrong = []
    for org, kind, parent, parent_kind in READERS:
        reader = Reader(org=org, kind=kind, parent=parent, parent_kind=parent_kind)
        client = rh.client(org, "reader") if org else rh.client()
        taxii = {"Accept": TAXII}
        listed = set()
        for coll in (REGIONAL, PUBLIC):
            r = client.get(f"/taxii2/api/collections/{coll}/objects/", headers=taxii)
            if r.status_code == 200:
                listed |= {o["id"] for o in r.json().get("objects", [])}
            r = client.get(f"/taxii2/api/collections/{coll}/manifest/", headers=taxii)
            if r.status_code == 200:
                listed |= {o["id"] for o in r.json().get("objects", [])}
        for object_id, (level, audience) in ids.items():
            allowed = may_see(reader, level.value, "VN", [audience] if audience else None)
            seen = {
                "objects": client.get(f"/api/v1/objects/{object_id}").status_code == 200,
                "taxii": any(client.get(f"/taxii2/api/collections/{c}/objects/{object_id}/",
                                        headers=taxii).json().get("objects")
                             for c in (REGIONAL, PUBLIC)
                             if client.get(f"/taxii2/api/collections/{c}/", headers=taxii)
                             .status_code == 200),
                "versions": any(client.get(
                    f"/taxii2/api/collections/{c}/objects/{object_id}/versions/",
                    headers=taxii).status_code == 200 for c in (REGIONAL, PUBLIC)),
                "listing": object_id in listed,
            }
            for path, saw in seen.items():
                if saw != allowed:
                    wrong.append((org, level.value, audience, path, saw))
    assert wrong == []


@pytest.mark.parametrize(("org", "role"), [("TH-BANK", "analyst"), ("OBS", "admin"),
                                           ("TH", "reader")])
def test_who_may_not_write_is_refused_on_every_write_path(make_hub: MakeHub, org: str,
                                                          role: str) -> None:
    rh = make_hub()
    client = rh.client(org, role)
    obj = indicator(1)
    answers = [
        client.post("/api/v1/objects", json=bundle(obj)).status_code,
        client.post("/api/v1/reports", json={"title": "x"}).status_code,
        client.post(f"/taxii2/api/collections/{REGIONAL}/objects/", json={"objects": [obj]},
                    headers={"Accept": TAXII, "Content-Type": TAXII}).status_code,
    ]
    assert answers == [403, 403, 403]
    assert client.get(f"/api/v1/objects/{obj['id']}").status_code == 404
