"""The check API's batched look-up (``value_rows.lookup``) answers exactly what the export row
source (``value_rows.rows``) says each reader may see, whatever the TLP, audience, guard and
sightings; and a check call costs the same number of statements for 4 items as for 400."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from bayanihan.correlate import guard
from bayanihan.correlate.check import check, parse_items
from bayanihan.correlate.value_rows import lookup, rows
from bayanihan.model.stix import now_us
from bayanihan.share.exports.formats import Row, Scope
from bayanihan.share.policy import Reader, visible
from bayanihan.store import audit, keys
from tests.conftest import RunningHub
from tests.exports.helpers import post, report
from tests.security.test_poisoning import domain_indicator
from tests.security.test_poisoning import post as post_objects

READERS = ("TH", "SG", "VN", "MY", "TH-BANK", "VN-SOC", "JPCERT")
LOOKALIKE = "p\u0430y-fee.example.org"  # Cyrillic a: same skeleton as pay-fee.example.org


def _reader(rh: RunningHub, org: str) -> Reader:
    return rh.hub.db.read_sync(rh.hub.caller_sync, rh.key(org, "reader")).reader


def _shape(row: Row) -> tuple[Any, ...]:
    return (row.kind, row.value, row.skeleton, row.tlp, row.confidence, row.first_seen_us,
            row.indicators, row.campaigns, row.countries)


def _filled(make_hub: Callable[..., RunningHub]) -> RunningHub:
    rh = make_hub()
    th, vn = rh.client("TH"), rh.client("VN")
    post(th, report("red", ["red-sg.example.org", "https://red-sg.example.org/pay"], tlp="red",
                    audience=["SG"]))
    post(th, report("strict", ["strict-th-my.example.org", "203.0.113.9"], tlp="amber+strict",
                    audience=["TH", "MY"]))
    post(th, report("amber", ["amber.example.org", "pay-fee.example.org"], tlp="amber"))
    post(vn, report("amber, again", ["amber.example.org", "198.51.100.7"], tlp="amber",
                    countries=("VN",)))
    post(th, report("clear", ["clear.example.org"], tlp="clear"))
    post(vn, report("lookalike", [LOOKALIKE.encode("idna").decode()], tlp="green"))
    post_objects(th, domain_indicator(1, "scb.co.th"),  # protected: held
                 domain_indicator(2, "flagged.example.org"))
    flagged = domain_indicator(2, "flagged.example.org")
    r = vn.post("/api/v1/sightings", json={"indicator": flagged["id"],
                                           "verdict": "false-positive", "tlp": "green"})
    assert r.status_code == 201, r.text
    my = rh.client("MY")
    post_objects(my, domain_indicator(3, "stolen-key.example.org"))
    info = rh.hub.db.read_sync(keys.lookup, rh.key("MY"))
    assert info is not None
    rh.hub.db.write_sync(guard.quarantine, audit.Actor.console(), info.key_id, "test")
    return rh


def test_lookup_answers_what_the_export_rows_say(make_hub: Callable[..., RunningHub]) -> None:
    rh = _filled(make_hub)
    vn = rh.client("VN")  # the value index catches up before a check
    assert vn.post("/api/v1/check", json={"items": ["amber.example.org"]}).status_code == 200
    at = now_us()
    for org in READERS:
        reader = _reader(rh, org)

        def both(conn: Any, reader: Reader = reader) -> tuple[list[Row], list[Row]]:
            every = list(rows(conn, reader, Scope(), context=True, at_us=at))
            pairs = {(r.kind, r.value) for r in every} | {
                ("domain", "scb.co.th"), ("domain", "flagged.example.org"),
                ("domain", "stolen-key.example.org"), ("domain", "red-sg.example.org"),
                ("ip", "203.0.113.9"), ("domain", "never-reported.example.org")}
            skeletons = {"pay-fee.example.org"}
            found = lookup(conn, reader, pairs, skeletons, at_us=at)
            wanted = [r for r in every if (r.kind, r.value) in pairs or r.skeleton in skeletons]
            return found, wanted

        found, wanted = rh.hub.db.read_sync(both)
        assert [_shape(r) for r in found] == [_shape(r) for r in wanted], org
        values = {r.value for r in found}
        assert not values & {"scb.co.th", "flagged.example.org", "stolen-key.example.org"}, org
        assert ("red-sg.example.org" in values) == (org in ("TH", "SG")), org
        assert ("203.0.113.9" in values) == (org in ("TH", "MY")), org
        assert ("amber.example.org" in values) == (org != "JPCERT"), org


def test_a_lookalike_is_found_through_its_skeleton(make_hub: Callable[..., RunningHub]) -> None:
    rh = _filled(make_hub)
    r = rh.client("SG").post("/api/v1/check", json={"items": ["pay-fee.example.org"]})
    assert r.status_code == 200, r.text
    matches = r.json()["results"][0]["matches"]
    assert {(m["match"], m["value"]) for m in matches} == {
        ("exact", "pay-fee.example.org"), ("lookalike", LOOKALIKE.encode("idna").decode())}
    steps = [part.split(";")[0].strip() for part in r.headers["server-timing"].split(",")]
    assert steps == ["check", "parse", "fresh", "values", "lures", "variants", "reports", "cpu"]


def test_a_check_call_costs_the_same_statements_for_4_items_as_for_400(
        make_hub: Callable[..., RunningHub]) -> None:
    rh = _filled(make_hub)
    rh.client("VN").post("/api/v1/check", json={"items": ["amber.example.org"]})
    reader = _reader(rh, "VN")
    known = ["amber.example.org", "198.51.100.7", "https://red-sg.example.org/pay",
             "pay-fee.example.org"]
    many = known + [f"host-{n}.example.org" for n in range(300)] + [
        f"192.0.2.{n}" for n in range(1, 97)]
    counts = []
    engine, here = rh.hub.db.read_engine, threading.get_ident()
    for asked in (known, many):
        items = parse_items({"items": asked})
        statements: list[str] = []

        def count(*args: Any, seen: list[str] = statements) -> None:
            if threading.get_ident() == here and args[2].lstrip().upper().startswith("SELECT"):
                seen.append(args[2])  # not the hub's event reader, not a connection's set-up

        event.listen(engine, "before_cursor_execute", count)
        try:
            results = rh.hub.db.read_sync(check, reader, items)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert [r["known"] for r in results[:4]] == [True, True, False, True]
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_the_visibility_condition_is_built_once_per_reader() -> None:
    th = Reader(org="TH")
    assert visible(th) is visible(Reader(org="TH"))
    assert visible(th) is not visible(Reader(org="VN"))
