"""The media index: "which stored media look or sound like this one?"

Images and video frames are found by pHash within a Hamming distance (candidates from
eight one-byte bands, verified exactly; mirrored copies are found through the pHash of
the mirrored query). Audio is found by voting on shared Chromaprint values and verified
by the bit error rate at the best offset. All in database tables, so every hub process
sees the same index. Functions take the caller's connection and never commit.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, and_, or_, select, tuple_

from bayanihan.correlate.media import AudioPrint, ImagePrint, audio_similarity, hamming
from bayanihan.correlate.tables_media import audio_keys, media_hash_bands, media_hashes, media_items
from bayanihan.model.stix import now_us
from bayanihan.store.bulk import insert_rows


@dataclass(frozen=True)
class MediaThresholds:
    """When two media count as the same (settings an operator may tune)."""

    image_distance: int = 8  # of 64 pHash bits; re-encoded/resized copies stay within ~6
    video_share: float = 0.5  # share of the shorter video's seconds that must match
    audio_score: float = 0.75  # 1 - bit error rate at the best offset; unrelated ≈ 0.5
    audio_min_votes: int = 3


@dataclass(frozen=True)
class MediaMatch:
    media_ref: str
    kind: str
    score: float  # 1.0 is identical
    evidence: str  # e.g. "pHash distance 3 (mirrored)", "12 of 14 seconds", "offset 1.2 s"


def _signed(h: int) -> int:
    return h - (1 << 64) if h >= 1 << 63 else h


def _unsigned(h: int) -> int:
    return h + (1 << 64) if h < 0 else h


def _bands(h: int) -> list[tuple[int, int]]:
    return [(i, (h >> (8 * i)) & 0xFF) for i in range(8)]


def _add_item(conn: Connection, media_ref: str, kind: str, data_sha256: str, frames: int,
              duration: float | None = None, pdq: str | None = None,
              chromaprint: bytes | None = None) -> int:
    result = conn.execute(media_items.insert().values(
        media_ref=media_ref, kind=kind, sha256=data_sha256, frames=frames, duration=duration,
        pdq=pdq, chromaprint=chromaprint, created_us=now_us()))
    return int(result.inserted_primary_key[0])


def _add_hashes(conn: Connection, item_pk: int, rows: Sequence[tuple[int, int, int, int]]) -> None:
    """rows: (frame, phash, dhash, phash_mirror), unsigned."""
    for frame, phash, dhash, mirror in rows:
        pk = conn.execute(media_hashes.insert().values(
            item_pk=item_pk, frame=frame, phash=_signed(phash), dhash=_signed(dhash),
            phash_mirror=_signed(mirror))).inserted_primary_key[0]
        insert_rows(conn, media_hash_bands, ("band", "key", "hash_pk"),
                    [(band, key, pk) for band, key in _bands(phash)])


def add_image(conn: Connection, media_ref: str, data: bytes, fp: ImagePrint) -> int:
    item = _add_item(conn, media_ref, "image", hashlib.sha256(data).hexdigest(), 1, pdq=fp.pdq)
    _add_hashes(conn, item, [(0, fp.phash, fp.dhash, fp.phash_mirror)])
    return item


def add_video(conn: Connection, media_ref: str, data: bytes, frames: Sequence[int]) -> int:
    item = _add_item(conn, media_ref, "video", hashlib.sha256(data).hexdigest(), len(frames),
                     duration=float(len(frames)))
    _add_hashes(conn, item, [(i, h, h, h) for i, h in enumerate(frames)])
    return item


def add_audio(conn: Connection, media_ref: str, data: bytes, fp: AudioPrint) -> int:
    raw = fp.as_array()
    item = _add_item(conn, media_ref, "audio", hashlib.sha256(data).hexdigest(), len(raw),
                     duration=fp.duration, chromaprint=raw.astype("<u4").tobytes())
    insert_rows(conn, audio_keys, ("key", "item_pk", "pos"),
                [(int(v), item, pos) for pos, v in enumerate(raw)])
    return item


def _near_hashes(conn: Connection, queries: Sequence[int], max_distance: int,
                 kind: str) -> list[tuple[int, int, str, int, int, bool]]:
    """(query index, distance, media_ref, item_pk, frame, mirrored) for stored hashes near any query."""
    wanted = {(b, k) for q in queries for b, k in _bands(q)}
    if not wanted:
        return []
    pairs = sorted(wanted)
    rows = []
    for start in range(0, len(pairs), 400):
        chunk = pairs[start:start + 400]
        rows += conn.execute(
            select(media_hashes.c.phash, media_hashes.c.frame, media_items.c.media_ref,
                   media_items.c.pk)
            .select_from(media_hash_bands.join(media_hashes,
                                               media_hashes.c.pk == media_hash_bands.c.hash_pk)
                         .join(media_items, media_items.c.pk == media_hashes.c.item_pk))
            .where(tuple_(media_hash_bands.c.band, media_hash_bands.c.key).in_(chunk),
                   media_items.c.kind == kind)
            .distinct()
        ).all()
    found = []
    for phash, frame, ref, item_pk in rows:
        stored = _unsigned(phash)
        for qi, q in enumerate(queries):
            d = hamming(q, stored)
            if d <= max_distance:
                found.append((qi, d, ref, item_pk, frame, False))
    return found


def similar_images(conn: Connection, fp: ImagePrint, limits: MediaThresholds = MediaThresholds(),
                   ) -> list[MediaMatch]:
    """Stored images within ``image_distance`` of ``fp`` or of its mirror image."""
    best: dict[str, tuple[int, bool]] = {}
    for qi, d, ref, _item, _frame, _ in _near_hashes(conn, [fp.phash, fp.phash_mirror],
                                                      limits.image_distance, "image"):
        mirrored = qi == 1
        if ref not in best or d < best[ref][0]:
            best[ref] = (d, mirrored)
    return sorted(
        (MediaMatch(ref, "image", 1 - d / 64, f"pHash distance {d}" + (" (mirrored)" if m else ""))
         for ref, (d, m) in best.items()), key=lambda m: -m.score)


def similar_videos(conn: Connection, frames: Sequence[int],
                   limits: MediaThresholds = MediaThresholds()) -> list[MediaMatch]:
    """Stored videos sharing at least ``video_share`` of the shorter one's seconds."""
    if not frames:
        return []
    hits: dict[tuple[str, int], set[int]] = defaultdict(set)
    for qi, _d, ref, item, _frame, _ in _near_hashes(conn, list(frames), limits.image_distance, "video"):
        hits[(ref, item)].add(qi)
    lengths = dict(conn.execute(select(media_items.c.pk, media_items.c.frames).where(
        media_items.c.pk.in_([item for _, item in hits]))).all()) if hits else {}
    out: dict[str, MediaMatch] = {}
    for (ref, item), matched in hits.items():
        share = len(matched) / max(1, min(len(frames), lengths.get(item, len(frames))))
        if share >= limits.video_share and (ref not in out or share > out[ref].score):
            out[ref] = MediaMatch(ref, "video", min(1.0, share),
                                  f"{len(matched)} of {len(frames)} seconds match")
    return sorted(out.values(), key=lambda m: -m.score)


def similar_audio(conn: Connection, fp: AudioPrint,
                  limits: MediaThresholds = MediaThresholds()) -> list[MediaMatch]:
    """Stored audio that votes for ``fp`` on shared values and verifies at the best offset."""
    raw = fp.as_array()
    values = sorted({int(v) for v in raw})
    votes: Counter[int] = Counter()
    for start in range(0, len(values), 500):
        rows = conn.execute(select(audio_keys.c.item_pk).where(
            audio_keys.c.key.in_(values[start:start + 500])))
        votes.update(r.item_pk for r in rows)
    candidates = [pk for pk, n in votes.items() if n >= limits.audio_min_votes]
    if not candidates:
        return []
    out: dict[str, MediaMatch] = {}
    rows = conn.execute(select(media_items.c.pk, media_items.c.media_ref, media_items.c.chromaprint,
                               media_items.c.duration).where(
        and_(media_items.c.pk.in_(candidates), or_(media_items.c.kind == "audio"))))
    for row in rows:
        stored = AudioPrint(row.duration or 0.0,
                            tuple(np.frombuffer(row.chromaprint, dtype="<u4").tolist()))
        score, offset = audio_similarity(fp, stored)
        if score >= limits.audio_score and (row.media_ref not in out or score > out[row.media_ref].score):
            seconds = offset * 0.1238  # Chromaprint: one value per ~0.124 s
            out[row.media_ref] = MediaMatch(row.media_ref, "audio", score,
                                            f"{score:.0%} of bits agree at offset {seconds:+.1f} s")
    return sorted(out.values(), key=lambda m: -m.score)
