"""The fast path of the plain lists and RPZ (``correlate/value_pages.py``) gives exactly what
the full row source (``value_rows.rows``) gives, for every reader, kind, time and scope; a
false-positive verdict takes the value out of the flagging organisation's exports whoever
reported it; the TLSH list carries the digests of reports' samples; ``bayanihan export``
starts without the other command groups."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import tlsh
from hypothesis import given
from hypothesis import strategies as st

from bayanihan.correlate import value_index
from bayanihan.correlate.guard import Guard
from bayanihan.correlate.sightings import DAY_US
from bayanihan.correlate.value_pages import value_pages
from bayanihan.correlate.value_rows import rows
from bayanihan.model.members import OrgKind
from bayanihan.model.stix import now_us
from bayanihan.share.exports import Scope
from bayanihan.share.exports.formats import UNMARKED_TLPS as UNMARKED
from bayanihan.share.policy import PUBLIC, Reader
from tests.conftest import RunningHub
from tests.correlate.linking import family, post_report
from tests.exports.helpers import SHA, export, post, report, values

SHARED = "shared-phish.example.net"


def _indicators(client: httpx.Client, report_id: str) -> dict[str, str]:
    """indicator pattern -> id, of one report."""
    r = client.get(f"/api/v1/reports/{report_id}")
    assert r.status_code == 200, r.text
    return {o["pattern"]: o["id"] for o in r.json()["objects"] if o["type"] == "indicator"}


def _sight(client: httpx.Client, indicator: str, verdict: str, **extra: Any) -> None:
    r = client.post("/api/v1/sightings", json={"indicator": indicator, "verdict": verdict,
                                               "tlp": "green", **extra})
    assert r.status_code == 201, r.text


@pytest.fixture
def busy(make_hub: Callable[..., RunningHub]) -> RunningHub:
    """Reports at every TLP, a shared value, a protected one, sightings of both verdicts."""
    rh = make_hub()
    th, vn = rh.client("TH"), rh.client("VN")
    a = post(th, report("A", [SHARED, "hxxps://pay-toll[.]example.org/p?x=1", "198.51.100.7",
                              "login.scb.co.th", SHA, "10.1.2.0/24"]))
    post(vn, report("B", [SHARED, "courier-fee.example.com", "+66 81 234 5678"], tlp="amber",
                    countries=("VN",)))
    post(th, report("C", ["red-only.example.org"], tlp="red", audience=["TH", "SG"]))
    seen = _indicators(th, a)
    by_value = {p.split("'")[1]: i for p, i in seen.items()}
    _sight(rh.client("SG"), by_value[SHARED], "false-positive")
    _sight(rh.client("MY"), by_value["198.51.100.7"], "seen", last_seen="2099-01-01T00:00:00Z")
    return rh


READERS = [Reader(org="TH", kind=OrgKind.MEMBER), Reader(org="SG", kind=OrgKind.MEMBER),
           Reader(org="MY", kind=OrgKind.MEMBER), PUBLIC]


def test_fast_values_are_the_rows_values(busy: RunningHub) -> None:
    db = busy.hub.db
    db.write_sync(value_index.catch_up)
    start = now_us()
    for reader in READERS:
        for days in (0, 10, 40, 400):
            at = start + days * DAY_US
            for scope in (Scope(tlps=UNMARKED), Scope(tlps=UNMARKED, min_confidence=45),
                          Scope(tlps=UNMARKED, vectors=("malware",))):
                for kind in ("domain", "url", "ip", "phone", "sha256", "tlsh"):
                    one = replace_kinds(scope, kind)
                    fast = db.read_sync(_fast, reader, one, kind, at)
                    assert fast == db.read_sync(_full, reader, one, at), \
                        (reader, days, scope, kind)


def _fast(conn: Any, reader: Reader, scope: Scope, kind: str, at: int) -> list[str]:
    return [v for page in value_pages(conn, reader, scope, kind, at_us=at) for v in page]


def _full(conn: Any, reader: Reader, scope: Scope, at: int) -> list[str]:
    return [r.value for r in rows(conn, reader, scope, at_us=at)]


def replace_kinds(scope: Scope, kind: str) -> Scope:
    return Scope(kinds=(kind,), since_us=scope.since_us, vectors=scope.vectors,
                 min_confidence=scope.min_confidence, tlps=scope.tlps)


def test_a_false_positive_verdict_hides_the_value_from_the_flagger_whoever_reported_it(
        busy: RunningHub) -> None:
    sg, my = busy.client("SG"), busy.client("MY")
    # SG flagged TH's indicator: VN's indicator of the same value is gone for SG too
    for fmt in ("domains", "rpz", "csv", "stix"):
        assert SHARED not in export(sg, fmt).text, fmt
    # others see the flag on TH's indicator only: VN's report still carries the value
    assert SHARED in values(export(my, "domains").text)
    csv_row = next(line for line in export(my, "csv").text.splitlines()
                   if line.startswith(f"domain,{SHARED},"))
    assert csv_row.count("indicator--") == 1  # VN's indicator, not TH's flagged one
    # the protected bank domain is held for everyone (two confirmations and an admin first)
    assert "login.scb.co.th" not in export(busy.client("TH"), "domains").text


def test_the_tlsh_list_carries_the_digests_of_samples(make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    th = rh.client("TH")
    blobs = family()
    post_report(th, report("Dropper", ["dropper-cdn.example.net"]), blobs[0])
    post_report(th, report("Dropper RED", ["red-dropper.example.net"], tlp="red",
                           audience=["TH"]), blobs[3])
    green, red = tlsh.hash(blobs[0]), tlsh.hash(blobs[3])
    assert green.startswith("T1") and red.startswith("T1")
    vn = values(export(rh.client("VN"), "tlsh").text)
    assert vn == {green}  # the RED sample's digest never reaches VN
    th_csv = export(th, "csv").text
    assert f"tlsh,{green},,green," in th_csv and f"tlsh,{red},,red," in th_csv
    assert red not in export(th, "tlsh").text  # RED never goes to an unmarked list
    assert values(export(rh.client(), "tlsh").text) == set()  # nothing CLEAR


names = st.lists(st.sampled_from(["scb", "co", "th", "gov", "sg", "go", "www", "a", "x-y",
                                  "", "mail", "google", "com", "bank", "PayPal"]),
                 min_size=1, max_size=5).map(".".join)


@given(names, st.booleans())
def test_the_fast_protected_test_is_is_held(name: str, trailing_dot: bool) -> None:
    value = name + ("." if trailing_dot else "")
    for guard in (Guard(), Guard(extra={"bank.x-y"}, approved={("domain", "www.gov.sg")})):
        held = guard.value_test("domain")
        assert held is not None and held(value) == guard.is_held("domain", value), value
    assert Guard().value_test("phone") is None


def test_export_starts_without_the_other_command_groups(busy: RunningHub) -> None:
    code = ("import sys\nfrom bayanihan.cli import main\n"
            "try:\n    main(['export', 'domains', '--org', 'MY', '--database', sys.argv[1]])\n"
            "except SystemExit as e:\n    assert e.code == 0, e.code\n"
            "print(sorted(m for m in ('bayanihan.cli.main', 'bayanihan.cli.campaigns', "
            "'numpy') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code, busy.hub.settings.database_url],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "[]" and SHARED in lines
