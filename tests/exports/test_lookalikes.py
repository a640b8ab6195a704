"""Lookalike domains meet: real scam SMS (``../shared/data/sms/``, Philippine spam) where one
report names a domain and another a Cyrillic, Greek or fullwidth lookalike of it. The two
reports are linked (infrastructure evidence "lookalike of …"), the check API finds the
original from the lookalike (and from a lookalike never reported), and the exports carry the
lookalike in punycode with what it imitates."""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import cache

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import or_, select

from bayanihan.correlate.tables_campaigns import report_link
from bayanihan.model.skeleton import skeleton
from tests.conftest import SHARED_DATA, RunningHub, need
from tests.exports.helpers import export, post, report

SMS = SHARED_DATA / "sms" / "ph-spam-sms-bwandowando"
ORIGINAL = "apkgametop.com"
LOOKALIKES = {  # what an attacker registers to look like ORIGINAL
    "cyrillic": "\u0430pkgametop.com",  # а U+0430
    "greek": "apkgamet\u03bfp.com",  # ο U+03BF
    "fullwidth": "\uff41pkgametop.com",  # ａ U+FF41 (IDNA maps it to ASCII: the same domain)
}


@cache
def _texts(domain: str) -> list[str]:
    need(f"the real SMS data in {SMS}", (SMS / "SPAM_SMS.csv").exists())
    with (SMS / "SPAM_SMS.csv").open(encoding="utf-8", newline="") as fh:
        return [row["text"] for row in csv.DictReader(fh) if domain in row["text"]]


def _linked(rh: RunningHub, a: str, b: str) -> dict[str, str]:
    """kind -> evidence detail of the links between reports a and b."""
    found = rh.hub.db.read_sync(lambda conn: conn.execute(select(
        report_link.c.kind, report_link.c.evidence).where(or_(
            (report_link.c.report_a == a) & (report_link.c.report_b == b),
            (report_link.c.report_a == b) & (report_link.c.report_b == a)))).all())
    return {k: orjson.loads(e).get("detail", "") for k, e in found}


@pytest.fixture
def served(make_hub: Callable[..., RunningHub]) -> tuple[RunningHub, dict[str, str]]:
    rh = make_hub()
    original = _texts(ORIGINAL)[0]
    other = _texts("antiviruspedia.net")  # another real lure, its domain swapped
    ids = {"original": post(rh.client("TH"), report("Casino SMS", [original],
                                                    lures=(original,)))}
    for n, (script, fake) in enumerate(sorted(LOOKALIKES.items())):
        text = other[n].replace("antiviruspedia.net/Live", f"{fake}/LivePH")
        assert fake in text
        org = ("VN", "ID", "MY")[n]
        ids[script] = post(rh.client(org), report(f"Casino SMS {script}", [text], lures=(text,),
                                                  countries=(org,)))
    return rh, ids


def test_a_lookalike_links_to_the_report_with_the_original(
        served: tuple[RunningHub, dict[str, str]]) -> None:
    rh, ids = served
    for script in ("cyrillic", "greek"):
        links = _linked(rh, ids["original"], ids[script])
        assert "lookalike" in links, (script, links)
        assert ORIGINAL in links["lookalike"]  # "lookalike of apkgametop.com"
    assert {"domain", "lookalike"} & set(_linked(rh, ids["original"], ids["fullwidth"]))


def test_check_finds_the_original_from_a_lookalike(
        served: tuple[RunningHub, dict[str, str]]) -> None:
    rh, _ = served
    sg = rh.client("SG")
    unseen = "apkg\u0430met\u043ep.com"  # two Cyrillic letters: never reported
    items = [LOOKALIKES["cyrillic"], unseen, f"Spin your luck at https://{unseen}/LivePH now!"]
    results = sg.post("/api/v1/check", json={"items": items}).json()["results"]
    for result in results:
        assert result["known"], result
        values = {(m["match"], m["value"]) for m in result["matches"]}
        assert ("lookalike", ORIGINAL) in values or ("exact", ORIGINAL) in values, result
    first = {(m["match"], m["value"]) for m in results[0]["matches"]}
    assert ("exact", LOOKALIKES["cyrillic"].encode("idna").decode()) in first
    assert ("lookalike", ORIGINAL) in first
    # the ASCII original finds its lookalikes too
    back = sg.post("/api/v1/check", json={"items": [ORIGINAL]}).json()["results"][0]
    assert {m["value"] for m in back["matches"] if m["match"] == "lookalike"} == {
        LOOKALIKES[s].encode("idna").decode() for s in ("cyrillic", "greek")}


def test_exports_carry_lookalikes_in_punycode(served: tuple[RunningHub, dict[str, str]]) -> None:
    rh, _ = served
    sg = rh.client("SG")
    puny = LOOKALIKES["greek"].encode("idna").decode()
    assert puny.startswith("xn--")
    assert puny in export(sg, "domains").text and f"{puny} CNAME ." in export(sg, "rpz").text
    assert f"{puny},{ORIGINAL}," in export(sg, "csv").text


@given(st.text(alphabet=st.characters(codec="ascii", categories=("Ll", "Nd")), min_size=1,
               max_size=30))
def test_an_ascii_name_is_its_own_skeleton(name: str) -> None:
    assert skeleton(name) == name
    assert skeleton(skeleton(name)) == skeleton(name)
