"""Large bundles validated in a worker process get the same verdicts as in the server."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

import orjson

from bayanihan.ingest.validation_pool import MIN_BYTES
from tests.api.test_objects import BAD_OBJECTS, stored_ids
from tests.conftest import RunningHub
from tests.stixgen import bundle, indicator


def large_bundle_with_bad_objects(first: int = 0) -> tuple[bytes, dict[int, str]]:
    """Over MIN_BYTES of indicators with each kind of bad object at its own place."""
    objects: list[Any] = [indicator(first + n) for n in range(400)]
    expected: dict[int, str] = {}
    for k, (change, field) in enumerate(BAD_OBJECTS.values()):
        at = 37 + 71 * k
        objects[at] = {**indicator(first + 1000 + k), **change}
        expected[at] = field.replace("objects[0]", f"objects[{at}]")
    objects[399] = ["not", "an", "object"]
    expected[399] = "objects[399]"
    raw = orjson.dumps(bundle(*objects))
    assert len(raw) >= MIN_BYTES
    return raw, expected


def post(hub: RunningHub, raw: bytes) -> dict[str, Any]:
    r = hub.client("TH").post("/api/v1/objects", content=raw,
                              headers={"Content-Type": "application/json"})
    assert r.status_code == 207, r.text
    return r.json()


def without_ids(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "id"} for r in result["results"]]


def test_a_worker_and_the_server_give_the_same_verdicts(
        make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub(validation_processes=1)
    raw, expected = large_bundle_with_bad_objects()
    by_worker = post(hub, raw)
    assert hub.hub.validation.used and hub.hub.validation.worker_pids()
    stored = stored_ids(hub)

    hub.hub.validation.allowed = False  # the same bundle, new ids, validated in the server
    by_server = post(hub, large_bundle_with_bad_objects(first=10_000)[0])
    assert without_ids(by_worker) == without_ids(by_server)

    rejected = {r["index"]: r for r in by_worker["results"] if r["status"] == "rejected"}
    assert set(rejected) == set(expected)
    for at, field in expected.items():
        assert any(e["field"].startswith(field) for e in rejected[at]["errors"]), rejected[at]
    assert by_worker["accepted"] == len(stored) == 400 - len(expected)


def test_a_dead_worker_falls_back_to_the_server(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub(validation_processes=1)
    raw, expected = large_bundle_with_bad_objects()
    assert post(hub, raw)["rejected"] == len(expected)
    for pid in hub.hub.validation.worker_pids():
        os.kill(pid, signal.SIGKILL)
    again = orjson.dumps(bundle(*[indicator(n) for n in range(2000, 2400)],
                                {**indicator(3000), "created": "yesterday"}))
    for _ in range(2):  # the broken pool is noticed, then replaced
        result = post(hub, again)
        assert result["accepted"] == 400 and result["rejected"] == 1
        assert result["results"][400]["errors"][0]["field"] == "objects[400].created"
        again = orjson.dumps(bundle(*[indicator(n) for n in range(4000, 4400)],
                                    {**indicator(5000), "created": "yesterday"}))
    assert hub.client("TH").get("/healthz").status_code == 200
