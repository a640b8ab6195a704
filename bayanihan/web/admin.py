"""Admin pages: people (web users), API keys, organisations, webhooks and the audit chain.

The same rules as ``/api/v1/admin``: the hub operator's admins manage every organisation;
a member's admin manages the users and keys of its own organisation. Every change goes
through the store functions that write the audit entry in the same transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, select

from bayanihan.api.access import ADMIN
from bayanihan.errors import BayanihanError
from bayanihan.hub import Caller
from bayanihan.model.members import OrgKind
from bayanihan.model.stix import format_ms
from bayanihan.share import webhooks
from bayanihan.store import audit, keys, users
from bayanihan.store import organisations as orgs
from bayanihan.store.schema import audit_log
from bayanihan.web.render import page
from bayanihan.web.session import PageRefused, WebUser, check_csrf, web_admin, web_operator

router = APIRouter(prefix="/admin")
Admin = Annotated[Caller, Depends(ADMIN)]
AdminUser = Annotated[WebUser, Depends(web_admin)]
Operator = Annotated[WebUser, Depends(web_operator)]
Csrf = Annotated[str, Form(max_length=100)]


def _actor(who: Caller) -> audit.Actor:
    assert who.submitter is not None
    return who.submitter.actor


def _scope(user: WebUser, org: str | None = None) -> str | None:
    """The organisation this admin may manage: any (None) for the operator, else its own."""
    mine = user.session.org
    if mine == orgs.HUB_CODE:
        return org.upper() if org else None
    if org and org.upper() != mine:
        raise PageRefused("An admin manages only the users and keys of its own organisation.")
    return mine


async def _people(request: Request, user: WebUser, error: str | None = None,
                  status: int = 200, new_key: str | None = None) -> Response:
    scope = _scope(user)

    def read(conn: Connection) -> dict[str, Any]:
        codes = [o.code for o in orgs.all_orgs(conn) if scope is None or o.code == scope]
        return {"people": users.list_users(conn, scope),
                "keys": [k for k in keys.list_keys(conn, scope)],
                "codes": codes}

    data = await request.app.state.hub.db.read(read)
    return page(request, "admin_people.html", status, error=error, new_key=new_key,
                roles=[r.value for r in keys.Role], format_ms=format_ms, **data)


@router.get("", summary="Admin: users and keys", include_in_schema=False)
async def people_page(request: Request, user: AdminUser, who: Admin) -> Response:
    return await _people(request, user)


@router.post("/users", summary="Admin: add a web user", include_in_schema=False)
async def add_user(request: Request, user: AdminUser, who: Admin,
                   username: Annotated[str, Form(max_length=64)],
                   org: Annotated[str, Form(max_length=32)],
                   role: Annotated[str, Form(max_length=16)],
                   password: Annotated[str, Form(max_length=1024)],
                   csrf: Csrf = "") -> Response:
    check_csrf(request, csrf)
    try:
        code = _scope(user, org) or org.upper()
        await request.app.state.hub.db.write(users.add, _actor(who), username, code,
                                             keys.Role(role), password)
    except (BayanihanError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, BayanihanError) else "role: admin, analyst or reader"
        return await _people(request, user, f"User not added: {detail}", 400)
    return RedirectResponse("/admin", 303)


@router.post("/users/{username}/state", summary="Admin: disable or enable a user",
             include_in_schema=False)
async def user_state(username: str, request: Request, user: AdminUser, who: Admin,
                     disable: Annotated[bool, Form()] = True,
                     csrf: Csrf = "") -> Response:
    check_csrf(request, csrf)
    db = request.app.state.hub.db
    found = await db.read(users.get, username)
    if found is None or _scope(user) not in (None, found.org):
        return await _people(request, user, f"No user {username} you manage.", 404)
    await db.write(users.set_disabled, _actor(who), username, disable)
    return RedirectResponse("/admin", 303)


@router.post("/keys", summary="Admin: create an API key", include_in_schema=False)
async def add_key(request: Request, user: AdminUser, who: Admin,
                  org: Annotated[str, Form(max_length=32)],
                  role: Annotated[str, Form(max_length=16)],
                  label: Annotated[str, Form(max_length=200)] = "",
                  csrf: Csrf = "") -> Response:
    check_csrf(request, csrf)
    try:
        code = _scope(user, org) or org.upper()
        key, _ = await request.app.state.hub.db.write(keys.create, _actor(who), code,
                                                      keys.Role(role), None, label or None)
    except (BayanihanError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, BayanihanError) else "role: admin, analyst or reader"
        return await _people(request, user, f"Key not created: {detail}", 400)
    return await _people(request, user, new_key=key)  # shown once, never stored


@router.post("/keys/{key_id}/revoke", summary="Admin: revoke an API key", include_in_schema=False)
async def revoke_key(key_id: str, request: Request, user: AdminUser, who: Admin,
                     csrf: Csrf = "") -> Response:
    check_csrf(request, csrf)
    hub = request.app.state.hub
    mine = {k.key_id for k in await hub.db.read(keys.list_keys, _scope(user))}
    if key_id not in mine:
        return await _people(request, user, f"No key {key_id} you manage.", 404)
    await hub.db.write(keys.revoke, _actor(who), key_id)
    hub.forget_keys()
    return RedirectResponse("/admin", 303)


async def _orgs_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    def read(conn: Connection) -> dict[str, Any]:
        found = orgs.all_orgs(conn)
        return {"organisations": found,
                "hooks": {o.code: webhooks.list_endpoints(conn, o.code) for o in found}}

    data = await request.app.state.hub.db.read(read)
    kinds = [k.value for k in OrgKind if k is not OrgKind.HUB]
    return page(request, "admin_orgs.html", status, error=error, kinds=kinds, **data)


@router.get("/orgs", summary="Admin: organisations and their webhooks", include_in_schema=False)
async def orgs_page(request: Request, user: Operator, who: Admin) -> Response:
    return await _orgs_page(request)


@router.post("/orgs", summary="Admin: admit an organisation", include_in_schema=False)
async def add_org(request: Request, user: Operator, who: Admin,
                  code: Annotated[str, Form(max_length=32)],
                  name: Annotated[str, Form(max_length=200)],
                  kind: Annotated[str, Form(max_length=16)],
                  parent: Annotated[str, Form(max_length=32)] = "",
                  csrf: Csrf = "") -> Response:
    check_csrf(request, csrf)
    try:
        if kind not in {k.value for k in OrgKind} - {OrgKind.HUB.value}:
            raise ValueError(kind)
        await request.app.state.hub.db.write(orgs.add, _actor(who), code, name, OrgKind(kind),
                                             parent.strip().upper() or None)
    except (BayanihanError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, BayanihanError) else \
            "kind: member, partner, observer or downstream"
        return await _orgs_page(request, f"Organisation not added: {detail}", 400)
    return RedirectResponse("/admin/orgs", 303)


@router.get("/audit", summary="Admin: verify the audit chain", include_in_schema=False)
async def audit_page(request: Request, user: Operator, who: Admin) -> Response:
    def read(conn: Connection) -> dict[str, Any]:
        problem = audit.verify(conn, None)
        seq, digest = audit.head(conn)
        latest = conn.execute(select(audit_log.c.seq, audit_log.c.at, audit_log.c.actor_org,
                                     audit_log.c.actor_key, audit_log.c.action)
                              .order_by(audit_log.c.seq.desc()).limit(50)).all()
        return {"problem": problem, "head": f"{seq}:{digest}", "latest": latest}

    data = await request.app.state.hub.db.read(read)
    return page(request, "admin_audit.html", **data)
