"""The live stream over real HTTP: SSE and WebSocket, access policy, resume, filters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
import pytest
import websockets

from bayanihan.model.tlp import TLP
from bayanihan.store import audit, keys
from bayanihan.store.events import append_events
from tests.conftest import RunningHub
from tests.realtime.sse import Listener
from tests.share.test_policy_matrix import CASES, EXPECTED, ORG_OF, READERS, post_cases
from tests.stixgen import bundle, indicator


def post(hub: RunningHub, org: str, *objects: dict, audience: str | None = None) -> None:
    params = {"audience": audience} if audience else {}
    r = hub.client(org).post("/api/v1/objects", json=bundle(*objects), params=params)
    assert r.status_code == 200, r.text


def listen(hub: RunningHub, org: str | None, **params: object) -> Listener:
    return Listener(hub.url, hub.key(org, "reader") if org else None, params=params)


def test_each_organisation_streams_exactly_what_it_may_see(
        live_hub: Callable[..., RunningHub]) -> None:
    hub = live_hub()
    listeners = {reader: listen(hub, ORG_OF[reader]) for reader in READERS}
    ids = post_cases(hub)
    end = indicator(900, tlp=TLP.CLEAR)
    post(hub, "SG", end)
    case_of = {oid: case for case, oid in ids.items()}
    for reader, listener in listeners.items():
        assert listener.wait_for_object(end["id"]), reader
        seen = [case_of[f.data["object_id"]] for f in listener.events()
                if f.data["object_id"] in case_of]
        expected = {case for case in CASES if EXPECTED[(case, reader)]}
        assert set(seen) == expected, reader
        assert len(seen) == len(set(seen)), f"{reader} got an event twice"


def test_reconnect_with_last_event_id_gets_exactly_what_was_missed(
        live_hub: Callable[..., RunningHub]) -> None:
    hub = live_hub()
    first = listen(hub, "TH", after=0)
    post(hub, "SG", *(indicator(n) for n in range(3)))
    assert first.wait_for_object(indicator(2)["id"])
    first.close()
    last_id = first.events()[-1].id
    post(hub, "VN", *(indicator(n) for n in range(10, 15)))  # missed while away
    post(hub, "SG", indicator(20, tlp=TLP.RED), audience="SG,VN")  # not for TH
    again = Listener(hub.url, hub.key("TH", "reader"), params={"after": 0},
                     headers={"Last-Event-ID": str(last_id)})
    post(hub, "MY", indicator(30))  # arrives live
    assert again.wait_for_object(indicator(30)["id"])
    got = [f.data["object_id"] for f in again.events()]
    assert got == [indicator(n)["id"] for n in (10, 11, 12, 13, 14, 30)]
    positions = [f.id or 0 for f in again.events()]
    assert positions == sorted(positions) and positions[0] > (last_id or 0)
    # ?after= alone resumes the same way, and replays the whole retained log from 0
    everything = listen(hub, "TH", after=0, follow="false")
    everything.wait_closed()
    mine = [f.data["object_id"] for f in everything.events() if f.data["payload"]["type"] == "indicator"]
    assert mine == [indicator(n)["id"] for n in (0, 1, 2, 10, 11, 12, 13, 14, 30)]
    again.close()


def test_filters_on_kind_vector_country_and_confidence(
        live_hub: Callable[..., RunningHub]) -> None:
    hub = live_hub()
    vectors = listen(hub, "TH", vectors="phishing", min_confidence=60)
    countries = listen(hub, "TH", countries="VN,KH", kinds="alert,campaign.*")
    events = [  # as other features write them: the keys the stream reads sit in the payload
        {"kind": "alert", "tlp": "green", "author_org": None,
         "payload": {"vector": "phishing", "confidence": 80, "countries": ["TH", "VN"], "n": 1}},
        {"kind": "alert", "tlp": "green", "author_org": None,
         "payload": {"vector": "phishing", "confidence": 40, "n": 2}},
        {"kind": "campaign.linked", "tlp": "green", "author_org": "KH",
         "payload": {"vectors": ["malware", "PHISHING"], "confidence": 95, "n": 3}},
        {"kind": "sighting", "tlp": "green", "author_org": "VN", "payload": {"n": 4}},
        {"kind": "alert", "tlp": "red", "author_org": "SG", "audience": ["SG", "VN"],
         "payload": {"vector": "phishing", "confidence": 99, "countries": ["VN"], "n": 5}},
        {"kind": "alert", "tlp": "clear", "author_org": None, "payload": {"n": 6}},
    ]
    hub.hub.db.write_sync(append_events, events)
    last = {"kind": "alert", "tlp": "clear", "payload": {"vector": "phishing", "confidence": 100,
                                                       "countries": ["KH"], "n": 7}}
    hub.hub.db.write_sync(append_events, [last])
    for listener in (vectors, countries):
        assert listener.wait_for(lambda fs: any(f.data["payload"].get("n") == 7 for f in fs))
    assert [f.data["payload"]["n"] for f in vectors.events()] == [1, 3, 7]
    assert [f.data["payload"]["n"] for f in countries.events()] == [1, 3, 7]
    assert [f.event for f in countries.events()] == ["alert", "campaign.linked", "alert"]
    vectors.close()
    countries.close()


def test_bad_stream_parameters_are_named(live_hub: Callable[..., RunningHub]) -> None:
    hub = live_hub()
    client = hub.client("TH", "reader")
    for params, headers, field in [({"after": "soon"}, {}, "after"),
                                   ({}, {"Last-Event-ID": "x1"}, "Last-Event-ID"),
                                   ({"kinds": "Alert!"}, {}, "kinds[0]"),
                                   ({"min_confidence": "150"}, {}, "min_confidence")]:
        r = client.get("/api/v1/stream", params=params, headers=headers)
        assert r.status_code == 400, r.text
        assert r.json()["fields"] == [field]


def test_idle_stream_gets_keep_alives(live_hub: Callable[..., RunningHub]) -> None:
    hub = live_hub(stream_keepalive_seconds=0.2)
    listener = listen(hub, "TH")
    assert listener.wait_for(lambda fs: listener.comments.count("keep-alive") >= 2, timeout=3)
    listener.close()


def test_websocket_carries_the_same_events(live_hub: Callable[..., RunningHub]) -> None:
    hub = live_hub()
    red = indicator(1, tlp=TLP.RED)
    green = indicator(2)

    async def receive(org: str) -> list[dict]:
        url = hub.url.replace("http", "ws") + "/api/v1/ws?after=0&kinds=object.stored"
        headers = {"Authorization": f"Bearer {hub.key(org, 'reader')}"}
        got: list[dict] = []
        async with websockets.connect(url, additional_headers=headers) as ws:
            while not any(e["object_id"] == green["id"] for e in got):
                got.append(orjson.loads(await asyncio.wait_for(ws.recv(), 10)))
        return got

    post(hub, "SG", red, audience="SG,TH")
    post(hub, "SG", green)
    th, vn = asyncio.run(receive("TH")), asyncio.run(receive("VN"))
    assert red["id"] in {e["object_id"] for e in th}
    assert red["id"] not in {e["object_id"] for e in vn}
    assert [e["position"] for e in th] == sorted(e["position"] for e in th)


def test_websocket_refuses_an_unknown_key(live_hub: Callable[..., RunningHub]) -> None:
    hub = live_hub()

    async def connect() -> None:
        url = hub.url.replace("http", "ws") + "/api/v1/ws"
        async with websockets.connect(url, additional_headers={"Authorization": "Bearer nope"}) as ws:
            await ws.recv()

    with pytest.raises(websockets.exceptions.WebSocketException):
        asyncio.run(connect())


def test_a_revoked_key_stops_streaming(live_hub: Callable[..., RunningHub]) -> None:
    hub = live_hub(stream_keepalive_seconds=0.2)
    key = hub.key("TH", "reader")
    listener = Listener(hub.url, key)
    info = hub.hub.db.read_sync(keys.lookup, key)
    assert info is not None
    hub.hub.db.write_sync(keys.revoke, audit.Actor.console(), info.key_id)
    assert listener.wait_for(lambda fs: any(f.event == "closed" for f in fs), timeout=5)
    listener.wait_closed()
