"""Storing a report: techniques resolved, STIX built and validated, everything in one ingest.

The report's objects go to the hub in ONE :meth:`Hub.ingest_objects` call (one
transaction). They are validated first, so a report is stored wholly or not at all: any
problem is an error naming the report field, and nothing is written. Indexing, linking,
campaigns and alerts follow in :mod:`bayanihan.pipeline` (this layer does not link).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import orjson
from sqlalchemy import ColumnElement, Connection, select

from bayanihan.errors import InvalidInput, TooLarge
from bayanihan.ingest.bundles import Submitter, check_objects
from bayanihan.ingest.observables.stix import extension_definitions
from bayanihan.ingest.report_stix import Built, TooManyObservables, TypedObservable, build
from bayanihan.ingest.reports import Report
from bayanihan.ingest.uploads import Upload
from bayanihan.model import extension
from bayanihan.model.atlas import external_ids
from bayanihan.model.members import is_member_state
from bayanihan.model.techniques import lookup as lookup_technique
from bayanihan.model.timing import Stages
from bayanihan.model.tlp import TLP
from bayanihan.store import audit
from bayanihan.store import organisations as orgs
from bayanihan.store.objects import Outcome, store_hub_object
from bayanihan.store.schema import stix_objects

if TYPE_CHECKING:
    from bayanihan.hub import Hub

__all__ = ["Submitted", "definitions", "find_techniques", "publish_definitions", "submit_report"]

_published: weakref.WeakSet[Any] = weakref.WeakSet()


@dataclass
class Submitted:
    """What a stored report became."""

    report_id: str
    object_ids: list[str]
    stored: int
    languages: list[str]
    observables: list[TypedObservable] = field(default_factory=list)

    def objects_of(self, stix_type: str) -> list[str]:
        return [i for i in self.object_ids if i.startswith(stix_type + "--")]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.report_id, "objects": self.object_ids, "stored": self.stored,
            "languages": self.languages,
            "observables": [{"type": t.observable.kind, "value": t.observable.value,
                             "source": t.source} for t in self.observables],
        }


def definitions(hub_identity: str) -> list[dict[str, Any]]:
    """Every extension-definition the hub's reports rely on, at TLP:CLEAR."""
    defs = [extension.definition(hub_identity), *extension_definitions(hub_identity)]
    return [{**d, "object_marking_refs": [TLP.CLEAR.marking_id]} for d in defs]


def publish_definitions(conn: Connection) -> list[str]:
    """Store the extension-definitions (authored by the hub) unless stored already."""
    hub_org = orgs.get(conn, orgs.HUB_CODE)
    if hub_org is None:
        return []
    stored = [v.id for d in definitions(hub_org.identity_id)
              if (v := store_hub_object(conn, d, orgs.HUB_CODE)).outcome is Outcome.STORED]
    if stored:
        audit.record(conn, audit.Actor.console(), "extension.publish", stored,
                     {"count": len(stored)})
    return stored


async def ensure_published(hub: Hub) -> None:
    if hub not in _published:
        await hub.db.write(publish_definitions)
        _published.add(hub)


def find_techniques(conn: Connection, ids: Sequence[str], where: ColumnElement[bool],
                    ) -> dict[str, str]:
    """Technique id -> attack-pattern id, among the stored objects ``where`` admits, else
    from the technique catalogue shipped in the package (MITRE's own attack-pattern ids)."""
    found: dict[str, str] = {}
    for tech in ids:
        rows = conn.execute(
            select(stix_objects.c.id, stix_objects.c.body, stix_objects.c.version_us)
            .where(stix_objects.c.type == "attack-pattern", stix_objects.c.is_latest.is_(True),
                   stix_objects.c.revoked.is_(False),
                   stix_objects.c.body.like(f'%"external_id":"{tech}"%'), where)
            .order_by(stix_objects.c.version_us.desc()))
        for row in rows:
            obj = orjson.loads(row.body)
            if tech in external_ids(obj) and not obj.get("x_mitre_deprecated"):
                found[tech] = row.id
                break
        if tech not in found and (known := lookup_technique(tech)) is not None:
            found[tech] = known["stix_id"]
    return found


def _country(report: Report, submitter: Submitter) -> str | None:
    if report.reporting_country:
        return report.reporting_country
    if is_member_state(submitter.org):
        return submitter.org.upper()
    return report.countries[0] if report.countries else None


async def submit_report(hub: Hub, report: Report, submitter: Submitter,
                        readable: ColumnElement[bool], *,
                        uploads: Sequence[Upload] = (), extra: Sequence[TypedObservable] = (),
                        field_of: dict[str, str] | None = None, extract_text: bool = True,
                        stages: Stages | None = None) -> Submitted:
    """Store ``report`` (and its uploads) as STIX; InvalidInput naming the field, nothing stored.

    ``readable`` is the submitter's access-policy condition: techniques are looked up
    among the attack-patterns it may see.
    ``field_of`` maps an observable's source to the input field to name in errors (MISP).
    ``stages`` collects the time of the build, validate and store steps.
    Call it through :func:`bayanihan.pipeline.submit`, which also indexes and links.
    """
    stages = stages if stages is not None else Stages()
    with stages.stage("build"):
        built = await _build(hub, report, submitter, readable, uploads, extra, extract_text)
    all_ids = [o["id"] for o in built.objects]
    with stages.stage("validate"):
        results, _good = await anyio.to_thread.run_sync(check_objects, built.objects, submitter)
    bad = [(r, e) for r in results for e in r.errors]
    if bad:
        sources = _sources(built, field_of or {})
        fields = [sources.get(r.id or "", "body") for r, _ in bad]
        detail = "; ".join(f"{sources.get(r.id or '', r.id)}: {e.reason}" for r, e in bad[:5])
        raise InvalidInput(f"the report cannot be stored as valid STIX: {detail}",
                           list(dict.fromkeys(fields)))
    with stages.stage("store"):
        result = await hub.ingest_objects(built.objects, submitter, report.audience,
                                          atomic=True, known={})  # checked just above
    if result.rejected:  # atomic: nothing of the report was stored
        first = [(r, e) for r in result.results for e in r.errors if "same bundle" not in e.reason]
        fields = list(dict.fromkeys(e.field for _, e in first))
        raise InvalidInput("; ".join(e.reason for _, e in first[:5]), fields)
    return Submitted(built.report_id, all_ids, len(result.stored),
                     built.languages, built.observables)


async def _build(hub: Hub, report: Report, submitter: Submitter,
                 readable: ColumnElement[bool], uploads: Sequence[Upload],
                 extra: Sequence[TypedObservable], extract_text: bool) -> Built:
    await ensure_published(hub)
    wanted = report.ai_involvement.techniques
    techniques = await hub.db.read(find_techniques, wanted, readable) if wanted else {}
    missing = [i for i, t in enumerate(wanted) if t not in techniques]
    if missing:
        names = ", ".join(wanted[i] for i in missing)
        raise InvalidInput(f"unknown technique {names}: no ATLAS/ATT&CK attack-pattern with "
                           "that id is stored (the operator loads them with `bayanihan ingest`)",
                           [f"ai_involvement.techniques[{i}]" for i in missing])
    try:
        return await anyio.to_thread.run_sync(lambda: build(
            report, author=submitter.identity_id, country=_country(report, submitter),
            techniques=techniques, uploads=uploads, extra=extra,
            extract_text=extract_text))
    except TooManyObservables as exc:  # bounded work: 413, the field named
        raise TooLarge(f"{exc.field}: {exc}", [exc.field]) from None
    except ValueError as exc:  # an observable the STIX model cannot hold
        raise InvalidInput(f"observables: {exc}", ["observables"]) from None


def _sources(built: Any, field_of: dict[str, str]) -> dict[str, str]:
    """Object id -> the report field it was made from (for error messages)."""
    from bayanihan.ingest.observables.stix import stix_object, stix_pattern

    out: dict[str, str] = {}
    by_pattern = {stix_pattern(t.observable): t.source for t in built.observables}
    by_sco = {stix_object(t.observable)["id"]: t.source for t in built.observables}
    for obj in built.objects:
        src = by_pattern.get(obj.get("pattern", "")) or by_sco.get(obj["id"])
        if src:
            out[obj["id"]] = field_of.get(src, src)
    return out
