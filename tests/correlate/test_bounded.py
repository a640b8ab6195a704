"""Bounded work: a report carries at most 1,000 observables; a larger one is refused whole,
with the field named and bulk STIX ingest pointed to, before any write (so it holds no
writer and stalls no other organisation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from bayanihan.ingest.reports import MAX_OBSERVABLES
from bayanihan.store.schema import stix_objects
from tests.conftest import RunningHub
from tests.correlate.linking import post_report


def _urls(n: int, tag: str) -> str:
    return "\n".join(f"https://{tag}-{i}.example/pay" for i in range(n))


def _stored(rh: RunningHub) -> int:
    """Reports, URLs and indicators stored (the hub's own identity and extension
    definitions are published on the first report, refused or not)."""
    return int(rh.hub.db.read_sync(lambda c: c.execute(
        select(func.count()).select_from(stix_objects).where(
            stix_objects.c.type.in_(("report", "url", "indicator")))).scalar()))


@pytest.mark.parametrize(("count", "as_list"), [(MAX_OBSERVABLES + 1, False), (20_000, True)])
def test_a_report_over_the_observable_cap_is_refused_whole(
        linking_hub: Callable[..., RunningHub], count: int, as_list: bool) -> None:
    rh = linking_hub()
    th, ph = rh.client("TH"), rh.client("PH")
    before = _stored(rh)
    urls = _urls(count, "bulk")
    report: dict[str, Any] = {"vector": "phishing", "channel": "sms", "title": f"{count} URLs",
                              "observables": urls.split("\n") if as_list else urls}
    r = th.post("/api/v1/reports", json=report)
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["fields"] == ["observables"]
    assert str(MAX_OBSERVABLES) in body["detail"] and "/api/v1/objects" in body["detail"]
    assert _stored(rh) == before  # nothing of it stored
    # the hub keeps serving others, and a report at the cap itself goes through
    post_report(ph, {"vector": "phishing", "channel": "sms", "title": "at the cap",
                     "observables": _urls(MAX_OBSERVABLES, "cap")})


def test_observables_in_lures_count_and_the_lure_is_named(
        linking_hub: Callable[..., RunningHub]) -> None:
    rh = linking_hub()
    lures = [" ".join(f"https://lure-{n}-{i}.example/x" for i in range(100)) for n in range(11)]
    r = rh.client("TH").post("/api/v1/reports", json={
        "vector": "phishing", "channel": "sms", "title": "lures full of links", "lures": lures})
    assert r.status_code == 413, r.text
    (where,) = r.json()["fields"]
    assert where.startswith("lures[") and where != "lures[0]"
