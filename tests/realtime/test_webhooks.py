"""Webhooks over real HTTP: signed, in order, every event once, dead letters and replay."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import orjson
import pytest

from bayanihan.model.tlp import TLP
from tests.conftest import RunningHub, need
from tests.realtime.receiver import Receiver
from tests.stixgen import bundle, indicator

DOC = Path(__file__).resolve().parents[2] / "docs" / "realtime.md"
FAST = {"webhook_backoff_seconds": 0.05, "webhook_backoff_max_seconds": 0.2}


def documented_verify() -> Callable[..., bool]:
    """The receiver example of docs/realtime.md, run as written."""
    block = re.search(r"```python\n(# receiver.*?)```", DOC.read_text(), re.S)
    assert block, "docs/realtime.md lost its receiver example"
    scope: dict[str, Any] = {}
    exec(block.group(1), scope)
    return scope["verify"]  # type: ignore[no-any-return]


@pytest.fixture
def receiver() -> Any:
    r = Receiver()
    yield r
    r.close()


def register(hub: RunningHub, org: str, url: str, **filters: Any) -> dict[str, Any]:
    r = hub.client(org).post("/api/v1/webhooks", json={"url": url, "filters": filters})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def post(hub: RunningHub, org: str, *objects: dict[str, Any], audience: str | None = None) -> None:
    r = hub.client(org).post("/api/v1/objects", json=bundle(*objects),
                             params={"audience": audience} if audience else {})
    assert r.status_code == 200, r.text


def positions(deliveries: list[Any]) -> list[int]:
    return [int(d.headers["bayanihan-event-position"]) for d in deliveries]


def test_receiver_refusing_for_a_while_gets_every_event_once_in_order(
        live_hub: Callable[..., RunningHub], receiver: Receiver) -> None:
    need("the standardwebhooks package (test extra)", find_spec("standardwebhooks") is not None)
    from standardwebhooks.webhooks import Webhook

    hub = live_hub(webhook_retry_budget=100, **FAST)
    th = register(hub, "TH", receiver.url, kinds=["object.*"])
    vn_receiver = Receiver()
    vn = register(hub, "VN", vn_receiver.url)
    receiver.refuse_until = time.monotonic() + 1.5  # "down for an hour", scaled down
    red = indicator(99, tlp=TLP.RED)
    wanted = [indicator(n) for n in range(6)]
    post(hub, "SG", *wanted[:2])
    post(hub, "SG", red, audience="SG,TH")
    post(hub, "MY", *wanted[2:])
    assert receiver.wait_accepted(7)
    assert vn_receiver.wait_accepted(6)
    time.sleep(0.3)  # nothing more may come
    got = receiver.accepted()
    assert len(got) == 7 and len(receiver.requests) > 7  # it refused some, then got all
    assert positions(receiver.requests) == sorted(positions(receiver.requests))  # head first
    ids = [orjson.loads(d.body)["object_id"] for d in got]
    assert ids == [w["id"] for w in wanted[:2]] + [red["id"]] + [w["id"] for w in wanted[2:]]
    assert len({d.headers["webhook-id"] for d in got}) == 7
    verify = documented_verify()
    library = Webhook(th["secret"])
    for d in got:
        assert d.headers["idempotency-key"] == d.headers["webhook-id"]
        assert verify(th["secret"], d.headers, d.body)
        assert not verify(vn["secret"], d.headers, d.body)
        assert not verify(th["secret"], d.headers, d.body + b" ")
        library.verify(d.body, d.headers)
    vn_ids = {orjson.loads(d.body)["object_id"] for d in vn_receiver.accepted()}
    assert red["id"] not in vn_ids and vn_ids == {w["id"] for w in wanted}
    vn_receiver.close()


def test_dead_letters_can_be_inspected_and_replayed(
        live_hub: Callable[..., RunningHub], receiver: Receiver) -> None:
    hub = live_hub(webhook_retry_budget=2, **FAST)
    th = register(hub, "TH", receiver.url)
    client = hub.client("TH")
    receiver.refuse_all = True
    post(hub, "SG", indicator(1), indicator(2))
    assert receiver.wait_requests(4)
    deadline = time.monotonic() + 10
    while client.get(f"/api/v1/webhooks/{th['id']}").json()["dead"] < 2:
        assert time.monotonic() < deadline, "deliveries never reached the dead-letter list"
        time.sleep(0.05)
    dead = client.get(f"/api/v1/webhooks/{th['id']}/dead-letters").json()["dead_letters"]
    assert [d["event"]["object_id"] for d in dead] == [indicator(1)["id"], indicator(2)["id"]]
    assert all(d["attempts"] == 2 and d["last_status"] == 503 for d in dead)
    assert hub.client("VN").get(f"/api/v1/webhooks/{th['id']}/dead-letters").status_code == 404
    receiver.refuse_all = False
    r = client.post(f"/api/v1/webhooks/{th['id']}/dead-letters/replay",
                    json={"positions": [dead[1]["position"]]})
    assert r.json() == {"replayed": 1}
    assert receiver.wait_accepted(1)
    assert client.post(f"/api/v1/webhooks/{th['id']}/dead-letters/replay").json() == {"replayed": 1}
    assert receiver.wait_accepted(2)
    assert positions(receiver.accepted()) == [dead[1]["position"], dead[0]["position"]]
    assert client.get(f"/api/v1/webhooks/{th['id']}/dead-letters").json()["dead_letters"] == []


def test_webhook_registration_refuses_bad_targets_and_keeps_secrets(
        live_hub: Callable[..., RunningHub], receiver: Receiver) -> None:
    hub = live_hub(webhook_allow_networks="")
    client = hub.client("TH")
    for url in ["ftp://127.0.0.1/x", "file:///etc/passwd", receiver.url,
                "http://169.254.169.254/latest/meta-data", "http://user:pw@example.org/"]:
        r = client.post("/api/v1/webhooks", json={"url": url})
        assert r.status_code == 400, url
        assert r.json()["fields"] == ["url"]
    r = client.post("/api/v1/webhooks", json={"url": "https://example.org/hook",
                                              "filters": {"countries": ["th", "??"]}})
    assert r.status_code == 400 and r.json()["fields"] == ["filters.countries[1]"]
    reader = hub.client("TH", "reader")
    assert reader.post("/api/v1/webhooks", json={"url": "https://x.org/"}).status_code == 403


def test_endpoints_belong_to_their_organisation(
        live_hub: Callable[..., RunningHub], receiver: Receiver) -> None:
    hub = live_hub()
    created = register(hub, "TH", receiver.url, countries=["VN"])
    listed = hub.client("TH").get("/api/v1/webhooks").json()["webhooks"]
    assert [w["id"] for w in listed] == [created["id"]]
    assert "secret" not in listed[0] and listed[0]["filters"]["countries"] == ["VN"]
    assert hub.client("VN").get("/api/v1/webhooks").json()["webhooks"] == []
    assert hub.client("VN").delete(f"/api/v1/webhooks/{created['id']}").status_code == 404
    paused = hub.client("TH").patch(f"/api/v1/webhooks/{created['id']}", json={"active": False})
    assert paused.json()["active"] is False
    assert hub.client("TH").delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert hub.client("TH").get("/api/v1/webhooks").json()["webhooks"] == []


def test_two_hubs_on_one_database_deliver_each_event_once(
        live_hub: Callable[..., RunningHub], receiver: Receiver) -> None:
    first = live_hub(stream_poll_seconds=0.2)
    second = live_hub(seeded=False, stream_poll_seconds=0.2)  # same database, one leads
    register(first, "TH", receiver.url)
    for n in range(6):
        post(first if n % 2 else second, "SG", indicator(n))
    assert receiver.wait_accepted(6)
    time.sleep(1.0)  # a second deliverer would have posted by now
    ids = [orjson.loads(d.body)["object_id"] for d in receiver.requests]
    assert ids == [indicator(n)["id"] for n in range(6)]
