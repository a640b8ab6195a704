"""The demo's regional story, step by step, played against a running hub over its own API.

Each step posts what one member (or one of its downstream organisations) would really send —
a report, a wave of citizen-reported messages, a sighting — with that organisation's key,
and returns the line the demo prints. Everything is generated here: lures written for the
demo (:mod:`bayanihan.demo.lures`), harmless byte blobs for "malware"
(:mod:`bayanihan.correlate.variant_samples`), a seeded synthetic "voice"
(:mod:`bayanihan.demo.synthetic_media`); only documentation domains and addresses.
"""

from __future__ import annotations

import itertools
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import tlsh

from bayanihan.correlate.variant_samples import base_blob, mutate
from bayanihan.demo.lures import CFO_CALL, parcel_lure

#: the infrastructure the smishing kit uses (RFC 2606 names, RFC 5737 addresses)
PARCEL_DOMAIN = "pay.parcel-redeliver.example"
LAO_DOMAIN = "lao-parcel-fee.example"
VN_DOMAIN = "giaohang-phi.example"
KIT_HOST_IP = "203.0.113.45"
CALL_CENTRE = "+855 23 880 417"
RECON_BLOCK = ["198.51.100.17", "198.51.100.23", "198.51.100.41"]
RED_DOMAIN = "kit-panel.example"


@dataclass
class Context:
    """What the steps share: a client per organisation, a seeded random source, and the ids
    of what has been posted (for the summary and for later steps)."""

    clients: dict[str, httpx.Client]
    rnd: random.Random = field(default_factory=lambda: random.Random(2026))
    reports: dict[str, str] = field(default_factory=dict)  # step label -> report id
    red_report: str | None = None
    red_audience: tuple[str, ...] = ("KH", "VN")
    skipped: list[str] = field(default_factory=list)
    start: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=6))


@dataclass(frozen=True)
class Step:
    label: str
    run: Callable[[Context], str]


class DemoError(Exception):
    """The hub refused something the demo sent (the message says what)."""


def _checked(r: httpx.Response, what: str) -> dict[str, Any]:
    if r.status_code >= 300:
        raise DemoError(f"{what}: HTTP {r.status_code} {r.text[:300]}")
    return dict(r.json())


def _at(ctx: Context, minutes: int) -> str:
    return (ctx.start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def post_report(ctx: Context, org: str, label: str, report: dict[str, Any],
                sample: bytes | None = None, media: bytes | None = None) -> str:
    """POST one report as ``org`` (multipart when a file is attached); its id."""
    client = ctx.clients[org]
    if sample is None and media is None:
        r = client.post("/api/v1/reports", json=report)
    else:
        files: dict[str, Any] = {"report": (None, orjson.dumps(report), "application/json")}
        if sample is not None:
            files["sample"] = ("invoice-viewer.bin", sample, "application/octet-stream")
        if media is not None:
            files["media"] = ("call.ogg", media, "audio/ogg")
        r = client.post("/api/v1/reports", files=files)
    done = _checked(r, f"{org} report")
    ctx.reports[label] = str(done["id"])
    return str(done["id"])


def _smishing(country: str, lang: str, url: str, phone: str, extra: str, minutes: int,
              ctx: Context) -> dict[str, Any]:
    return {
        "vector": "phishing", "channel": "sms",
        "title": f"Parcel re-delivery fee SMS wave ({country})",
        "narrative": "Thousands of personalised SMS in fluent local language within an hour; "
                     "each copy names the recipient and varies the fee.",
        "first_seen": _at(ctx, minutes), "lures": [parcel_lure(lang, ctx.rnd, url, phone)
                                                   for _ in range(3)],
        "observables": extra, "countries": [country], "languages": [lang],
        "ai_involvement": {"assessment": "suspected", "confidence": 70,
                           "evidence": "one template, fluently localised and personalised"},
        "tlp": "green",
    }


def smishing_th(ctx: Context) -> str:
    report = _smishing("TH", "th", f"https://{PARCEL_DOMAIN}/th/track", "+66 2 014 7788",
                       f"kit hosted on {KIT_HOST_IP}", 0, ctx)
    rid = post_report(ctx, "TH", "smishing TH", report)
    return f"ThaiCERT reports a parcel-fee SMS wave in Thai (TLP:GREEN): {rid}"


def citizen_wave(ctx: Context) -> str:
    """Citizens forward the SMS to Thailand's scam-report line (a downstream organisation)."""
    messages = []
    for i in range(60):
        sent = ctx.start + timedelta(minutes=5 + i)
        messages.append({
            "text": parcel_lure("th", ctx.rnd, f"https://{PARCEL_DOMAIN}/th/track?c={i % 7}",
                                "+66 2 014 7788"),
            "channel": "sms", "sender": f"+66 81 {ctx.rnd.randrange(100, 999)} "
                                        f"{ctx.rnd.randrange(1000, 9999)}",
            "country": "TH", "received": sent.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reporter_ref": f"1212-{4800 + i}"})
    done = _checked(ctx.clients["TH-1212"].post("/api/v1/messages", json=messages),
                    "TH-1212 messages")
    return (f"Thailand's 1212 scam line forwards {done['accepted']} citizen-reported SMS "
            f"(bulk intake): {len(done['clusters'])} cluster(s)")


def smishing_kh(ctx: Context) -> str:
    report = _smishing("KH", "km", f"https://{PARCEL_DOMAIN}/kh/track", CALL_CENTRE, "", 95, ctx)
    rid = post_report(ctx, "KH", "smishing KH", report)
    return (f"CamCERT reports the same wave in Khmer, same kit domain: {rid} — "
            "the hub links it to Thailand's report and warns the members not yet hit")


def smishing_la(ctx: Context) -> str:
    report = _smishing("LA", "lo", f"https://{LAO_DOMAIN}/pay", CALL_CENTRE, "", 180, ctx)
    rid = post_report(ctx, "LA", "smishing LA", report)
    return (f"LaoCERT reports a Lao copy on a new domain but the same call-centre number: "
            f"{rid} — linked by the shared phone number")


def smishing_vn(ctx: Context) -> str:
    report = _smishing("VN", "vi", f"https://{VN_DOMAIN}/thanh-toan", "+84 24 7300 1188",
                       f"landing page served from {KIT_HOST_IP}, redirects to "
                       f"https://{LAO_DOMAIN}/vn", 260, ctx)
    rid = post_report(ctx, "VN", "smishing VN", report)
    return (f"VNCERT reports a Vietnamese copy on its own domain that redirects to the Lao "
            f"one: {rid} — the campaign reaches a fourth country")


def _malware(country: str, bank: str, minutes: int, ctx: Context) -> dict[str, Any]:
    return {
        "vector": "malware", "title": f"Self-rewriting banking dropper at {bank}",
        "narrative": "An 'invoice viewer' sent to finance staff; each sample differs "
                     "(new SHA-256 every time) while the code stays the same.",
        "first_seen": _at(ctx, minutes), "countries": [country],
        "sectors": ["financial-services"], "tlp": "green",
        "ai_involvement": {"assessment": "suspected", "confidence": 60,
                           "evidence": "polymorphic rewrites between samples"},
    }


def _samples(count: int = 3) -> list[bytes]:
    """A harmless generated blob and polymorphic copies, each within TLSH distance 20 of it
    and each with its own SHA-256 (seeds searched deterministically)."""
    original = base_blob(random.Random(2026), 24_000)
    first, out, seed = tlsh.hash(original), [original], 0
    while len(out) < count:
        seed += 1
        copy = mutate(random.Random(seed), original, 0.4)
        if copy not in out and tlsh.diff(first, tlsh.hash(copy)) <= 20:
            out.append(copy)
    return out


def malware_steps() -> Iterator[Step]:
    samples = _samples()
    for i, (country, bank, name) in enumerate((("ID", "a bank in Jakarta", "ID-SIRTII/CC"),
                                               ("MY", "a bank in Kuala Lumpur", "MyCERT"),
                                               ("SG", "a bank in Singapore", "SingCERT"))):
        def run(ctx: Context, i: int = i, country: str = country, bank: str = bank,
                name: str = name) -> str:
            rid = post_report(ctx, country, f"malware {country}",
                              _malware(country, bank, 60 + 40 * i, ctx), sample=samples[i])
            return (f"{name} reports a banking dropper sample (a harmless generated blob, new "
                    f"hash): {rid}" + (" — linked as a TLSH variant" if i else ""))
        yield Step(f"malware {country}", run)


def _voice(how: str) -> bytes | None:
    """The cloned CFO voice, re-used (Ogg Vorbis via ffmpeg); None without ffmpeg."""
    if shutil.which("ffmpeg") is None:
        return None
    from bayanihan.demo.synthetic_media import transcode, voice, voice_reused, wav_bytes

    return transcode(wav_bytes(voice_reused(voice(61), how, seed=3)), ".wav", ".ogg",
                     "-c:a", "libvorbis")


def deepfake_steps() -> Iterator[Step]:
    for country, lang, how, minutes in (("PH", "tl", "none", 120), ("MY", "ms", "noisy", 300)):
        def run(ctx: Context, country: str = country, lang: str = lang, how: str = how,
                minutes: int = minutes) -> str:
            media = _voice(how)
            report = {
                "vector": "identity-fraud", "channel": "voice", "deepfake_media": ["audio"],
                "title": f"Deepfake CFO voice call asking for an urgent transfer ({country})",
                "narrative": "A call in the CFO's cloned voice; the finance team kept the "
                             "recording.", "lures": [CFO_CALL[lang]], "languages": [lang],
                "first_seen": _at(ctx, minutes), "countries": [country],
                "observables": "caller ID +63 2 8123 4000", "tlp": "green",
                "ai_involvement": {"assessment": "confirmed", "confidence": 85,
                                   "evidence": "voice clone confirmed by the real CFO"}}
            rid = post_report(ctx, country, f"deepfake {country}", report, media=media)
            if media is None:
                ctx.skipped.append("audio fingerprints: ffmpeg is not installed")
                return f"{country} reports a deepfake CFO call (no recording: ffmpeg missing): {rid}"
            return (f"{country} reports a deepfake CFO call with its recording: {rid}"
                    + (" — the audio fingerprint matches the Philippines' call"
                       if country == "MY" else ""))
        yield Step(f"deepfake {country}", run)


def recon_steps() -> Iterator[Step]:
    for i, (country, ministry) in enumerate((("BN", "Ministry of Finance"),
                                             ("MM", "Ministry of Transport"),
                                             ("TL", "Ministry of Health"))):
        def run(ctx: Context, i: int = i, country: str = country, ministry: str = ministry) -> str:
            seen = [RECON_BLOCK[0], RECON_BLOCK[1 + i % 2]]
            report = {
                "vector": "reconnaissance", "title": f"Automated scanning of the {ministry}",
                "narrative": "Machine-paced crawling of every public form, then login attempts "
                             "with generated, plausible usernames.",
                "first_seen": _at(ctx, 30 + 50 * i), "countries": [country],
                "observables": " ".join(seen), "sectors": ["government-national"],
                "tlp": "green", "ai_involvement": {"assessment": "suspected", "confidence": 50}}
            rid = post_report(ctx, country, f"recon {country}", report)
            return f"{country} reports automated reconnaissance of its {ministry}: {rid}"
        yield Step(f"recon {country}", run)


def recon_confirm(ctx: Context) -> str:
    """Shared addresses alone only ask for review: an analyst joins the reports."""
    ids = [ctx.reports[f"recon {c}"] for c in ("BN", "MM", "TL")]
    for a, b in itertools.pairwise(ids):
        _checked(ctx.clients["TL"].post("/api/v1/links/decisions", json={
            "reports": [a, b], "decision": "confirmed",
            "reason": "same scanning block, same machine-paced crawl"}), "link decision")
    return ("TL-CERT confirms what the hub proposed for review: the three scans come from "
            "one block of addresses — one campaign across BN, MM and TL")


def _indicator_of(ctx: Context, org: str, report_id: str, value: str) -> str:
    bundle = _checked(ctx.clients[org].get(f"/api/v1/reports/{report_id}"), "report")
    for obj in bundle.get("objects", []):
        if obj.get("type") == "indicator" and value in obj.get("pattern", ""):
            return str(obj["id"])
    raise DemoError(f"no indicator for {value} in {report_id}")


def sighting_my(ctx: Context) -> str:
    ind = _indicator_of(ctx, "MY", ctx.reports["smishing TH"], PARCEL_DOMAIN)
    _checked(ctx.clients["MY"].post("/api/v1/sightings", json={
        "indicator": ind, "verdict": "seen", "count": 14, "tlp": "green"}), "sighting")
    return f"MyCERT sees the kit domain in its resolvers' logs: a sighting of {ind}"


def false_positive_sg(ctx: Context) -> str:
    ind = _indicator_of(ctx, "SG", ctx.reports["recon MM"], RECON_BLOCK[2])
    _checked(ctx.clients["SG"].post("/api/v1/sightings", json={
        "indicator": ind, "verdict": "false-positive", "tlp": "green"}), "false positive")
    return (f"SingCERT flags {RECON_BLOCK[2]} as a false positive (a university scanner): "
            "its confidence drops and exports leave it out")


def red_report(ctx: Context) -> str:
    report = {
        "vector": "phishing", "channel": "sms", "tlp": "red", "audience": list(ctx.red_audience),
        "title": "The smishing kit's operator panel (source-sensitive)",
        "narrative": "Law enforcement access to the operator panel; share only with the two "
                     "members whose citizens are being targeted next.",
        "observables": f"https://{RED_DOMAIN}/admin", "countries": ["TH"],
    }
    ctx.red_report = post_report(ctx, "TH", "red TH", report)
    return (f"ThaiCERT shares one TLP:RED report with {' and '.join(ctx.red_audience)} only: "
            f"{ctx.red_report}")


def steps() -> list[Step]:
    """The scenario in order (as the attacks would unfold over a working day)."""
    malware = list(malware_steps())
    deepfake = list(deepfake_steps())
    recon = list(recon_steps())
    return [
        Step("smishing TH", smishing_th), Step("citizen wave", citizen_wave),
        recon[0], malware[0], Step("smishing KH", smishing_kh), deepfake[0], recon[1],
        malware[1], Step("smishing LA", smishing_la), recon[2],
        Step("recon confirmed", recon_confirm), malware[2],
        Step("smishing VN", smishing_vn), deepfake[1], Step("sighting MY", sighting_my),
        Step("false positive SG", false_positive_sg), Step("red TH", red_report),
    ]
