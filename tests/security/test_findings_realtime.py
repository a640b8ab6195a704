"""Issue-13 findings on the real-time paths: webhook targets and deliveries, revocation,
credentials in logs (docs/security.md, "Security findings")."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websockets
from sqlalchemy import select

from bayanihan.hub import Hub
from bayanihan.share import webhook_targets
from bayanihan.store import audit, keys
from bayanihan.store.tables_realtime import webhook_deliveries, webhook_endpoints
from tests.conftest import RunningHub
from tests.realtime.receiver import Receiver
from tests.realtime.sse import Listener
from tests.stixgen import bundle, indicator

LiveHub = Callable[..., RunningHub]
BAD_URLS = [
    "http://8.8.8.8\u0000x/", "http://8.8.8.8/\r\nX-Injected: 1", "http://8.8.8.8/ x",
    "http://8.8.8.8:99999/", "http://8.8.8.8:abc/", "http://8.8.8.8:0/", "http://8.8.8.8:-1/",
    "http://[8.8.8.8]/", "http://" + "a" * 300 + ".example/", "http://a..example/",
    "http://[64:ff9b::7f00:1]/", "http://[64:ff9b:1::a00:1]/", "http://[2002:7f00:1::]/",
    "http://[::ffff:127.0.0.1]/", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "http://224.0.0.1/", "http://[ff02::1]/", "http://239.255.255.250/", "http://0.0.0.0/",
    "http://100.64.0.1/", "http://198.18.0.1/", "http://[fe80::1]/", "http://[fc00::1]/",
    "http://u:p@8.8.8.8/", "ftp://8.8.8.8/", "http:///x", "http://8.8.8.8/#frag",
]


@pytest.fixture
def live_hub(make_hub: LiveHub) -> Iterator[LiveHub]:
    """make_hub with loopback webhooks allowed (as tests/realtime/conftest.py)."""

    def factory(**overrides: Any) -> RunningHub:
        values: dict[str, Any] = {"webhook_allow_networks": "127.0.0.0/8",
                                  "stream_keepalive_seconds": 0.25, **overrides}
        return make_hub(**values)

    yield factory
    Listener.close_all()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_strict_webhook_urls_are_refused_naming_the_url(live_hub: LiveHub) -> None:
    hub = live_hub()
    client = hub.client("TH")
    for url in BAD_URLS:
        r = client.post("/api/v1/webhooks", json={"url": url})
        assert r.status_code == 400, (url, r.status_code, r.text)
        assert r.json()["fields"] == ["url"], (url, r.text)
    assert client.get("/api/v1/webhooks").json()["webhooks"] == []


def test_translation_addresses_are_judged_by_the_ipv4_inside() -> None:
    assert webhook_targets.is_public(webhook_targets.embedded_ipv4(  # type: ignore[arg-type]
        __import__("ipaddress").ip_address("64:ff9b::808:808")))
    for text in ("64:ff9b::7f00:1", "2002:a00:1::", "::ffff:10.0.0.1", "64:ff9b::e000:1"):
        assert not webhook_targets.is_public(__import__("ipaddress").ip_address(text)), text


def _endpoint(conn: Any, org: str, url: str, key_id: str | None, cursor: int = 0) -> str:
    endpoint_id = "wh_" + uuid.uuid4().hex
    conn.execute(webhook_endpoints.insert().values(
        id=endpoint_id, org=org, url=url, secret="whsec_" + "A" * 44, filters="{}",
        description=None, active=True, cursor=cursor, created_us=0, key_id=key_id))
    return endpoint_id


def _deliveries(hub: Hub, endpoint_id: str) -> list[Any]:
    return hub.db.read_sync(lambda conn: list(conn.execute(select(webhook_deliveries).where(
        webhook_deliveries.c.endpoint_id == endpoint_id))))


def test_a_failing_url_backs_off_instead_of_spinning(live_hub: LiveHub) -> None:
    """An endpoint stored before the URL check (a NUL or CR/LF in it) made every delivery
    raise httpx.InvalidURL, retried at once, forever (~95 % of a core). PostgreSQL text holds
    no NUL, so the stored URL carries CR/LF."""
    hub = live_hub(webhook_backoff_seconds=30.0, webhook_backoff_max_seconds=60.0)
    endpoint_id = hub.hub.db.write_sync(_endpoint, "TH", "http://127.0.0.1/\r\nX-Injected: 1",
                                        None)
    assert hub.client("TH").post("/api/v1/objects", json=bundle(indicator(1))).status_code == 200
    deadline = time.monotonic() + 30
    while not any(d.attempts for d in _deliveries(hub.hub, endpoint_id)):
        assert time.monotonic() < deadline, "the delivery was never attempted"
        time.sleep(0.1)
    time.sleep(1.0)  # a spinning worker makes thousands of attempts in this second
    rows = _deliveries(hub.hub, endpoint_id)
    tried = [r for r in rows if r.attempts]
    assert [r.attempts for r in tried] == [1], tried  # one attempt, then the back-off
    assert tried[0].last_error and "url" in tried[0].last_error.lower()
    assert tried[0].next_us > time.time() * 1e6


def test_delivery_connects_to_the_address_that_was_checked(
        live_hub: LiveHub, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check's answer is pinned: delivery never resolves the host again (DNS rebinding).
    ``rebind.invalid`` resolves only through the check's own lookup here; the system
    resolver knows no such name, so a delivery that looked it up again would fail."""
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    real = webhook_targets.resolve
    monkeypatch.setattr(webhook_targets, "resolve", lambda host, p: (
        ["127.0.0.1"] if host == "rebind.invalid" else real(host, p)))
    hub = live_hub()
    r = hub.client("TH").post("/api/v1/webhooks",
                              json={"url": f"http://rebind.invalid:{port}/hook"})
    assert r.status_code == 201, r.text
    assert hub.client("TH").post("/api/v1/objects", json=bundle(indicator(3))).status_code == 200
    assert receiver.wait_accepted(1), "no delivery reached the checked address"
    assert receiver.accepted()[0].headers["host"] == f"rebind.invalid:{port}"


def test_webhooks_stop_when_the_key_that_made_them_is_revoked(
        live_hub: LiveHub, receiver: Receiver) -> None:
    hub = live_hub()
    doomed = hub.hub.db.write_sync(keys.create, audit.Actor.console(), "TH", keys.Role.ANALYST)
    revoked_key, info = doomed
    other = hub.client("TH")  # another key of the same organisation
    control = Receiver()
    try:
        import httpx

        with httpx.Client(base_url=hub.url, headers={
                "Authorization": f"Bearer {revoked_key}"}) as mine:
            r = mine.post("/api/v1/webhooks", json={"url": receiver.url})
            assert r.status_code == 201, r.text
            endpoint_id = r.json()["id"]
        assert other.post("/api/v1/webhooks", json={"url": control.url}).status_code == 201
        r = hub.client("HUB", "admin").delete(f"/api/v1/admin/keys/{info.key_id}")
        assert r.status_code == 200, r.text
        assert other.post("/api/v1/objects", json=bundle(indicator(2))).status_code == 200
        assert control.wait_accepted(1), "the control webhook got nothing"
        assert receiver.requests == []
        assert _deliveries(hub.hub, endpoint_id) == []  # nothing even queued for it
    finally:
        control.close()


def _revoke_elsewhere(hub: RunningHub, key_id: str) -> None:
    """Revoke as another process would (the command line): its own Database object (on
    SQLite, only ``data_version`` tells the server: share/notify.py)."""
    other = Hub(hub.hub.settings)
    try:
        other.db.write_sync(keys.revoke, audit.Actor.console(), key_id)
    finally:
        other.db.close()


def test_a_revoked_keys_sse_stream_ends_on_the_revocation_event(live_hub: LiveHub) -> None:
    """Key re-checks and the log poll are set to a minute: only the revocation event can end
    the stream in time."""
    hub = live_hub(stream_keepalive_seconds=60.0, stream_poll_seconds=60.0)
    key, info = hub.hub.db.write_sync(keys.create, audit.Actor.console(), "TH", keys.Role.READER)
    listener = Listener(hub.url, key)
    bystander = Listener(hub.url, hub.key("TH", "reader"))
    _revoke_elsewhere(hub, info.key_id)
    listener.wait_closed(timeout=10)
    assert any(f.event == "closed" for f in listener.frames), listener.frames
    assert not bystander.frames or all(f.event != "closed" for f in bystander.frames)
    bystander.close()


def test_a_revoked_keys_websocket_closes_on_the_revocation_event(live_hub: LiveHub) -> None:
    hub = live_hub(stream_keepalive_seconds=60.0, stream_poll_seconds=60.0)
    key, info = hub.hub.db.write_sync(keys.create, audit.Actor.console(), "TH", keys.Role.READER)

    async def run() -> Any:
        url = hub.url.replace("http", "ws") + "/api/v1/ws"
        async with websockets.connect(url, additional_headers={
                "Authorization": f"Bearer {key}"}) as ws:
            await asyncio.sleep(0.3)
            await asyncio.to_thread(_revoke_elsewhere, hub, info.key_id)
            with pytest.raises(websockets.exceptions.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code

    assert asyncio.run(run()) == 1008


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        self.lines.append(text)
        if record.levelno >= logging.ERROR:
            self.errors.append(f"{record.name} {text}")


def test_no_credential_reaches_the_log_at_debug(live_hub: LiveHub) -> None:
    capture = _Capture()
    names = ("uvicorn.error", "uvicorn", "websockets", "httpx", "httpcore", "bayanihan", "")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.addHandler(capture)
    try:
        hub = live_hub()
        admin_key = hub.key("HUB", "admin")

        async def run() -> None:
            url = hub.url.replace("http", "ws") + "/api/v1/ws"
            async with websockets.connect(url, additional_headers={
                    "Authorization": f"Bearer {admin_key}"}):
                await asyncio.sleep(0.2)

        asyncio.run(run())
        hub.client("HUB", "admin").get("/api/v1/admin/orgs")
        logging.getLogger("bayanihan.test").debug("echo %s", f"Authorization: Bearer {admin_key}")
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(capture)
            lg.setLevel(level)
    text = "\n".join(capture.lines)
    assert "authorization" in text.lower()  # the headers were logged, redacted
    assert admin_key not in text
    assert admin_key.split("_", 2)[2] not in text


def test_a_websocket_disconnect_logs_no_error(live_hub: LiveHub) -> None:
    """Every WebSocket disconnect logged an ERROR with a traceback (issue 13)."""
    capture = _Capture()
    watched = [logging.getLogger(n) for n in ("uvicorn.error", "uvicorn", "bayanihan", "")]
    for lg in watched:
        lg.addHandler(capture)
    try:
        hub = live_hub()
        key = hub.key("TH", "reader")

        async def run() -> None:
            url = hub.url.replace("http", "ws") + "/api/v1/ws"
            async with websockets.connect(url, additional_headers={
                    "Authorization": f"Bearer {key}"}):
                await asyncio.sleep(0.2)  # a clean close
            ws = await websockets.connect(url, additional_headers={
                "Authorization": f"Bearer {key}"})
            await asyncio.sleep(0.2)
            ws.transport.abort()  # the client vanishes
            post = asyncio.to_thread(hub.client("TH").post, "/api/v1/objects",
                                     json=bundle(indicator(5)))
            assert (await post).status_code == 200  # an event for the vanished client
            await asyncio.sleep(0.5)

        asyncio.run(run())
    finally:
        for lg in watched:
            lg.removeHandler(capture)
    # other tests' leftover threads (a LISTEN connection to a dropped database) may log too:
    # only errors of the server and of the stream routes count
    errors = [line for line in capture.errors if line.startswith(("uvicorn", "bayanihan.api"))]
    assert errors == []


@pytest.mark.parametrize("line", [
    "< authorization: Bearer {key}", "Authorization=Basic dXNlcjp7a2V5fQ==",
    "Headers([('authorization', 'Bearer {key}'), ('host', 'hub')])",
    "cookie: bayanihan_session={key}; csrf=abc", "Set-Cookie: s={key}; HttpOnly",
    "the key {key} was used", "x-api-key: {key}"])
def test_credential_shapes_are_redacted(line: str) -> None:
    from bayanihan.api.redact import redact

    key = "bh_0123456789ab_" + "Zk3" * 14
    text = redact(line.format(key=key))
    assert key.split("_", 2)[2] not in text and "dXNlcjp7a2V5fQ" not in text, text
    assert "[redacted]" in text
