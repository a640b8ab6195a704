"""Bundles in: parse, validate, settle author and markings, store in one transaction.

Every write path (``POST /api/v1/objects``, TAXII ``POST …/objects/``, reports, MISP
import, ``bayanihan ingest``, sync) comes through :func:`ingest_objects`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, select

from bayanihan.errors import InvalidInput, TooLarge
from bayanihan.ingest.blind_refusals import blind
from bayanihan.ingest.held import hold, release_held
from bayanihan.ingest.verdicts import Verdicts
from bayanihan.model.members import OrgKind
from bayanihan.model.stix20 import is_stix20, upgrade
from bayanihan.model.tlp import (
    DEFAULT_TLP,
    LEVEL_BY_MARKING,
    TLP,
    is_tlp_marking,
    object_marking_refs,
    tlp_of,
)
from bayanihan.model.validation import validate
from bayanihan.store import audit
from bayanihan.store import organisations as orgs
from bayanihan.store.objects import NewVersion, Outcome, store_versions
from bayanihan.store.schema import stix_objects


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class Submitter:
    """The organisation a write is made for, and the key it used."""

    org: str
    identity_id: str
    kind: OrgKind
    key_id: str | None = None

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.org, self.key_id)


@dataclass
class ObjectResult:
    index: int
    id: str | None
    status: str  # accepted | duplicate | held | rejected
    version: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    upgraded_from: str | None = None  # "2.0" when a STIX 2.0 object was upgraded to 2.1
    note: str | None = None  # why an object is held

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "id": self.id, "status": self.status}
        if self.version:
            out["version"] = self.version
        if self.upgraded_from:
            out["upgraded_from"] = self.upgraded_from
        if self.note:
            out["note"] = self.note
        if self.errors:
            out["errors"] = [e.as_dict() for e in self.errors]
        return out


@dataclass
class IngestResult:
    results: list[ObjectResult]
    stored: list[NewVersion]

    @property
    def accepted(self) -> int:
        return sum(r.status != "rejected" for r in self.results)

    @property
    def rejected(self) -> int:
        return sum(r.status == "rejected" for r in self.results)

    @property
    def held(self) -> int:
        return sum(r.status == "held" for r in self.results)

    @property
    def upgraded(self) -> int:
        return sum(r.upgraded_from is not None for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"accepted": self.accepted, "rejected": self.rejected}
        if self.held:
            out["held"] = self.held
        if self.upgraded:
            out["upgraded"] = self.upgraded
        out["results"] = [r.as_dict() for r in self.results]
        return out


def parse_bundle(raw: bytes, max_objects: int, *, envelope: bool = False) -> list[Any]:
    """The ``objects`` of a STIX bundle (or a TAXII envelope when ``envelope``); a bare
    STIX object or a JSON list of objects is taken as a bundle of those objects."""
    try:
        doc = orjson.loads(raw)  # checks UTF-8 too: decoding first would cost a copy
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise InvalidInput(f"body is not valid UTF-8 (byte {bad.start})", ["body"]) from None
        raise InvalidInput(f"body is not JSON: {exc}", ["body"]) from None
    if isinstance(doc, list):
        doc = {"type": "bundle", "objects": doc}
    elif isinstance(doc, dict) and isinstance(doc.get("type"), str) and doc["type"] != "bundle":
        doc = {"type": "bundle", "objects": [doc]}  # one bare STIX object
    if not isinstance(doc, dict):
        raise InvalidInput("body must be a JSON object (a STIX bundle)", ["body"])
    if doc.get("type") != "bundle" and not (envelope and "type" not in doc):
        what = "a STIX bundle or a TAXII envelope" if envelope else "a STIX bundle"
        raise InvalidInput(f"body must be {what} (\"type\": \"bundle\")", ["type"])
    objects = doc.get("objects", [])
    if not isinstance(objects, list):
        raise InvalidInput("objects must be a list", ["objects"])
    if len(objects) > max_objects:
        raise TooLarge(f"{len(objects)} objects in one bundle; at most {max_objects}", ["objects"])
    return objects


def check_object(index: int, obj: Any, submitter: Submitter | None,
                 problems: list[tuple[str, str]] | None = None,
                 ) -> tuple[ObjectResult, dict[str, Any] | None]:
    """Validate one object (unless its ``problems`` are known), upgrading STIX 2.0 first.

    The object is kept exactly as sent (a 2.0 object: as upgraded); ``created_by_ref`` is
    the author's business and checked against the hub's organisations when stored.
    """
    where = f"objects[{index}]"
    if not isinstance(obj, dict):
        return ObjectResult(index, None, "rejected", errors=[FieldError(where, "not an object")]), None
    oid = obj.get("id") if isinstance(obj.get("id"), str) else None
    upgraded = None
    if is_stix20(obj):
        obj, upgraded = upgrade(obj), "2.0"
    if problems is None:
        problems = [(p.path, p.reason) for p in validate(obj)]
    if problems:
        errors = [FieldError(f"{where}.{field}" if field else where, reason)
                  for field, reason in problems]
        return ObjectResult(index, oid, "rejected", errors=errors, upgraded_from=upgraded), None
    return ObjectResult(index, oid, "accepted", version=obj.get("modified") or obj.get("created"),
                        upgraded_from=upgraded), obj


def check_objects(objects: Sequence[Any], submitter: Submitter | None,
                  known: Verdicts | None = None, start: int = 0,
                  ) -> tuple[list[ObjectResult], list[tuple[int, dict[str, Any]]]]:
    """Check every object; ``known``: verdicts found already (by a validation worker).
    ``start``: the index of ``objects[0]`` in the bundle (results are numbered from it)."""
    results, good = [], []
    for i, obj in enumerate(objects):
        problems = None if known is None else known.get(i, [])
        result, checked = check_object(start + i, obj, submitter, problems)
        results.append(result)
        if checked is not None:
            good.append((start + i, checked))
    return results, good


def check_audience(conn: Connection, audience: Sequence[str] | None) -> dict[str, OrgKind] | None:
    """Named organisations (upper-cased, in order) and their kinds; None for the default audience."""
    if audience is None:
        return None
    codes = list(dict.fromkeys(c.strip().upper() for c in audience if c.strip()))
    known = {o.code: o.kind for o in orgs.all_orgs(conn)}
    missing = [c for c in codes if c not in known]
    if missing:
        raise InvalidInput(f"audience names unknown organisations: {', '.join(missing)}", ["audience"])
    return {c: known[c] for c in codes}


def tlp_of_refs(obj: dict[str, Any]) -> TLP | None:
    """The TLP level an object's own markings give it; None when it carries no TLP marking."""
    refs = obj.get("object_marking_refs")
    if type(refs) is list and len(refs) == 1 and "granular_markings" not in obj:
        return LEVEL_BY_MARKING.get(refs[0]) if type(refs[0]) is str else None  # most objects
    return tlp_of(object_marking_refs(obj))  # granular markings count too (issue 13)


def _marking_refs(obj: dict[str, Any]) -> list[str]:
    refs = [r for r in obj.get("object_marking_refs", ()) if not is_tlp_marking(r)]
    refs += [g["marking_ref"] for g in obj.get("granular_markings", ())
             if "marking_ref" in g and not is_tlp_marking(g["marking_ref"])]
    return refs


def _unknown_markings(conn: Connection, good: list[tuple[int, dict[str, Any]]]) -> set[str]:
    """Marking-definitions the objects name that neither the bundle nor the store has."""
    refs = {ref for _, o in good for ref in _marking_refs(o)}
    refs -= {o["id"] for _, o in good if o["type"] == "marking-definition"}
    if not refs:
        return set()
    found = conn.execute(select(stix_objects.c.id).where(stix_objects.c.id.in_(sorted(refs))))
    return refs - {r.id for r in found}


def _claims_another_org(obj: dict[str, Any], identities: dict[str, str],
                        submitter: Submitter | None) -> str | None:
    """Why ``obj`` may not be stored for ``submitter``: it names another hub
    organisation's identity as its author (any other identity may be named)."""
    claimed = obj.get("created_by_ref")
    if submitter is None or not isinstance(claimed, str):
        return None
    owner = identities.get(claimed)
    if owner is None or owner == submitter.org:
        return None
    return (f"names the identity of hub organisation {owner} ({claimed}); only {owner} can "
            f"author objects as that identity")


class AllOrNothing(Exception):
    """Raised inside the write transaction to roll back a bundle that must be stored whole."""

    def __init__(self, result: IngestResult) -> None:
        super().__init__("bundle rolled back")
        self.result = result


def store_checked(
    conn: Connection,
    results: list[ObjectResult],
    good: list[tuple[int, dict[str, Any]]],
    submitter: Submitter | None,
    audience: Sequence[str] | None,
    *,
    author_of: Callable[[dict[str, Any]], str | None] | None = None,
    action: str = "objects.add",
    atomic: bool = False,
    default_tlp: TLP | None = None,
) -> IngestResult:
    """The write half of ingest, inside the caller's write transaction.

    With ``atomic`` the bundle is stored whole or not at all: one rejected object raises
    :class:`AllOrNothing` and the transaction rolls back. ``default_tlp``: the TLP of objects
    that carry no TLP marking of their own (else AMBER); the object itself is not changed.
    """
    kinds = check_audience(conn, audience)
    named = list(kinds) if kinds is not None else None
    unknown = _unknown_markings(conn, good)
    versions: list[tuple[int, NewVersion]] = []
    red_blocked = None
    if not named:
        red_blocked = "TLP:RED needs the recipient organisations named in audience"
    elif any(k is OrgKind.DOWNSTREAM for k in (kinds or {}).values()):
        red_blocked = "TLP:RED never reaches downstream organisations"
    fixed_author = submitter.org if submitter else None
    key_id = submitter.key_id if submitter else None
    identities = orgs.by_identity(conn) if submitter is not None else {}
    audience_json = orjson.dumps(named).decode() if named is not None else None
    for index, obj in good:
        if obj["id"] in LEVEL_BY_MARKING:  # the TLP definitions themselves: known already
            results[index].status = "duplicate"
            continue
        if (claim := _claims_another_org(obj, identities, submitter)) is not None:
            results[index].status = "rejected"
            results[index].errors.append(FieldError(f"objects[{index}].created_by_ref", claim))
            continue
        tlp = tlp_of_refs(obj) or default_tlp or DEFAULT_TLP
        if tlp is TLP.RED and red_blocked:
            results[index].status = "rejected"
            results[index].errors.append(FieldError("audience", red_blocked))
            continue
        author = author_of(obj) if author_of else fixed_author
        if unknown and (waiting := [r for r in _marking_refs(obj) if r in unknown]):
            hold(conn, obj, waiting[0], author, key_id, audience_json)
            results[index].status = "held"
            results[index].note = (f"held until marking-definition {waiting[0]} arrives; "
                                   "stored then")
            continue
        versions.append((index, NewVersion(obj, author_org=author, tlp=tlp, audience=named,
                                           submitted_key=key_id)))
    store_versions(conn, [v for _, v in versions])
    blind(conn, fixed_author, [v for _, v in versions])  # one answer on unreadable ids
    for index, v in versions:
        if v.outcome is Outcome.DUPLICATE:
            results[index].status = "duplicate"
        elif v.outcome is Outcome.CONFLICT:
            results[index].status = "rejected"
            results[index].errors.append(FieldError(f"objects[{index}].id", v.reason))
    stored = [v for _, v in versions if v.outcome is Outcome.STORED]
    if atomic and any(r.status == "rejected" for r in results):
        raise AllOrNothing(IngestResult(results, []))
    if stored:
        actor = submitter.actor if submitter else audit.Actor.console()
        audit.record(conn, actor, action, [v.id for v in stored],
                     {"count": len(stored), "audience": named})
    definitions = [v.id for v in stored if v.type == "marking-definition"]
    if definitions:
        stored += release_held(conn, definitions)
    return IngestResult(results, stored)


def nothing_stored(result: IngestResult) -> IngestResult:
    """The per-object results of a bundle rolled back because some object was rejected."""
    for r in result.results:
        if r.status != "rejected":
            r.status = "rejected"
            r.errors.append(FieldError(f"objects[{r.index}]",
                                       "not stored: another object of the same bundle was rejected"))
    return IngestResult(result.results, [])
