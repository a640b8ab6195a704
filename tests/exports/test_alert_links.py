"""Alerts carry their defences: a regional alert (object, stream and webhook event) links to
every export scoped to its campaign, and those links give the member exactly the campaign's
values it may see — not a RED report's, not another campaign's."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import orjson

from bayanihan.share.exports import FORMATS
from tests.conftest import RunningHub
from tests.correlate.linking import alerts_of, outbox, streamed
from tests.exports.helpers import post, report, values

URL = "https://parcel-fee-th.example.net/pay"
RED = "red-secret-portal.org"


def test_alert_links_give_the_campaigns_values_the_member_may_see(
        make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    th, vn, sg = rh.client("TH"), rh.client("VN"), rh.client("SG")
    post(th, report("Parcel fee TH", [URL, "courier-th.example.com"]))
    post(th, report("secret", [URL, RED], tlp="red", audience=["TH", "VN"]))
    post(rh.client("MY"), report("unrelated", ["unrelated-lottery.org"], countries=("MY",)))
    post(vn, report("Parcel fee VN", [URL, "courier-vn.example.com"], countries=("VN",)))

    alerts = alerts_of(sg)
    assert alerts, "SG may see both reports: it is alerted"
    links = alerts[-1]["alert"]["x_bayanihan_alert"].get("exports")
    assert links, [a["alert"]["x_bayanihan_alert"] for a in alerts]
    assert set(links) == set(FORMATS)
    campaign = parse_qs(urlsplit(links["domains"]).query)["campaign"][0]
    assert campaign == alerts[-1]["alert"]["x_bayanihan_alert"]["campaign_ref"]

    # the same links in the alert event: stream and webhooks deliver the outbox payload
    events = [orjson.loads(e.payload) for e in outbox(rh, "alert")]
    assert any(e["exports"] == links for e in events)
    assert any((e.get("payload") or e).get("exports") == links for e in streamed(sg, "alert"))

    got = sg.get(links["domains"])
    assert got.status_code == 200, got.text
    assert values(got.text) == {"parcel-fee-th.example.net", "courier-th.example.com",
                                "courier-vn.example.com"}
    assert values(sg.get(links["urls"]).text) == {URL}
    assert RED not in sg.get(links["csv"]).text and "unrelated" not in sg.get(links["csv"]).text
    misp = sg.get(links["misp"])
    assert misp.status_code == 200 and RED not in misp.text
    assert "courier-vn.example.com" in misp.text
