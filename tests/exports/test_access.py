"""Exports, check and the public feed never carry what the reader may not see; formats
without marking carry no AMBER+STRICT or RED; unchanged polls cost a 304; ``since`` gives
deltas; the public feed is TLP:CLEAR only and rate-limited with Retry-After."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import RunningHub
from tests.exports.helpers import export, post, report, values

RED = "red-only-for-sg.example.org"
STRICT = "strict-for-th.example.org"
AMBER = "amber-members.example.org"
CLEAR = "clear-for-all.example.org"


@pytest.fixture
def served(make_hub: Callable[..., RunningHub]) -> RunningHub:
    rh = make_hub()
    th = rh.client("TH")
    post(th, report("red", [RED], tlp="red", audience=["SG"]))
    post(th, report("strict", [STRICT], tlp="amber+strict", audience=["TH", "MY"]))
    post(th, report("amber", [AMBER], tlp="amber"))
    post(th, report("clear", [CLEAR], tlp="clear"))
    return rh


def _everything(client: object, fmt_list: tuple[str, ...] = ("domains", "csv", "rpz",
                                                              "suricata", "sigma", "stix")) -> str:
    out = []
    for fmt in fmt_list:
        out.append(export(client, fmt).text)  # type: ignore[arg-type]
    out.append(client.get("/api/v1/exports/misp/hashes.csv").text)  # type: ignore[attr-defined]
    manifest = client.get("/api/v1/exports/misp/manifest.json").json()  # type: ignore[attr-defined]
    for uuid in manifest:
        out.append(client.get(f"/api/v1/exports/misp/{uuid}.json").text)  # type: ignore[attr-defined]
    return "\n".join(out)


def test_outside_the_audience_nothing_leaks(served: RunningHub) -> None:
    for org in ("VN", "TH-BANK", "VN-SOC", "JPCERT"):
        client = served.client(org)
        text = _everything(client)
        assert RED not in text and STRICT not in text, org
        checked = client.post("/api/v1/check", json={"items": [RED, STRICT, f"go to https://{RED}/x"]})
        assert checked.status_code == 200, checked.text
        assert not any(r["known"] for r in checked.json()["results"]), org
        assert RED not in checked.text.replace(f"go to https://{RED}/x", "").replace(
            f'"value":"{RED}"', "", 1), org


def test_unmarked_formats_carry_no_strict_or_red_even_for_the_audience(served: RunningHub) -> None:
    sg, my = served.client("SG"), served.client("MY")
    for fmt in ("domains", "rpz", "suricata", "sigma"):
        assert RED not in export(sg, fmt).text and STRICT not in export(my, fmt).text, fmt
    assert AMBER in export(sg, "domains").text
    # formats that mark each value carry them, marked, to their audience
    assert f"domain,{RED},,red" in export(sg, "csv").text
    assert STRICT in export(my, "stix").text
    found = sg.post("/api/v1/check", json={"items": [RED]}).json()["results"][0]
    assert found["known"] and found["matches"][0]["tlp"] == "red"


def test_public_feed_is_clear_only(served: RunningHub) -> None:
    public = served.client()
    assert values(export(public, "domains").text) == {CLEAR}
    assert f"domain,{CLEAR},,clear" in export(public, "csv").text
    stix = export(public, "stix").json()
    assert [o["name"] for o in stix["objects"]] == [f"Domain {CLEAR}"]
    for fmt in ("rpz", "suricata", "sigma"):
        assert public.get(f"/api/v1/exports/{fmt}").status_code == 404
    assert public.get("/api/v1/exports/misp/manifest.json").status_code == 404
    assert public.post("/api/v1/check", json={"items": [CLEAR]}).status_code == 401


def test_public_feed_is_rate_limited(served: RunningHub) -> None:
    public = served.client()
    codes = [public.get("/api/v1/exports/domains").status_code for _ in range(40)]
    assert codes[:30] == [200] * 30 and 429 in codes
    r = public.get("/api/v1/exports/domains")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"] == "too-many-requests"
    assert served.client("VN").get("/api/v1/exports/domains").status_code == 200  # keys: no limit


def test_etag_poll_and_delta(served: RunningHub) -> None:
    vn = served.client("VN")
    first = export(vn, "domains")
    tag = first.headers["ETag"]
    again = vn.get("/api/v1/exports/domains", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    since = export(vn, "csv").text.splitlines()[1].split()[2]  # "# generated TIME for VN"
    post(served.client("TH"), report("new", ["fresh-lure.example.com"]))
    changed = vn.get("/api/v1/exports/domains", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and "fresh-lure.example.com" in changed.text
    delta = values(export(vn, "domains", since=since).text)
    assert delta == {"fresh-lure.example.com"}


def test_scope_errors_name_the_parameter(served: RunningHub) -> None:
    vn = served.client("VN")
    for params, name in (({"since": "yesterday"}, "since"), ({"country": "Thailand"}, "country"),
                         ({"min_confidence": "300"}, "min_confidence"),
                         ({"campaign": "x"}, "campaign")):
        r = vn.get("/api/v1/exports/domains", params=params)
        assert r.status_code == 400 and r.json()["fields"] == [name], r.text
    assert vn.get("/api/v1/exports/nonsense").status_code == 404
    r = vn.post("/api/v1/check", json={"items": [{"type": "ip", "value": "not-an-ip"}]})
    assert r.status_code == 400 and r.json()["fields"] == ["items[0].value"]
    r = vn.post("/api/v1/check", json={"items": ["x"] * 1001})
    assert r.status_code == 400 and r.json()["fields"] == ["items"]
