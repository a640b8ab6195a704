"""The report pipeline, in one place: build → validate → store → index → link → campaign → alert.

=========  ======================================================  ====================
stage      what happens                                            where
=========  ======================================================  ====================
build      techniques resolved, STIX objects made from the report  ingest.report_submit
validate   every object checked (STIX 2.1 + the hub's rules)       ingest.bundles
store      all objects in ONE write transaction (the report is     Hub.ingest_objects
           acknowledged only after this commits)
index      the report's search row and facets                      :func:`index_report`
link       variant, lure, media and infrastructure links           correlate.report_links
campaign   the campaigns the report touches, published as STIX     correlate.campaigns
alert      regional alerts to member states not hit yet            correlate.alerts
=========  ======================================================  ====================

*index*, *link*, *campaign* and *alert* run in one second write transaction
(:func:`link`): they commit together or not at all. A crash after *store* leaves a stored
report without a ``linked_report`` row; that row's absence (or a row naming an older version
of the report) is the durable queue. The
running hub drains it at start-up and every :data:`DRAIN_EVERY_S` seconds
(:func:`drain_forever`), so every acknowledged report is linked without operator action.
Linking is idempotent (a pair found again keeps one link; a member state is alerted about a
country once), so a report linked twice raises no second alert.

Other intake paths (reported messages, MISP, TAXII, bulk bundles) call :func:`link` for a
report they stored, or leave it to the drain.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import orjson
from sqlalchemy import ColumnElement, Connection, exists, select

from bayanihan.correlate.campaigns import Correlation, correlate_report, media_of, rules_for
from bayanihan.correlate.report_links import MediaPrint, fingerprint_media, stored_media
from bayanihan.correlate.tables_campaigns import linked_report
from bayanihan.ingest.bundles import Submitter
from bayanihan.ingest.report_stix import TypedObservable
from bayanihan.ingest.report_submit import Submitted, submit_report
from bayanihan.ingest.reports import Report
from bayanihan.ingest.uploads import Upload
from bayanihan.model.extension import EXTENSION_ID
from bayanihan.model.timing import Stages
from bayanihan.store import organisations as orgs
from bayanihan.store.reports import row_for
from bayanihan.store.schema import stix_objects
from bayanihan.store.tables_reports import report_facets, report_index

if TYPE_CHECKING:
    from bayanihan.hub import Hub

__all__ = ["DRAIN_EVERY_S", "Submitted", "drain", "drain_forever", "index_report", "link",
           "submit"]

log = logging.getLogger("bayanihan.pipeline")
#: Seconds between passes of the link queue while the hub runs.
DRAIN_EVERY_S = 5.0
_DRAIN_BATCH = 200
_in_flight: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_drained_to: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


async def submit(hub: Hub, report: Report, submitter: Submitter,
                 readable: ColumnElement[bool], *, uploads: Sequence[Upload] = (),
                 extra: Sequence[TypedObservable] = (), field_of: dict[str, str] | None = None,
                 extract_text: bool = True, stages: Stages | None = None,
                 ) -> tuple[Submitted, Correlation]:
    """Run the whole pipeline for one report; InvalidInput naming the field, nothing stored.

    ``stages`` collects each stage's milliseconds (for ``Server-Timing``).
    """
    stages = stages if stages is not None else Stages()
    done = await submit_report(hub, report, submitter, readable, uploads=uploads, extra=extra,
                               field_of=field_of, extract_text=extract_text, stages=stages)
    return done, await link(hub, done.report_id, uploads, stages=stages)


def index_report(conn: Connection, report_id: str) -> bool:
    """Index the latest stored version of ``report_id`` unless indexed; whether it was."""
    row = conn.execute(select(stix_objects.c.pk, stix_objects.c.body).where(
        stix_objects.c.id == report_id, stix_objects.c.is_latest.is_(True))).first()
    if row is None or conn.execute(select(exists().where(
            report_index.c.object_pk == row.pk))).scalar():
        return False
    made = row_for(row.pk, orjson.loads(row.body))
    if made is None:
        return False
    conn.execute(report_index.insert(), [made[0]])
    if made[1]:
        conn.execute(report_facets.insert(), made[1])
    return True


def _index_and_correlate(conn: Connection, report_id: str, prints: Sequence[MediaPrint],
                         rules: Any, embeddings: bool, stages: Stages) -> Correlation:
    with stages.stage("index"):
        index_report(conn, report_id)
    return correlate_report(conn, report_id, prints, rules, embeddings, stages=stages)


async def link(hub: Hub, report_id: str, uploads: Sequence[Any] = (), *,
               stages: Stages | None = None) -> Correlation:
    """Index, link, update campaigns and alert for a stored report: ONE write transaction.

    Media is fingerprinted before the write. Never raises for the report's sake: the report
    is stored already; on failure it stays in the queue and the drain links it later.
    This is the function other intake paths call to link a report they stored.
    """
    stages = stages if stages is not None else Stages()
    flying = _in_flight.setdefault(hub, set())
    flying.add(report_id)
    try:
        with stages.stage("media"):
            stored = await hub.db.read(stored_media, report_id)
            prints = await anyio.to_thread.run_sync(
                fingerprint_media, [*media_of(uploads), *stored])
        rules = rules_for(hub.settings)
        embeddings = bool(hub.settings.lure_embeddings)
        return await hub.db.write(_index_and_correlate, report_id, prints, rules, embeddings,
                                  stages)
    except Exception:  # the report is stored; linking must not turn that into an error
        log.exception("report %s could not be linked (left for the link queue)", report_id)
        return Correlation(report_id)
    finally:
        flying.discard(report_id)


def _pending(conn: Connection, after_pk: int, limit: int) -> list[tuple[int, str]]:
    """(pk, id) of stored AI-threat reports past ``after_pk`` whose latest version the
    linker has not seen: new reports, and new versions (a report re-marked RED must leave
    the campaign views of those it no longer admits)."""
    seen = select(linked_report.c.report_id).where(
        linked_report.c.report_id == stix_objects.c.id,
        linked_report.c.object_pk == stix_objects.c.pk)
    return [(r.pk, r.id) for r in conn.execute(
        select(stix_objects.c.pk, stix_objects.c.id).where(
            stix_objects.c.pk > after_pk, stix_objects.c.type == "report",
            stix_objects.c.is_latest.is_(True), stix_objects.c.revoked.is_(False),
            stix_objects.c.body.like(f'%"{EXTENSION_ID}"%'),
            stix_objects.c.author_org.is_distinct_from(orgs.HUB_CODE), ~seen.exists())
        .order_by(stix_objects.c.pk).limit(limit))]


async def drain(hub: Hub, *, from_start: bool = False) -> int:
    """Link every stored report still in the queue; returns how many it tried.

    Each pass looks only past the last report it saw (``from_start`` scans everything, as
    at start-up); reports being linked by a request right now are left to it.
    """
    after = 0 if from_start else _drained_to.get(hub, 0)
    linked = 0
    while True:
        batch = await hub.db.read(_pending, after, _DRAIN_BATCH)
        for pk, report_id in batch:
            after = pk
            if report_id in _in_flight.get(hub, set()):
                continue
            await link(hub, report_id)
            linked += 1
        _drained_to[hub] = max(_drained_to.get(hub, 0), after)
        if len(batch) < _DRAIN_BATCH:
            if linked:
                log.info("link queue: %d stored report(s) linked", linked)
            return linked


async def drain_forever(hub: Hub, every: float = DRAIN_EVERY_S) -> None:
    """Drain the link queue at start-up (everything), then every ``every`` seconds."""
    from_start = True
    while True:
        try:
            await drain(hub, from_start=from_start)
            from_start = False
        except asyncio.CancelledError:
            raise
        except Exception:  # keep the hub serving; try again on the next pass
            log.exception("link queue pass failed")
        await asyncio.sleep(every)
