"""Campaigns: infrastructure links and their limits, analysts' decisions, TLP on the views."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stix2validator import validate_instance
from typer.testing import CliRunner

from bayanihan.cli.campaigns import campaigns_app
from bayanihan.correlate import infrastructure
from bayanihan.correlate.campaign_publish import relationship_id
from bayanihan.correlate.campaigns import correlate_report, pending_reports
from bayanihan.correlate.links import INFRA_KINDS, LinkRules, load_rules
from bayanihan.hub import Hub
from bayanihan.ingest.bundles import Submitter
from bayanihan.ingest.report_stix import build
from bayanihan.ingest.report_submit import ensure_published
from bayanihan.ingest.reports import parse_report
from bayanihan.model.validation import VALIDATOR_OPTIONS
from bayanihan.store import audit
from bayanihan.store import organisations as orgs
from tests.conftest import RunningHub, seed
from tests.correlate.linking import campaigns_of, post_report
from tests.share.test_policy_matrix import CASES, EXPECTED, ORG_OF, READERS


def _phish(title: str, lure: str, observables: str = "", **extra: Any) -> dict[str, Any]:
    return {"vector": "phishing", "channel": "sms", "title": title, "lures": [lure],
            "observables": observables, **extra}


def _detail(client: Any, campaign_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/campaigns/{campaign_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_shortener_or_webmail_does_not_glue_unrelated_reports(
        linking_hub: Callable[..., RunningHub]) -> None:
    rh = linking_hub()
    th, id_ = rh.client("TH"), rh.client("ID")
    a = post_report(th, _phish("Bank lock SMS", "Your KBank account is locked. Verify now at "
                               "https://bit.ly/3xYzAb1 or lose access today.",
                               "sender: kbank.alerts.th@gmail.com"))
    b = post_report(id_, _phish("Parcel fee SMS", "Paket Anda tertahan di gudang. Bayar biaya "
                                "kirim di https://bit.ly/9QwErT2 sebelum besok.",
                                "sender: paket.pos.indo@gmail.com"))
    assert campaigns_of(th) == [] and campaigns_of(id_) == []
    # The same shortened URL, though, is evidence: a third report re-using it links to A.
    c = post_report(id_, _phish("Same short link", "Rekening terkunci, buka "
                                "https://bit.ly/3xYzAb1 segera."))
    (found,) = campaigns_of(th)
    shown = _detail(th, found["id"])
    assert {r["id"] for r in shown["report_list"]} == {a, c}
    (link,) = shown["links"]
    assert [e["kind"] for e in link["evidence"]] == ["url"]
    assert link["evidence"][0]["values"] == ["https://bit.ly/3xYzAb1"]
    assert b not in orjson.dumps(shown).decode()


def test_a_value_held_by_too_many_reports_links_nothing_more(hub: Hub, tmp_path: Path) -> None:
    rules_file = tmp_path / "linking.toml"
    rules_file.write_text('[thresholds]\nmax_reports_per_value = 3\n'
                          '[common.domain]\nadd = ["cdn-lures.example"]\n')
    rules = load_rules(rules_file)
    assert rules.max_reports_per_value == 3 and rules.is_common("domain", "cdn-lures.example")
    values = {("phone", "+66812345678"), ("domain", "cdn-lures.example")}

    def add(conn: Any, n: int) -> Any:
        infrastructure.index_values(conn, f"report--{n}", values)
        return infrastructure.shared_values(conn, f"report--{n}", values, rules)

    for n in range(3):
        links, common = hub.db.write_sync(add, n)
        assert {x.kind for x in links} == ({"phone"} if n else set())
        assert len(links) == n and ("domain", "cdn-lures.example") in common
    links, common = hub.db.write_sync(add, 3)  # a fourth holder: the phone is common now
    assert links == [] and ("phone", "+66812345678") in common


def test_a_rejected_link_stays_rejected_when_correlated_again(
        linking_hub: Callable[..., RunningHub]) -> None:
    rh = linking_hub()
    th, vn = rh.client("TH"), rh.client("VN")
    url = "https://thaipost-track-parcel.com/p/88121"
    a = post_report(th, _phish("Parcel SMS TH", f"Your parcel is held. Pay the fee: {url}"))
    b = post_report(vn, _phish("Parcel SMS VN", f"Bưu kiện bị giữ. Thanh toán tại {url}"))
    (found,) = campaigns_of(th)
    r = th.post("/api/v1/links/decisions", json={"reports": [a, b], "decision": "rejected",
                                                 "reason": "same shared host, different crew"})
    assert r.status_code == 200, r.text
    assert campaigns_of(th) == []
    assert th.get(f"/api/v1/campaigns/{found['id']}").status_code == 404
    again = rh.hub.db.write_sync(correlate_report, b)  # the evidence is found again
    assert [x.kind for x in again.links if {x.report_a, x.report_b} == {a, b}]
    assert again.campaign_id is None and campaigns_of(vn) == []
    # A reader key may not decide; an organisation that cannot see the reports gets 404.
    assert rh.client("TH", "reader").post("/api/v1/links/decisions", json={
        "reports": [a, b], "decision": "confirmed"}).status_code == 403
    bad = th.post("/api/v1/links/decisions", json={"reports": [a, "report--nope"],
                                                   "decision": "confirmed"})
    assert bad.status_code == 404 and bad.json()["fields"] == ["reports[1]"]
    assert th.post("/api/v1/links/decisions", json={"reports": [a, b], "decision": "maybe"}
                   ).json()["fields"] == ["decision"]
    actions = [e.action for e in rh.hub.db.read_sync(lambda c: list(audit.entries(c)))]
    assert "link.reject" in actions


def test_merge_and_split_are_audited_and_hold(linking_hub: Callable[..., RunningHub]) -> None:
    rh = linking_hub()
    th, vn, my = rh.client("TH"), rh.client("VN"), rh.client("MY")
    audience = ["TH", "VN"]
    u1, u2 = "https://kbank-verify-login.com/a", "https://scb-rewards-points.net/b"
    a1 = post_report(th, _phish("A1", f"Verify your account {u1}"), audience=audience)
    a2 = post_report(vn, _phish("A2", f"Xác minh tài khoản {u1}"), audience=audience)
    b1 = post_report(th, _phish("B1", f"Redeem points {u2}"), audience=audience)
    b2 = post_report(vn, _phish("B2", f"Đổi điểm thưởng {u2}"), audience=audience)
    by_reports = {frozenset(r["id"] for r in _detail(th, c["id"])["report_list"]): c["id"]
                  for c in campaigns_of(th)}
    x, y = by_reports[frozenset({a1, a2})], by_reports[frozenset({b1, b2})]
    assert my.post(f"/api/v1/campaigns/{x}/merge", json={"with": y}).status_code == 404
    r = th.post(f"/api/v1/campaigns/{x}/merge", json={"with": y, "reason": "same operator"})
    assert r.status_code == 200, r.text
    (merged,) = campaigns_of(vn)
    assert merged["id"] == x and merged["reports"] == 4
    assert _detail(vn, y)["merged_from"] == y
    r = vn.post(f"/api/v1/campaigns/{x}/split", json={"reports": [b1, b2], "reason": "no"})
    assert r.status_code == 200, r.text
    after = {c["id"]: {r["id"] for r in _detail(th, c["id"])["report_list"]}
             for c in campaigns_of(th)}
    assert after[x] == {a1, a2} and {b1, b2} in after.values() and len(after) == 2
    # Correlating again does not undo the split.
    rh.hub.db.write_sync(correlate_report, b1)
    assert len(campaigns_of(th)) == 2
    assert th.post(f"/api/v1/campaigns/{x}/confirm").status_code == 200
    assert _detail(th, x)["confirmed"] is True
    entries = rh.hub.db.read_sync(lambda c: list(audit.entries(c)))
    done = {(e.action, e.actor_org) for e in entries}
    assert {("campaign.merge", "TH"), ("campaign.split", "VN"), ("campaign.confirm", "TH")} <= done
    assert rh.hub.db.read_sync(audit.verify) is None


def test_the_campaign_is_valid_stix_and_found_by_filters(
        linking_hub: Callable[..., RunningHub]) -> None:
    rh = linking_hub()
    sg = rh.client("SG")
    url = "https://sg-ica-renewal-pay.com/x"
    a = post_report(sg, _phish("ICA SMS", f"Renew your pass at {url}", tlp="green"))
    post_report(rh.client("MY"), _phish("ICA SMS MY", f"Pasport: {url}", tlp="green"))
    (found,) = campaigns_of(sg)
    stix = _detail(sg, found["id"])["stix"]
    assert stix["type"] == "campaign" and validate_instance(stix, VALIDATOR_OPTIONS).is_valid
    assert rh.client("PH").get(f"/api/v1/objects/{found['id']}").status_code == 200
    assert rh.client().get(f"/api/v1/objects/{found['id']}").status_code == 404  # GREEN

    got = rh.client("PH").get(f"/api/v1/objects/{relationship_id(found['id'], a)}").json()
    rel = got["versions"][-1]["object"]
    assert rel["relationship_type"] == "related-to" and rel["target_ref"] == found["id"]
    assert validate_instance(rel, VALIDATOR_OPTIONS).is_valid
    # Filters: country, vector, time; bad values name the parameter.
    assert len(campaigns_of(sg, country="MY", vector="phishing", since="2020-01-01")) == 1
    for params in ({"country": "TH"}, {"vector": "malware"}, {"since": "2099-01-01"},
                   {"until": "2000-01-01"}):
        assert campaigns_of(sg, **params) == [], params
    for name, value in (("country", "XX"), ("vector", "smoke"), ("since", "yesterday")):
        r = sg.get("/api/v1/campaigns", params={name: value})
        assert r.status_code == 400 and r.json()["fields"] == [name]


@pytest.mark.slow
def test_campaign_views_follow_the_tlp_matrix(linking_hub: Callable[..., RunningHub]) -> None:
    """One report per TLP case (by SG), each linked to a GREEN report (by MY): a reader sees
    the campaign exactly when it may see the case's report (the public sees no GREEN)."""
    rh = linking_hub()
    ids = {}
    for n, (case, (tlp, audience, _)) in enumerate(CASES.items()):
        url = f"https://case-{n}-lure-host.com/x"
        report = _phish(f"case {case}", f"Pay here {url}", tlp=tlp.value)
        ids[case] = post_report(rh.client("SG"), report, audience=audience)
        post_report(rh.client("MY"), _phish(f"green {case}", f"Also {url}", tlp="green"))
    for reader in READERS:
        client = rh.client(ORG_OF[reader], "reader") if ORG_OF[reader] else rh.client()
        seen = {case for case, rid in ids.items()
                for c in campaigns_of(client)
                if rid in {r["id"] for r in _detail(client, c["id"])["report_list"]}}
        expected = {case for case in CASES if EXPECTED[(case, reader)] and reader != "public"}
        assert seen == expected, reader


@given(st.lists(st.sampled_from([*INFRA_KINDS, "variant", "voice", "lure-text"]), max_size=6),
       st.sampled_from([*INFRA_KINDS, "variant", "voice"]))
def test_more_evidence_never_lowers_the_score(kinds: list[str], extra: str) -> None:
    rules = load_rules()
    assert rules.score([*kinds, extra]) >= rules.score(kinds)
    assert rules.state(kinds, "rejected") == "rejected"
    assert rules.state([], "confirmed") == "linked"


@given(st.text(max_size=60), st.sampled_from(["url", "domain-name", "email-addr", "ipv4-addr"]))
def test_link_values_of_any_observable_text_never_fail(text: str, kind: str) -> None:
    values = infrastructure.values_of([{"type": kind, "value": text}])
    assert all(k in INFRA_KINDS and 0 < len(v) <= 400 for k, v in values)


def test_bad_rules_are_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[weights]\nurl = 1.5\n")
    with pytest.raises(ValueError, match="weights must lie in"):
        load_rules(path)
    path.write_text("[colours]\nx = 1\n")
    with pytest.raises(ValueError, match="unknown section"):
        load_rules(path)
    with pytest.raises(ValueError, match="thresholds"):
        LinkRules(weights={}, link_at=0.3, review_at=0.5)


def test_relink_links_reports_stored_without_the_report_path(hub: Hub) -> None:
    """Reports stored as plain STIX (TAXII, bundles) are linked by ``bayanihan campaigns
    relink``; a second run finds nothing left to do."""
    seed(hub)
    asyncio.run(ensure_published(hub))
    stored = []
    for org in ("TH", "VN"):
        found = hub.db.read_sync(orgs.require, org)
        report = parse_report(_phish(f"{org} SMS", "Pay the toll at "
                                     "https://toll-relink-test.com/pay now"))
        built = build(report, author=found.identity_id, country=org, techniques={})
        submitter = Submitter(found.code, found.identity_id, found.kind)
        assert asyncio.run(hub.ingest_objects(built.objects, submitter, None)).rejected == 0
        stored.append(built.report_id)
    assert sorted(hub.db.read_sync(pending_reports)) == sorted(stored)
    runner = CliRunner()
    args = ["relink", "--database", hub.settings.database()]
    done = runner.invoke(campaigns_app, args)
    assert done.exit_code == 0, done.output
    assert "2 report(s) linked" in done.output
    assert hub.db.read_sync(pending_reports) == []
    assert "0 report(s) linked" in runner.invoke(campaigns_app, args).output
    listed = runner.invoke(campaigns_app, ["list", "--database", hub.settings.database()])
    assert listed.exit_code == 0 and "Campaign" in listed.output
