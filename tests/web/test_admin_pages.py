"""Admin, cooperation and sandbox pages, and ``bayanihan user add``, as a browser's HTTP
client meets them (the browser tests drive the same pages in Chromium)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from typer.testing import CliRunner

from bayanihan.cli.main import app as cli
from bayanihan.sandbox.hub_store import HubSandboxStore
from bayanihan.store import audit
from tests.conftest import RunningHub
from tests.correlate.linking import LURES
from tests.web.conftest import PASSWORD, Person, add_person, csrf_of, sign_in


@contextmanager
def signed(rh: RunningHub, person: Person) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=rh.url, timeout=30) as c:
        yield sign_in(rh, person, c)


CARD = Path(__file__).resolve().parents[2] / "docs" / "sandbox-cards" / "thai-cv" / "card.json"


def test_user_add_on_the_command_line_then_sign_in(web_hub: RunningHub) -> None:
    url = web_hub.hub.settings.database_url
    r = CliRunner().invoke(cli, ["user", "add", "mali", "--org", "th", "--role", "analyst",
                                 "--database", url], env={"BAYANIHAN_NEW_PASSWORD": PASSWORD})
    assert r.exit_code == 0, r.output
    assert "added mali (TH, analyst)" in r.output
    again = CliRunner().invoke(cli, ["user", "add", "mali", "--org", "TH", "--database", url],
                               env={"BAYANIHAN_NEW_PASSWORD": PASSWORD})
    assert again.exit_code == 2 and "already exists" in again.output
    short = CliRunner().invoke(cli, ["user", "add", "x", "--org", "TH", "--database", url],
                               env={"BAYANIHAN_NEW_PASSWORD": "short"})
    assert short.exit_code == 2 and "password" in short.output
    listed = CliRunner().invoke(cli, ["user", "list", "--database", url])
    assert "mali" in listed.output and PASSWORD not in listed.output
    with signed(web_hub, Person("mali", "TH", "analyst")) as c:
        assert "Overview for TH" in c.get("/").text


def test_operator_admin_manages_users_keys_orgs_and_sees_the_audit(web_hub: RunningHub) -> None:
    op = add_person(web_hub, "operator", "HUB", "admin")
    with signed(web_hub, op) as c:
        page = c.get("/admin")
        assert page.status_code == 200 and "operator" in page.text
        token = csrf_of(page.text)
        r = c.post("/admin/users", data={"csrf": token, "username": "lina", "org": "VN",
                                         "role": "reader", "password": PASSWORD})
        assert r.status_code == 303
        r = c.post("/admin/users", data={"csrf": token, "username": "bad", "org": "VN",
                                         "role": "reader", "password": "short"})
        assert r.status_code == 400 and "password" in r.text
        r = c.post("/admin/keys", data={"csrf": token, "org": "VN", "role": "analyst",
                                        "label": "SIEM"})
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        key = re.search(r'<code id="new-key">([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
        api = httpx.get(web_hub.url + "/api/v1/alerts", headers={"Authorization": f"Bearer {key}"})
        assert api.status_code == 200
        key_id = key.split("_")[1]
        r = c.post(f"/admin/keys/{key_id}/revoke", data={"csrf": token})
        assert r.status_code == 303
        api = httpx.get(web_hub.url + "/api/v1/alerts", headers={"Authorization": f"Bearer {key}"})
        assert api.status_code == 401
        assert key not in c.get("/admin").text  # the secret is never shown again
        r = c.post("/admin/orgs", data={"csrf": token, "code": "VN-BANK", "name": "A bank",
                                        "kind": "downstream", "parent": "VN"})
        assert r.status_code == 303 and "VN-BANK" in c.get("/admin/orgs").text
        r = c.post("/admin/users/lina/state", data={"csrf": token, "disable": "true"})
        assert r.status_code == 303
        audit_page = c.get("/admin/audit")
        assert "The chain is intact" in audit_page.text
        for action in ("user.add", "key.create", "key.revoke", "org.add", "user.disable"):
            assert action in audit_page.text, action
        # a form without the token changes nothing
        assert c.post("/admin/users", data={"username": "x", "org": "VN", "role": "reader",
                                            "password": PASSWORD}).status_code == 403


def test_member_admin_manages_only_its_own_organisation(web_hub: RunningHub) -> None:
    th = add_person(web_hub, "th.admin", "TH", "admin")
    add_person(web_hub, "vn.person", "VN", "reader")
    with signed(web_hub, th) as c:
        page = c.get("/admin")
        assert page.status_code == 200 and "vn.person" not in page.text
        token = csrf_of(page.text)
        r = c.post("/admin/users", data={"csrf": token, "username": "x1", "org": "VN",
                                         "role": "reader", "password": PASSWORD})
        assert r.status_code == 403
        r = c.post("/admin/users/vn.person/state", data={"csrf": token, "disable": "true"})
        assert r.status_code == 404
        for path in ("/admin/orgs", "/admin/audit", "/sandbox"):
            assert c.get(path).status_code == 403, path
    analyst = add_person(web_hub, "th.analyst", "TH")
    with signed(web_hub, analyst) as c:
        assert c.get("/admin").status_code == 403


def _campaign_across_my_and_th(rh: RunningHub) -> None:
    for org in ("MY", "TH"):
        r = rh.client(org).post("/api/v1/reports", json={
            "vector": "phishing", "channel": "sms", "title": f"Bank director SMS ({org})",
            "lures": [LURES["th"]], "observables": "https://bank-verify-th.example.com/login",
            "countries": [org], "languages": ["th"], "tlp": "green"})
        assert r.status_code == 201, r.text


def test_cooperation_figures_and_acknowledging_an_alert(web_hub: RunningHub) -> None:
    rh = web_hub
    _campaign_across_my_and_th(rh)
    vn = add_person(rh, "an.nguyen", "VN")
    with signed(rh, vn) as c:
        alert_id = rh.client("VN").get("/api/v1/alerts").json()["alerts"][0]["id"]
        home = c.get("/")
        assert "Defences to deploy" in home.text and "/api/v1/exports/suricata?campaign=" in home.text
        r = c.post(f"/alerts/{alert_id}/acknowledge", data={"csrf": csrf_of(home.text)})
        assert r.status_code == 303
        assert "Acknowledged by VN" in c.get("/").text
        r = c.post(f"/alerts/{alert_id}/acknowledge", data={"csrf": csrf_of(home.text)})
        assert r.status_code == 303  # twice is still once
        page = c.get("/cooperation")
        assert page.status_code == 200
        rows = re.findall(r'<th scope="row">([^<]+) <span class="code">(\w+)</span></th>\s*'
                          r'<td class="num">(\d+)</td>\s*<td class="num">([^<]+)</td>\s*'
                          r'<td class="num">(\d+)</td>\s*<td class="num">([^<]+)</td>', page.text)
        names = [r[0] for r in rows]
        assert names == sorted(names) and len(names) == 11  # one fixed order, never a ranking
        by = {r[1]: r for r in rows}
        assert by["MY"][2] == "1" and by["TH"][2] == "1"
        assert by["MY"][3] == "too few reports to say"  # no median from one report
        assert by["VN"][4] == "1" and by["VN"][5].startswith("1 of 1")
    th = add_person(rh, "somchai", "TH")
    with signed(rh, th) as c:
        home = c.get("/")
        r = c.post(f"/alerts/{alert_id}/acknowledge", data={"csrf": csrf_of(home.text)})
        assert r.status_code == 404  # only the recipient acknowledges
    acks = rh.hub.db.read_sync(lambda conn: [e for e in audit.entries(conn)
                                             if e.action == "alert.acknowledged"])
    assert acks
    assert len(acks) == 1 and acks[0].actor_org == "VN"
    bank = add_person(rh, "bank.reader", "TH-BANK", "reader")
    with signed(rh, bank) as c:
        assert c.get("/cooperation").status_code == 403
        assert "Cooperation" not in c.get("/").text


def test_sandbox_cards_for_the_operator_and_publishing(web_hub: RunningHub) -> None:
    rh = web_hub
    card = json.loads(CARD.read_text())
    store = HubSandboxStore(rh.hub.db, audit.Actor.console())
    run_id = store.save_run(card, [])
    op = add_person(rh, "operator", "HUB", "admin")
    with signed(rh, op) as c:
        runs = c.get("/sandbox")
        assert runs.status_code == 200 and run_id in runs.text
        page = c.get(f"/sandbox/runs/{run_id}")
        assert page.status_code == 200
        assert "Grade:" in page.text and "False-positive rate" in page.text
        assert c.get("/sandbox/runs/run-nope").status_code == 404
        r = c.post(f"/sandbox/runs/{run_id}/publish", data={"csrf": csrf_of(page.text),
                                                            "tlp": "red"})
        assert r.status_code == 400 and "Not published" in r.text
        r = c.post(f"/sandbox/runs/{run_id}/publish", data={"csrf": csrf_of(page.text),
                                                            "tlp": "green"})
        assert r.status_code == 303
        published = c.get(r.headers["location"])
        assert "TLP:GREEN" in published.text


def test_every_page_carries_a_csp_and_loads_only_hub_assets(web_hub: RunningHub) -> None:
    op = add_person(web_hub, "operator", "HUB", "admin")
    with signed(web_hub, op) as c:
        for path in ("/", "/search?q=x", "/cooperation", "/admin", "/admin/orgs",
                     "/admin/audit", "/sandbox", "/signin"):
            r = c.get(path, follow_redirects=True)
            assert r.status_code == 200, path
            csp = r.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
            assert r.headers["x-content-type-options"] == "nosniff"
            for src in re.findall(r'(?:src|href)="([^"]+)"', r.text):
                assert not src.startswith(("http:", "https:", "//")), (path, src)
        for asset in ("/static/bayanihan.css", "/static/live.js", "/static/report.js"):
            assert c.get(asset).status_code == 200
