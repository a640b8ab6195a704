"""``GET /metrics``: Prometheus figures for the hub operator, nobody else; route templates,
never ids, as labels; the report pipeline's stages; the hub's own counts."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

from bayanihan.store.organisations import HUB_CODE
from tests.conftest import RunningHub


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_operator_reads_figures_members_and_strangers_do_not(
        make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    th = rh.client("TH")
    done = th.post("/api/v1/reports", json={
        "vector": "phishing", "channel": "sms", "title": "Parcel fee SMS",
        "lures": ["Your parcel is held, pay the fee at https://parcel-fee.example/pay"],
        "countries": ["TH"], "tlp": "green"})
    assert done.status_code == 201, done.text
    assert th.get(f"/api/v1/reports/{done.json()['id']}").status_code == 200

    assert th.get("/metrics").status_code == 403
    assert rh.client().get("/metrics").status_code == 401
    page = rh.client(HUB_CODE, "reader").get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    samples = _samples(page.text)

    assert samples[("bayanihan_reports", ())] == 1
    assert samples[("bayanihan_objects", ())] > 1
    assert samples[("bayanihan_http_requests_total", (("method", "POST"), (
        "route", "/api/v1/reports"), ("status", "201")))] == 1
    # the read of one report is labelled by its route template, never by the id
    assert samples[("bayanihan_http_requests_total", (("method", "GET"), (
        "route", "/api/v1/reports/{report_id}"), ("status", "200")))] == 1
    assert done.json()["id"] not in page.text
    # the pipeline's stages, from the Server-Timing header of the report route
    stages = {dict(labels)["stage"] for name, labels in samples
              if name == "bayanihan_pipeline_stage_seconds_count"}
    assert {"store", "link"} <= stages, stages
