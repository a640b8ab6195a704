"""``/api/v1/admin``: organisations, keys and the audit log, for admin keys.

The hub operator's admin keys manage every organisation; a member's admin key manages
the keys of its own organisation. Admin rights never widen what a key may *read*.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from bayanihan.api.access import ADMIN
from bayanihan.api.auth import hub_of
from bayanihan.api.responses import json_response
from bayanihan.errors import Forbidden
from bayanihan.hub import Caller
from bayanihan.model.members import OrgKind
from bayanihan.model.stix import format_ms
from bayanihan.store import audit, keys
from bayanihan.store import organisations as orgs

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
Admin = Annotated[Caller, Depends(ADMIN)]


class NewOrganisation(BaseModel):
    code: str = Field(min_length=2, max_length=32, description="Short code, e.g. TH or TH-BANK1")
    name: str = Field(min_length=1, max_length=200)
    kind: OrgKind = OrgKind.MEMBER
    parent: str | None = Field(default=None, min_length=2, max_length=32,
                               description="The member a downstream org sits under")


class NewKey(BaseModel):
    org: str
    role: keys.Role = keys.Role.ANALYST
    expires_days: float | None = Field(default=None, gt=0)
    label: str | None = Field(default=None, max_length=200)


def _actor(who: Caller) -> audit.Actor:
    return audit.Actor(who.reader.org, who.reader.key_id)


def _operator(who: Caller) -> None:
    if who.reader.org != orgs.HUB_CODE:
        raise Forbidden("only the hub operator's admin keys manage organisations", ["Authorization"])


def _may_manage(who: Caller, org: str) -> None:
    if who.reader.org not in (orgs.HUB_CODE, org.upper()):
        raise Forbidden("an admin key manages only its own organisation's keys", ["org"])


def _org_json(o: orgs.Organisation) -> dict[str, object]:
    return {"code": o.code, "name": o.name, "kind": o.kind.value, "parent": o.parent,
            "identity_id": o.identity_id}


def _key_json(k: keys.KeyInfo) -> dict[str, object]:
    return {"key_id": k.key_id, "org": k.org, "role": k.role.value, "label": k.label,
            "created": format_ms(k.created_us),
            "expires": format_ms(k.expires_us) if k.expires_us else None,
            "revoked": format_ms(k.revoked_us) if k.revoked_us else None,
            "last_used": format_ms(k.last_used_us) if k.last_used_us else None}


@router.get("/orgs", summary="List organisations")
async def list_orgs(request: Request, who: Admin) -> Response:
    return json_response({"orgs": [_org_json(o) for o in await hub_of(request).db.read(orgs.all_orgs)]})


@router.post("/orgs", status_code=201, summary="Admit an organisation")
async def add_org(body: NewOrganisation, request: Request, who: Admin) -> Response:
    _operator(who)
    org = await hub_of(request).db.write(orgs.add, _actor(who), body.code, body.name, body.kind,
                                         body.parent)
    return json_response(_org_json(org), 201)


@router.get("/keys", summary="List keys (never the secrets)")
async def list_keys(request: Request, who: Admin, org: str | None = None) -> Response:
    if who.reader.org != orgs.HUB_CODE:
        org = who.reader.org
    found = await hub_of(request).db.read(keys.list_keys, org.upper() if org else None)
    return json_response({"keys": [_key_json(k) for k in found]})


@router.post("/keys", status_code=201, summary="Create a key; the secret is in this response only")
async def create_key(body: NewKey, request: Request, who: Admin) -> Response:
    _may_manage(who, body.org)
    key, info = await hub_of(request).db.write(keys.create, _actor(who), body.org.upper(), body.role,
                                               body.expires_days, body.label)
    return json_response({**_key_json(info), "key": key}, 201,
                         headers={"Cache-Control": "no-store"})


@router.delete("/keys/{key_id}", summary="Revoke a key")
async def revoke_key(key_id: str, request: Request, who: Admin) -> Response:
    hub = hub_of(request)
    if who.reader.org != orgs.HUB_CODE:
        mine = {k.key_id for k in await hub.db.read(keys.list_keys, who.reader.org)}
        if key_id not in mine:
            raise Forbidden("an admin key revokes only its own organisation's keys", ["key_id"])
    info = await hub.db.write(keys.revoke, _actor(who), key_id)
    hub.forget_keys()
    return json_response(_key_json(info))


@router.get("/audit/verify", summary="Check the audit chain")
async def verify_audit(request: Request, who: Admin) -> Response:
    _operator(who)
    db = hub_of(request).db
    problem = await db.read(audit.verify, None)
    seq, digest = await db.read(audit.head)
    return json_response({"intact": problem is None, "head": f"{seq}:{digest}",
                          "problem": None if problem is None else
                          {"seq": problem.seq, "reason": problem.reason}})
