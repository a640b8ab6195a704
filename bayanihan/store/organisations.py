"""Organisations: member CERTs, partners, observers, downstream SOCs, the hub operator."""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, select

from bayanihan.errors import Conflict, InvalidInput, NotFound
from bayanihan.model.members import MEMBER_STATES, OrgKind
from bayanihan.model.stix import format_ms, now_us, stable_id
from bayanihan.model.tlp import TLP
from bayanihan.store import audit
from bayanihan.store.schema import organisations, stix_objects

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
HUB_CODE = "HUB"


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    kind: OrgKind
    parent: str | None
    identity_id: str


def _from_row(row: object) -> Organisation:
    m = row._mapping  # type: ignore[attr-defined]
    return Organisation(m["code"], m["name"], OrgKind(m["kind"]), m["parent"], m["identity_id"])


def identity_object(code: str, name: str, kind: OrgKind, created_us: int) -> dict[str, object]:
    """The organisation's STIX identity; it names itself as author."""
    ident = stable_id("identity", code)
    when = format_ms(created_us)
    obj: dict[str, object] = {
        "type": "identity",
        "spec_version": "2.1",
        "id": ident,
        "created": when,
        "modified": when,
        "name": name,
        "identity_class": "organization",
        "sectors": ["government-national"] if kind in (OrgKind.MEMBER, OrgKind.HUB) else [],
        "object_marking_refs": [TLP.CLEAR.marking_id],
    }
    if not obj["sectors"]:
        del obj["sectors"]
    if kind is OrgKind.MEMBER and code in MEMBER_STATES:
        obj["contact_information"] = f"National CERT of {MEMBER_STATES[code][0]}"
    return obj


def get(conn: Connection, code: str) -> Organisation | None:
    row = conn.execute(select(organisations).where(organisations.c.code == code)).first()
    return _from_row(row) if row else None


def require(conn: Connection, code: str) -> Organisation:
    org = get(conn, code)
    if org is None:
        raise NotFound(f"no organisation {code!r}", ["org"])
    return org


def all_orgs(conn: Connection) -> list[Organisation]:
    return [_from_row(r) for r in conn.execute(select(organisations).order_by(organisations.c.code))]


def by_identity(conn: Connection) -> dict[str, str]:
    """identity id -> organisation code."""
    rows = conn.execute(select(organisations.c.identity_id, organisations.c.code))
    return {r.identity_id: r.code for r in rows}


def add(
    conn: Connection,
    actor: audit.Actor,
    code: str,
    name: str,
    kind: OrgKind = OrgKind.MEMBER,
    parent: str | None = None,
) -> Organisation:
    """Admit an organisation and store its STIX identity (TLP:CLEAR)."""
    code = code.strip().upper()
    if not CODE_RE.match(code):
        raise InvalidInput(
            f"organisation code {code!r}: 2-32 letters, digits, '-' or '_'", ["code"]
        )
    if not name.strip():
        raise InvalidInput("organisation name must not be empty", ["name"])
    if get(conn, code) is not None:
        raise Conflict(f"organisation {code} exists already", ["code"])
    if kind is OrgKind.DOWNSTREAM and not parent:
        raise InvalidInput("a downstream organisation needs --parent (its member)", ["parent"])
    if parent:
        parent = parent.upper()
        parent_org = get(conn, parent)
        if parent_org is None:
            raise InvalidInput(f"parent organisation {parent!r} does not exist", ["parent"])
        if kind is not OrgKind.DOWNSTREAM:
            raise InvalidInput("only downstream organisations have a parent", ["parent"])
        if parent_org.kind is OrgKind.DOWNSTREAM:
            raise InvalidInput("a downstream organisation cannot be a parent", ["parent"])
    created = now_us()
    ident = identity_object(code, name, kind, created)
    conn.execute(
        organisations.insert().values(
            code=code, name=name, kind=kind.value, parent=parent,
            identity_id=ident["id"], created_us=created,
        )
    )
    from bayanihan.store.objects import store_hub_object  # late: objects imports us

    store_hub_object(conn, ident, author_org=code)
    audit.record(conn, actor, "org.add", [str(ident["id"])],
                 {"code": code, "name": name, "kind": kind.value, "parent": parent})
    return Organisation(code, name, kind, parent, str(ident["id"]))


def seed_asean(conn: Connection, actor: audit.Actor) -> list[Organisation]:
    """Add the eleven member-state CERTs that are not there yet."""
    added = []
    for code, (country, cert) in MEMBER_STATES.items():
        if get(conn, code) is None:
            added.append(add(conn, actor, code, f"{cert} ({country})", OrgKind.MEMBER))
    return added


def identity_body(conn: Connection, code: str) -> dict[str, object] | None:
    org = get(conn, code)
    if org is None:
        return None
    row = conn.execute(
        select(stix_objects.c.body).where(
            stix_objects.c.id == org.identity_id, stix_objects.c.is_latest.is_(True)
        )
    ).first()
    return orjson.loads(row.body) if row else None
