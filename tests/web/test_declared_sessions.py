"""Every web route answers as it declares, for a signed-in person of every role and kind.

``tests/security/test_declared_access.py`` holds the API to its declarations by calling each
route with keys; web pages ignore keys by design (sessions only), so here the same
declarations (``api/access.py``) are checked with sessions: a person whose role and
organisation the rule admits is never refused (403 only where the rule narrows further, on
admin routes), a person it does not admit is refused with 403, and a browser that is not
signed in is sent to the sign-in page (or refused) wherever the rule wants a signed-in user.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from bayanihan.api.access import Endpoint, endpoints
from bayanihan.api.app import create_app
from bayanihan.config import Settings
from bayanihan.model.members import OrgKind
from tests.conftest import RunningHub
from tests.web.conftest import add_person, csrf_of, sign_in

ORGS = [("TH", OrgKind.MEMBER), ("JPCERT", OrgKind.PARTNER), ("OBS", OrgKind.OBSERVER),
        ("TH-BANK", OrgKind.DOWNSTREAM), ("HUB", OrgKind.HUB)]
ROLES = ("reader", "analyst", "admin")
NOT_PAGES = ("/api/", "/taxii2", "/healthz", "/metrics", "/docs", "/redoc", "/openapi",
             "/static")
IDS = {"object_id": "report--00000000-0000-4000-8000-000000000000",
       "campaign_id": "campaign--00000000-0000-4000-8000-000000000000",
       "alert_id": "report--00000000-0000-4000-8000-000000000001",
       "run_id": "run-none", "username": "nobody", "key_id": "000000000000"}


def _pages(tmp_path: Path) -> list[Endpoint]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'pages.db'}",
                              data_dir=str(tmp_path)))
    return [e for e in endpoints(app) if e.path and not e.path.startswith(NOT_PAGES)]


def _concrete(path: str) -> str:
    for name, value in IDS.items():
        path = path.replace("{" + name + "}", value)
    return path


def _call(c: httpx.Client, method: str, path: str, csrf: str) -> int:
    """The status; 0 for "sent to the sign-in page" (a redirect to /signin)."""
    if method == "GET":
        with c.stream("GET", path) as r:  # /live streams: the status line is enough
            status, location = r.status_code, r.headers.get("location")
    else:
        r = c.request(method, path, data={"csrf": csrf})
        status, location = r.status_code, r.headers.get("location")
    return 0 if status == 303 and location == "/signin" else status


def test_every_page_answers_as_declared_for_every_role_and_kind(web_hub: RunningHub,
                                                                tmp_path: Path) -> None:
    pages = [p for p in _pages(tmp_path) if not p.websocket]
    assert len(pages) >= 25 and all(p.rule is not None for p in pages)
    wrong = []
    checked = 0
    anonymous = httpx.Client(base_url=web_hub.url, timeout=30)
    csrf = csrf_of(anonymous.get("/signin").text)
    people = [(None, None, None, anonymous, csrf)]
    for org, kind in ORGS:
        for role in ROLES:
            person = add_person(web_hub, f"{role}.{org.lower()}", org, role)
            client = sign_in(web_hub, person)
            people.append((org, kind, role, client, csrf_of(client.get("/search").text)))
    for page in pages:
        rule = page.rule
        assert rule is not None
        for method in sorted(page.methods - {"HEAD"}):
            if page.path == "/signout":
                continue  # would end the session the next routes need (tested in test_signin)
            for org, kind, role, client, token in people:
                status = _call(client, method, _concrete(page.path), token)
                checked += 1
                admitted = rule.admits(role, kind, org) if role else \
                    rule.admits(None, None, None)
                if role is None and not admitted and status not in (0, 401, 403):
                    wrong.append((method, page.path, "signed out", status, "should be refused"))
                if role and not admitted and status != 403:
                    wrong.append((method, page.path, org, role, status, "should be refused"))
                if role and admitted and (status in (0, 401) or
                                          (status == 403 and rule.reads != "admin")):
                    wrong.append((method, page.path, org, role, status, "should be admitted"))
    for _, _, _, client, _ in people:
        client.close()
    assert wrong == [], "\n".join(map(str, wrong))
    assert checked > 400
