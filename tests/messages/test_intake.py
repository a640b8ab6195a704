"""POST /api/v1/messages: folding, linking, errors by index and field, drafts, retention."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from sqlalchemy import func, select

from bayanihan.messages.tables import message_cluster, message_raw
from tests.conftest import RunningHub
from tests.messages.conftest import LURE, OTHER, message


def count(rh: RunningHub, table: object) -> int:
    return int(rh.hub.db.read_sync(
        lambda c: c.execute(select(func.count()).select_from(table)).scalar()))  # type: ignore[arg-type]


def clusters(rh: RunningHub, org: str = "TH") -> list[dict]:
    r = rh.client(org, "reader").get("/api/v1/messages/clusters")
    assert r.status_code == 200, r.text
    return r.json()["clusters"]


def test_copies_and_variants_fold_into_one_lure(make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    personalised = "เรียนคุณสมชาย " + LURE.replace("24", "12")
    batch = [message(sender="0812345678", received="2026-11-20T08:00:00Z"),
             message(sender="+66 81 234 5678", received="2026-11-20T09:00:00Z"),
             message(personalised, sender="0899999999", received="2026-11-21T07:00:00Z"),
             message(OTHER, sender="LAZADA", received="2026-11-20T10:00:00Z")]
    r = rh.client("TH").post("/api/v1/messages", json=batch)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 4 and r.json()["new_clusters"] == 2
    found = {c["count"]: c for c in clusters(rh)}
    wave = found[3]
    assert wave["senders"] == ["+66812345678", "+66899999999"]  # one number, two spellings
    assert (wave["first_seen"], wave["last_seen"]) == ("2026-11-20T08:00:00.000Z",
                                                       "2026-11-21T07:00:00.000Z")
    assert {"kind": "url", "value": "https://scb-verify-th.com/login"} in wave["observables"]
    assert found[1]["senders"] == ["LAZADA"]
    # JSON lines join the same clusters
    lines = b"\n".join(orjson.dumps(message(sender="0823456789")) for _ in range(2))
    r = rh.client("TH").post("/api/v1/messages", content=lines,
                             headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    assert r.json()["new_clusters"] == 0
    assert {c["count"] for c in clusters(rh)} == {5, 1}
    # another member's messages never fold into TH's lures, and TH's are not VN's to read
    rh.client("VN").post("/api/v1/messages", json=[message(country="VN", sender="LAZADA")])
    assert [c["count"] for c in clusters(rh, "VN")] == [1]


def test_a_bad_message_refuses_the_batch_naming_index_and_field(
        make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    batch = [message() for _ in range(5)]
    batch[3]["country"] = "XX"
    batch[4]["received"] = "yesterday"
    del batch[1]["channel"]
    r = rh.client("TH").post("/api/v1/messages", json=batch)
    assert r.status_code == 422
    assert r.json()["fields"] == ["messages[1].channel", "messages[3].country",
                                  "messages[4].received"]
    assert count(rh, message_raw) == 0 and count(rh, message_cluster) == 0
    r = rh.client("TH").post("/api/v1/messages", content=b'[{"text": "x"', headers={
        "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["fields"] == ["body"]
    r = rh.client("TH").post("/api/v1/messages", json=[message()] * 10_001)
    assert r.status_code == 413 and r.json()["fields"] == ["messages"]
    assert rh.client("TH", "reader").post("/api/v1/messages", json=[message()]).status_code == 403
    assert rh.client().post("/api/v1/messages", json=[message()]).status_code == 401


def test_messages_link_to_a_known_report_and_its_campaign(
        make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    report = {"vector": "phishing", "channel": "sms", "title": "SCB suspension SMS",
              "lures": [LURE], "countries": ["TH"], "tlp": "green"}
    made = rh.client("VN").post("/api/v1/reports", json=report)
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    variant = "เรียนคุณวิภา " + LURE.replace("https://scb-verify-th.com/login", "https://x.co/a")
    r = rh.client("TH").post("/api/v1/messages", json=[message(variant)])
    assert r.status_code == 200, r.text
    [cluster] = clusters(rh)
    assert {(x["report"], x["kind"]) for x in cluster["links"]} == {(rid, "lure-text")}
    # shared infrastructure links too: a message carrying only the report's URL
    r = rh.client("TH").post("/api/v1/messages", json=[message(
        "Your parcel is held, pay the fee at https://scb-verify-th.com/login today")])
    linked = {x["kind"] for c in clusters(rh) for x in c["links"] if x["report"] == rid}
    assert linked == {"lure-text", "infrastructure"}


def test_a_red_report_is_not_shown_to_a_member_outside_its_audience(
        make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    report = {"vector": "phishing", "channel": "sms", "title": "SCB suspension SMS",
              "lures": [LURE], "countries": ["TH"], "tlp": "red", "audience": ["KH"]}
    assert rh.client("VN").post("/api/v1/reports", json=report).status_code == 201
    rh.client("TH").post("/api/v1/messages", json=[message()])
    assert clusters(rh)[0]["links"] == []


def test_a_wave_over_the_threshold_becomes_a_draft_with_the_recipient_masked(
        make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    admin = rh.client("TH", "admin")
    r = admin.put("/api/v1/messages/settings", json={"min_count": 3, "min_senders": 2})
    assert r.status_code == 200, r.text
    assert admin.put("/api/v1/messages/settings", json={"min_count": 0}).json()["fields"] == [
        "min_count"]
    assert rh.client("TH").put("/api/v1/messages/settings", json={}).status_code == 403
    text = "คุณมาลี ทองดี โปรดโทรกลับ 0861112222 " + LURE
    recipient = {"number": "+66861112222", "name": "มาลี ทองดี"}
    batch = [message(text, sender=s, recipient=recipient)
             for s in ("0812345678", "0812345678", "0823456789")]
    r = rh.client("TH").post("/api/v1/messages", json=batch[:2])
    assert r.json()["drafts"] == []  # 2 messages, one sender: under the threshold
    r = rh.client("TH").post("/api/v1/messages", json=batch[2:])
    assert len(r.json()["drafts"]) == 1
    [draft] = rh.client("TH").get("/api/v1/messages/drafts").json()["drafts"]
    assert draft["status"] == "draft"
    shared = orjson.dumps(draft["report"]).decode()
    assert "0861112222" not in shared and "มาลี" not in shared and "ทองดี" not in shared
    assert "[recipient number]" in draft["report"]["lures"][0]
    assert set(draft["report"]["observables"]) >= {"+66812345678", "+66823456789"}
    pub = rh.client("TH").post(f"/api/v1/messages/drafts/{draft['id']}/publish")
    assert pub.status_code == 201, pub.text
    got = rh.client("TH", "reader").get(f"/api/v1/reports/{pub.json()['report']}")
    assert got.status_code == 200
    again = rh.client("TH").post(f"/api/v1/messages/drafts/{draft['id']}/publish")
    assert again.status_code == 409


def test_auto_publish_at_the_members_tlp(make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    rh.client("TH", "admin").put("/api/v1/messages/settings", json={
        "min_count": 2, "min_senders": 1, "auto_publish": True, "publish_tlp": "green"})
    rh.client("TH").post("/api/v1/messages", json=[message(), message()])
    [draft] = rh.client("TH").get("/api/v1/messages/drafts").json()["drafts"]
    assert draft["status"] == "published"
    seen = rh.client("SG", "reader").get(f"/api/v1/reports/{draft['report_id']}")
    assert seen.status_code == 200  # green: every member sees it


def test_downstream_messages_join_their_members_lures(
        make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    rh.client("TH").post("/api/v1/messages", json=[message()])
    rh.client("TH-BANK").post("/api/v1/messages", json=[message(sender="0823456789")])
    assert [c["count"] for c in clusters(rh)] == [2]


def test_raw_messages_are_purged_after_the_retention(make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub(message_retention_days=0)
    rh.client("TH").post("/api/v1/messages", json=[message(), message()])
    assert rh.client("TH", "admin").post("/api/v1/admin/messages/purge").status_code == 403
    r = rh.client("HUB", "admin").post("/api/v1/admin/messages/purge")
    assert r.status_code == 200 and r.json()["purged"] == 2
    assert count(rh, message_raw) == 0
    assert [c["count"] for c in clusters(rh)] == [2]  # the lure and its count stay
