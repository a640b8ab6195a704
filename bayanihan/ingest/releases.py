"""Whole STIX files in: MITRE ATT&CK and ATLAS releases, and any large bundle (``bayanihan ingest``).

A release is read (gzip or plain JSON; a bundle, a list or one object), its
marking-definitions and identities stored first (a release may list them last), then the
rest in chunks of :data:`CHUNK` objects, one write transaction each, so a progress bar can
follow. Objects are stored as MITRE published them (STIX 2.0 ones upgraded to 2.1; the
ATLAS bundle repaired, see model/atlas.py); the distribution TLP of objects without a TLP
marking of their own is ``tlp`` (TLP:CLEAR by default for MITRE's public releases, the
hub's rule -- AMBER -- for any other file), kept beside the object, not written into it.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bayanihan.ingest.ahead import ValidationAhead
from bayanihan.ingest.bundles import (
    IngestResult,
    ObjectResult,
    Submitter,
    check_objects,
    parse_bundle,
    store_checked,
)
from bayanihan.model.tlp import TLP

if TYPE_CHECKING:
    from bayanihan.hub import Hub

__all__ = ["CHUNK", "MITRE_IDENTITY", "ReleaseSummary", "ingest_release", "is_atlas",
           "is_mitre_release", "read_release"]

CHUNK = 5000
#: Files with more objects than this are validated ahead in a worker process.
AHEAD_FROM = 2 * CHUNK
FIRST_TYPES = ("marking-definition", "identity", "extension-definition")
#: The identity MITRE's ATT&CK releases name as author.
MITRE_IDENTITY = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"


@dataclass
class ReleaseSummary:
    objects: int = 0
    stored: int = 0
    duplicates: int = 0
    held: int = 0
    upgraded: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    offloaded: int = 0  # objects a worker process validated

    def add(self, result: IngestResult) -> None:
        self.objects += len(result.results)
        self.stored += len(result.stored)
        for r in result.results:
            self.duplicates += r.status == "duplicate"
            self.held += r.status == "held"
            self.upgraded += r.upgraded_from is not None
            if r.status == "rejected":
                self.rejected += 1
                reason = r.errors[0].reason if r.errors else "rejected"
                self.reasons[reason.split(" (")[0][:120]] += 1
                if len(self.examples) < 10:
                    self.examples.append(f"{r.id}: {reason}")

    def lines(self) -> list[str]:
        out = [f"{self.objects} objects: {self.stored} stored, {self.duplicates} already there, "
               f"{self.held} held for a marking-definition, {self.rejected} rejected"
               + (f"; {self.upgraded} upgraded from STIX 2.0" if self.upgraded else "")]
        out += [f"  {n} x {reason}" for reason, n in self.reasons.most_common(10)]
        return out


def read_release(path: Path, max_objects: int = 10_000_000) -> list[Any]:
    """The objects of a STIX file (``.gz`` is decompressed)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return parse_bundle(raw, max_objects)


def _sources(obj: Any) -> set[str]:
    refs = obj.get("external_references") if isinstance(obj, dict) else None
    return {r.get("source_name") for r in refs if isinstance(r, dict)} if isinstance(
        refs, list) else set()


def is_atlas(objects: Sequence[Any]) -> bool:
    """A MITRE ATLAS bundle (its objects cite ``mitre-atlas``)."""
    return any("mitre-atlas" in _sources(o) for o in objects[:50])


def is_mitre_release(objects: Sequence[Any]) -> bool:
    """An ATT&CK release (authored by MITRE's identity) or an ATLAS bundle: public data."""
    return is_atlas(objects) or any(
        isinstance(o, dict) and o.get("created_by_ref") == MITRE_IDENTITY for o in objects[:50])


def _ordered(objects: Sequence[Any]) -> list[Any]:
    """Definitions and identities first (their order inside each group unchanged)."""
    first = [o for o in objects if isinstance(o, dict) and o.get("type") in FIRST_TYPES]
    rest = [o for o in objects if not (isinstance(o, dict) and o.get("type") in FIRST_TYPES)]
    return first + rest


def _checked(ahead: ValidationAhead, chunk: Sequence[Any], start: int, submitter: Submitter,
             ) -> tuple[list[ObjectResult], list[tuple[int, dict[str, Any]]]]:
    """`check_objects` of a chunk (at ``start`` of the release), piece by piece as
    ``ahead`` hands them over: with the worker's verdicts, or validated here."""
    parts = {}
    for first, last, known in ahead.shares(start, start + len(chunk)):
        parts[first] = check_objects(chunk[first - start:last - start], submitter, known,
                                     first - start)
    results = [r for first in sorted(parts) for r in parts[first][0]]
    good = [g for first in sorted(parts) for g in parts[first][1]]
    return results, good


def ingest_release(hub: Hub, objects: Sequence[Any], submitter: Submitter, *,
                   tlp: TLP | None = TLP.CLEAR, audience: Sequence[str] | None = None,
                   progress: Callable[[int], None] | None = None,
                   ahead: ValidationAhead | None = None) -> ReleaseSummary:
    """Store ``objects`` (a whole release) as ``submitter``; ``progress(n)`` after each chunk.

    ``tlp``: the TLP of objects without a TLP marking (None: the hub's rule, AMBER). With more
    than :data:`AHEAD_FROM` objects and the hub's ``validation_processes`` above 0 (on a
    machine with more than one core), a worker process validates the next objects while
    each chunk is stored (``ingest/ahead.py``; ``ahead``: one the caller started already,
    e.g. before reading the file)."""
    summary = ReleaseSummary()
    ordered = _ordered(objects)
    store = functools.partial(store_checked, action="objects.ingest", default_tlp=tlp)
    with contextlib.ExitStack() as stack:
        if ahead is None:
            ahead = stack.enter_context(ValidationAhead())
            if len(ordered) > AHEAD_FROM and hub.validation.processes > 0:
                ahead.start()
        ahead.load(ordered)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start:start + CHUNK]
            results, good = _checked(ahead, chunk, start, submitter)
            result = hub.db.write_sync(store, results, good, submitter, audience)
            summary.add(result)
            if progress:
                progress(len(chunk))
    summary.offloaded = ahead.offloaded
    return summary
