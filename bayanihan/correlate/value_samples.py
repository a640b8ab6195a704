"""TLSH digests of the samples reports carry, in the value index (issue 15).

A sample uploaded with a report becomes a ``file`` SCO (SHA-256, TLSH…) and an indicator
``[file:hashes.'SHA-256' = '…']``: the indicator names only the SHA-256, so the ``tlsh`` list
had no digest for the offline scanner to compare near variants with. Here each such
indicator version also gets a ``tlsh`` row in ``indicator_value`` with the sample's digest,
so the digest goes out exactly as the indicator does (policy, decay, sightings, guard).

A digest is added only when the file SCO was stored with the same author, TLP and audience
as the indicator version (as a report stores them): a reader who may see the indicator may
then see the file too, and a digest never reaches anyone through a more visible indicator.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

import orjson
from sqlalchemy import Connection, select

from bayanihan.correlate.tables_values import indicator_report, indicator_value
from bayanihan.store.bulk import insert_rows
from bayanihan.store.schema import stix_objects

__all__ = ["reports_of", "sample_digests"]

_CHUNK = 500
_TLSH = re.compile(r"(?:T1)?([0-9A-Fa-f]{70})")
_COLUMNS = ("object_pk", "kind", "value", "skeleton", "indicator_id", "vector", "confidence",
            "valid_from_us", "valid_until_us", "version_us")


def _chunks(items: Collection[str]) -> list[list[str]]:
    ordered = sorted(items)
    return [ordered[i:i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]


def reports_of(conn: Connection, indicator_ids: Collection[str]) -> set[str]:
    """The reports (already indexed) that name these indicators."""
    out: set[str] = set()
    for part in _chunks(indicator_ids):
        out.update(conn.execute(select(indicator_report.c.report_id).where(
            indicator_report.c.indicator_id.in_(part))).scalars())
    return out


def sample_digests(conn: Connection, report_ids: Collection[str]) -> int:
    """Add the ``tlsh`` rows of the samples of these reports (their latest versions) to the
    indicators naming the samples' SHA-256; rows already there are kept. Returns rows added."""
    so = stix_objects.c
    refs: set[str] = set()
    for part in _chunks(report_ids):
        for (body,) in conn.execute(select(so.body).where(so.id.in_(part),
                                                          so.is_latest.is_(True))):
            refs.update(r for r in orjson.loads(body).get("object_refs") or []
                        if isinstance(r, str))
    files = {r for r in refs if r.startswith("file--")}
    indicators = {r for r in refs if r.startswith("indicator--")}
    if not files or not indicators:
        return 0
    digest: dict[tuple[Any, ...], str] = {}  # (SHA-256, author, TLP, audience) -> TLSH
    for part in _chunks(files):
        for author, tlp, audience, body in conn.execute(
                select(so.author_org, so.tlp, so.audience, so.body).where(so.id.in_(part))):
            hashes = orjson.loads(body).get("hashes") or {}
            sha, found = hashes.get("SHA-256"), _TLSH.fullmatch(str(hashes.get("TLSH", "")))
            if isinstance(sha, str) and found:
                digest[(sha.lower(), author, tlp, audience)] = "T1" + found[1].upper()
    iv = indicator_value.c
    new: dict[tuple[int, str], tuple[Any, ...]] = {}
    for part in _chunks(indicators):
        for r in conn.execute(
                select(iv.object_pk, iv.indicator_id, iv.value, iv.vector, iv.confidence,
                       iv.valid_from_us, iv.valid_until_us, iv.version_us, so.author_org,
                       so.tlp, so.audience)
                .join(stix_objects, so.pk == iv.object_pk)
                .where(iv.indicator_id.in_(part), iv.kind == "sha256")):
            tlsh = digest.get((r.value, r.author_org, r.tlp, r.audience))
            if tlsh is not None:
                new[(r.object_pk, tlsh)] = (r.object_pk, "tlsh", tlsh, None, r.indicator_id,
                                            r.vector, r.confidence, r.valid_from_us,
                                            r.valid_until_us, r.version_us)
    pks = sorted({pk for pk, _ in new})
    for start in range(0, len(pks), _CHUNK):
        for pk, value in conn.execute(select(iv.object_pk, iv.value).where(
                iv.object_pk.in_(pks[start:start + _CHUNK]), iv.kind == "tlsh")):
            new.pop((pk, value), None)
    insert_rows(conn, indicator_value, _COLUMNS, [new[k] for k in sorted(new)])
    return len(new)
