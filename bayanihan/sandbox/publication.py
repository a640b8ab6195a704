"""Publishing a report card to members: a STIX 2.1 ``report`` through ``hub.ingest_objects``.

The report (``report_types: ["x-sandbox-report-card"]``, a custom value of the open
report-type vocabulary: stix2-validator warns, does not reject) carries the grade and failing
criteria in ``description`` and the whole card in a property extension
(``extensions[EXTENSION_ID].card``, defined by an ``extension-definition`` the hub publishes
at TLP:CLEAR), and refers to the tool as a ``software`` SCO whose deterministic id comes from
the tool spec and hash (the SCO itself is not sent). TLP marking and audience go through the
hub's one write path, so the access policy decides who reads it over the API and TAXII.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import orjson
import stix2
from sqlalchemy import Connection, select

from bayanihan.errors import InvalidInput
from bayanihan.ingest.bundles import Submitter
from bayanihan.model.stix import format_ms, new_id, now_us, stable_id
from bayanihan.model.tlp import TLP
from bayanihan.store import audit

from .hub_store import HubSandboxStore
from .tables import sandbox_publication, sandbox_run

if TYPE_CHECKING:
    from bayanihan.hub import Hub

REPORT_TYPE = "x-sandbox-report-card"
#: ``stable_id("extension-definition", "sandbox-report-card")``: never changes.
EXTENSION_ID = stable_id("extension-definition", "sandbox-report-card")
_DEFINED = "2026-11-27T00:00:00.000Z"
_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Bayanihan sandbox report card",
    "type": "object",
    "required": ["extension_type", "card"],
    "properties": {
        "extension_type": {"const": "property-extension"},
        "card": {"type": "object", "description": "bayanihan.sandbox.card/1 (docs/sandbox.md)",
                 "required": ["schema", "run", "tool", "suite", "seed", "criteria", "grade"]},
    },
}


def extension_definition(hub_identity: str) -> dict[str, Any]:
    """The extension-definition of the report-card property, authored by the hub, TLP:CLEAR."""
    return {
        "type": "extension-definition", "spec_version": "2.1", "id": EXTENSION_ID,
        "created_by_ref": hub_identity, "created": _DEFINED, "modified": _DEFINED,
        "name": "Bayanihan sandbox report card",
        "description": "The report card of a regulatory-sandbox run of an AI security tool: "
                       "tool and suite hashes, seed, isolation, metrics, criteria, grade.",
        "schema": orjson.dumps(_SCHEMA, option=orjson.OPT_SORT_KEYS).decode(),
        "version": "1.0.0", "extension_types": ["property-extension"],
        "object_marking_refs": [TLP.CLEAR.marking_id],
    }


def software_id(card: dict[str, Any]) -> str:
    """The STIX id of the tool under test (``software`` SCO: name = spec, version = hash)."""
    tool = card["tool"]
    return str(stix2.Software(name=tool["spec"], version=tool["sha256"]).id)


def card_report(card: dict[str, Any], tlp: TLP, at_us: int) -> dict[str, Any]:
    """The STIX report that publishes ``card`` at ``tlp``."""
    stamp = format_ms(at_us)
    suite, tool = card["suite"], card["tool"]
    failing = ", ".join(card.get("failing", [])) or "none"
    return {
        "type": "report", "spec_version": "2.1", "id": new_id("report"),
        "created": stamp, "modified": stamp, "published": stamp,
        "name": f"Sandbox report card: {tool['spec']} on {suite['name']} v{suite['version']}"
                f" — {card['grade'].upper()}",
        "description": f"Grade {card['grade']} (worst-of). Failing criteria: {failing}. "
                       f"Suite sha256 {suite['sha256']}, tool sha256 {tool['sha256']}, "
                       f"seed {card['seed']}, isolation: {card['isolation']['network']}.",
        "report_types": [REPORT_TYPE],
        "object_refs": [software_id(card)],
        "object_marking_refs": [tlp.marking_id],
        "external_references": [{"source_name": "bayanihan-sandbox",
                                 "external_id": card["run"]["id"],
                                 "description": "sandbox run id"}],
        "extensions": {EXTENSION_ID: {"extension_type": "property-extension", "card": card}},
    }


def parse_tlp(text: str) -> TLP:
    try:
        return TLP.parse(text)
    except ValueError as exc:
        raise InvalidInput(str(exc), ["tlp"]) from None


async def publish(hub: Hub, run_id: str, tlp: TLP, audience: Sequence[str] | None,
                  submitter: Submitter) -> dict[str, Any]:
    """Publish a stored run's card; returns ``{id, run, tlp, audience}``.

    Raises ``InvalidInput`` naming the field when the hub refuses the report (e.g. TLP:RED
    without an audience). The publication is recorded and audited after the report is stored.
    """
    store = HubSandboxStore(hub.db, submitter.actor)
    card = await anyio.to_thread.run_sync(store.get_card, run_id)
    report = card_report(card, tlp, now_us())
    definition = await hub.ingest_objects([extension_definition(submitter.identity_id)],
                                          submitter, None)
    result = await hub.ingest_objects([report], submitter, audience)
    errors = [e for r in (*definition.results, *result.results) for e in r.errors]
    if errors:
        raise InvalidInput("; ".join(e.reason for e in errors), [e.field for e in errors])
    names = sorted({c.strip().upper() for c in audience if c.strip()}) if audience else None
    await hub.db.write(_record, run_id, report["id"], tlp, names, submitter.actor)
    return {"id": report["id"], "run": run_id, "tlp": tlp.value, "audience": names}


def _record(conn: Connection, run_id: str, object_id: str, tlp: TLP,
            audience: list[str] | None, actor: audit.Actor) -> None:
    conn.execute(sandbox_publication.insert().values(
        object_id=object_id, run_id=run_id, tlp=tlp.value,
        audience=orjson.dumps(audience).decode() if audience is not None else None,
        published_us=now_us(), published_by=actor.org))
    row = conn.execute(select(sandbox_run.c.suite_sha256, sandbox_run.c.tool_sha256,
                              sandbox_run.c.grade).where(sandbox_run.c.run_id == run_id)).one()
    audit.record(conn, actor, "sandbox.card.publish", [run_id, object_id],
                 {"run": run_id, "object": object_id, "tlp": tlp.value, "audience": audience,
                  "suite_sha256": row.suite_sha256, "tool_sha256": row.tool_sha256,
                  "verdict": row.grade})

