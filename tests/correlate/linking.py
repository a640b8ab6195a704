"""Helpers for the linking tests: a served hub with the report and campaign routes, and
harmless synthetic material (TLSH-near byte blobs, one cloned "voice", localised lures).

``tests/correlate/conftest.py`` makes ``linking_hub`` available to the tests here.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx
import orjson
import pytest
import tlsh
from sqlalchemy import select

from bayanihan.correlate.variant_samples import base_blob, mutate
from bayanihan.demo.synthetic_media import transcode, voice, voice_reused, wav_bytes
from bayanihan.store.schema import events
from tests.conftest import RunningHub

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


@pytest.fixture
def linking_hub(make_hub: Callable[..., RunningHub]) -> Callable[..., RunningHub]:
    """``linking_hub(**settings)`` -> a served hub (``make_hub``)."""
    return make_hub


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
    from tests.share.test_policy_matrix import cases_found

    return cases_found(client, ids, "/api/v1/indicators/{id}/confidence")
