"""Helpers for the linking tests: a served hub with the report and campaign routes, and
harmless synthetic material (TLSH-near byte blobs, one cloned "voice", localised lures).

Import the fixture into a test module: ``from tests.correlate.linking import linking_hub``.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import httpx
import orjson
import pytest
import tlsh
import uvicorn
from sqlalchemy import select

from bayanihan.api.app import create_app
from bayanihan.api.campaigns import router as campaigns_router
from bayanihan.api.reports import router as reports_router
from bayanihan.api.stream import router as stream_router
from bayanihan.config import Settings
from bayanihan.correlate.variant_samples import base_blob, mutate
from bayanihan.demo.synthetic_media import transcode, voice, voice_reused, wav_bytes
from bayanihan.hub import Hub
from bayanihan.store.schema import events
from tests.conftest import RunningHub, _Server, seed

MEMBERS = ("BN", "ID", "KH", "LA", "MM", "MY", "PH", "SG", "TH", "TL", "VN")

#: One lure, localised (the attacker's LLM would do this); each names a different victim.
LURES = {
    "th": "เรียน คุณสมชาย ผมคือผู้อำนวยการธนาคาร กรุณาโอนเงิน 50,000 บาท ด่วนภายในวันนี้ "
          "เพื่อยืนยันบัญชีของคุณ มิฉะนั้นบัญชีจะถูกระงับ",
    "vi": "Kính gửi anh Nguyễn Văn An, tôi là giám đốc ngân hàng. Vui lòng chuyển 20.000.000 "
          "đồng ngay hôm nay để xác minh tài khoản, nếu không tài khoản sẽ bị khóa.",
    "id": "Yth. Bapak Budi, saya direktur bank Anda. Mohon transfer Rp 5.000.000 hari ini "
          "juga untuk verifikasi rekening Anda, jika tidak rekening akan diblokir.",
    "tl": "Mahal na G. Santos, ako ang direktor ng inyong bangko. Mangyaring magpadala ng "
          "PHP 20,000 ngayong araw para ma-verify ang account, kung hindi ito ay isasara.",
}


def _serve(hub: Hub) -> tuple[_Server, threading.Thread, str]:
    app = create_app(hub.settings, hub)
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/api/v1/reports" not in paths:
        app.include_router(reports_router)  # until the lead wires it into create_app
    if "/api/v1/campaigns" not in paths:
        app.include_router(campaigns_router)  # until the lead wires it into create_app
    if "/api/v1/stream" not in paths:
        app.include_router(stream_router)  # until the lead wires it into create_app
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def linking_hub(settings: Settings) -> Iterator[Callable[..., RunningHub]]:
    """``linking_hub(**settings)`` -> a seeded hub on loopback with reports and campaigns."""
    running: list[tuple[RunningHub, _Server, threading.Thread]] = []

    def factory(**overrides: Any) -> RunningHub:
        hub = Hub(settings.replace(**overrides))
        hub.open()
        seed(hub)
        server, thread, url = _serve(hub)
        rh = RunningHub(hub, url)
        running.append((rh, server, thread))
        return rh

    yield factory
    for rh, server, thread in running:
        rh.close()
        server.should_exit = True
        thread.join(timeout=10)
        rh.hub.close()


@cache
def family(size: int = 24_000, members: int = 4) -> tuple[bytes, ...]:
    """A harmless blob and polymorphic copies of it, each within TLSH distance 30 of the
    original and all with different SHA-256 (seeds searched deterministically)."""
    original = base_blob(random.Random(2026), size)
    first = tlsh.hash(original)
    out = [original]
    seed_ = 0
    while len(out) < members:
        seed_ += 1
        copy = mutate(random.Random(seed_), original, 0.4)
        if copy != original and tlsh.diff(first, tlsh.hash(copy)) <= 20:
            out.append(copy)
    return tuple(out)


@cache
def cloned_voice(how: str) -> bytes:
    """The same synthetic 'voice', re-used as an attacker would (noisy, quieter, trimmed),
    sent as Ogg Vorbis (``audio/ogg``: WAV has no IANA media type, which STIX requires)."""
    return transcode(wav_bytes(voice_reused(voice(61), how, seed=3)), ".wav", ".ogg",
                     "-c:a", "libvorbis")


def post_report(client: httpx.Client, report: dict[str, Any], sample: bytes | None = None,
                media: bytes | None = None, audience: list[str] | None = None) -> str:
    """POST a report (multipart when files are attached); returns the report id."""
    if audience is not None:
        report = {**report, "audience": audience}
    if sample is None and media is None:
        r = client.post("/api/v1/reports", json=report)
    else:
        files: dict[str, Any] = {"report": (None, orjson.dumps(report), "application/json")}
        if sample is not None:
            files["sample"] = ("dropper.bin", sample, "application/octet-stream")
        if media is not None:
            files["media"] = ("call.ogg", media, "audio/ogg")
        r = client.post("/api/v1/reports", files=files)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def alerts_of(client: httpx.Client) -> list[dict[str, Any]]:
    r = client.get("/api/v1/alerts")
    assert r.status_code == 200, r.text
    return list(r.json()["alerts"])


def campaigns_of(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    r = client.get("/api/v1/campaigns", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["campaigns"])


def streamed(client: httpx.Client, kind: str) -> list[dict[str, Any]]:
    """Events of one kind the client's stream delivers (what is in the log, then close)."""
    r = client.get("/api/v1/stream", params={"after": 0, "follow": "false", "kinds": kind})
    assert r.status_code == 200, r.text
    return [orjson.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:")]


def outbox(rh: RunningHub, kind: str) -> list[Any]:
    """Events of one kind in the outbox (what the stream and webhooks deliver)."""
    return rh.hub.db.read_sync(lambda conn: conn.execute(
        select(events).where(events.c.kind == kind).order_by(events.c.position)).all())


def indicator_confidence(client: httpx.Client, ids: dict[str, str]) -> set[str]:
    """Policy-matrix read path (``tests/share/test_policy_matrix.READ_PATHS``):
    ``GET /api/v1/indicators/{id}/confidence`` -> cases seen."""
    seen = set()
    for case, oid in ids.items():
        r = client.get(f"/api/v1/indicators/{oid}/confidence")
        assert r.status_code in (200, 404), r.text
        if r.status_code == 200:
            seen.add(case)
    return seen
