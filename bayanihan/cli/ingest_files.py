"""``bayanihan ingest --format misp FILE`` and ``--format atlas FILE``: what the command runs
(it needs the Hub, so it lives with the command line, above ingest and share).

The ``ingest`` command calls :func:`ingest_file` when ``--format`` is ``misp`` or
``atlas`` (``stix``, the default, stays ``hub.ingest_bundle``).

A MISP file (an event, a list, a REST search response) is stored event by event, and each
report is indexed at once (listed and searchable as soon as the command returns). Linking,
campaigns and alerts are the report pipeline's: a running hub's link queue picks the reports
up within seconds, or the next ``bayanihan serve`` at start-up (``link`` runs them here).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bayanihan.errors import InvalidInput
from bayanihan.ingest.bundles import IngestResult, Submitter, parse_bundle
from bayanihan.ingest.misp import Imported, Linker, import_events
from bayanihan.model.atlas import repair
from bayanihan.share.policy import Reader, visible
from bayanihan.store import organisations as orgs
from bayanihan.store.reports import index_pending

if TYPE_CHECKING:
    from bayanihan.hub import Hub

__all__ = ["FORMATS", "ingest_file", "load_atlas"]

FORMATS = ("stix", "misp", "atlas")


async def load_atlas(hub: Hub, raw: bytes, submitter: Submitter) -> tuple[IngestResult, list[str]]:
    """Store a MITRE ATLAS STIX bundle, repaired (see model/atlas.py); one transaction."""
    objects, notes = repair(parse_bundle(raw, hub.settings.max_bundle_objects))
    return await hub.ingest_objects(objects, submitter, None), notes


def ingest_file(hub: Hub, file: Path, fmt: str, org: str, audience: Sequence[str] | None,
                *, atomic: bool = False, link: Linker | None = None) -> tuple[Any, list[str]]:
    """Ingest FILE as ORG: MISP events (-> Imported) or an ATLAS bundle (-> IngestResult).

    Returns the result and lines to print. Raises BayanihanError (the CLI's ``run`` prints it).
    """
    if fmt not in ("misp", "atlas"):
        raise InvalidInput(f"--format {fmt}: misp or atlas here (stix is hub.ingest_bundle)",
                           ["--format"])
    raw = file.read_bytes()
    found = hub.db.read_sync(orgs.require, org.upper())
    submitter = Submitter(found.code, found.identity_id, found.kind)
    if fmt == "atlas":
        result, notes = asyncio.run(load_atlas(hub, raw, submitter))
        lines = [f"repaired: {n}" for n in notes]
        lines.append(f"{result.accepted} accepted, {result.rejected} rejected")
        return result, lines
    parent = hub.db.read_sync(orgs.get, found.parent) if found.parent else None
    reader = Reader(org=found.code, kind=found.kind, parent=found.parent,
                    parent_kind=parent.kind if parent else None)
    done: Imported = asyncio.run(import_events(hub, raw, submitter, visible(reader), audience,
                                               atomic=atomic, link=link))
    hub.db.write_sync(index_pending)
    lines = []
    for event in done.events:
        lines.append(f"report {event.report_id}: {event.stored} objects stored "
                     f"(MISP event {event.event_uuid}, {len(event.refused)} parts refused)")
        lines += [f"  refused {r.field}: {r.reason}" for r in event.refused]
    lines += [f"event {e['field']} not stored: {e['detail']}" for e in done.errors]
    return done, lines
