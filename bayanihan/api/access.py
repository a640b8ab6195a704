"""Authorisation by declaration: every route says who may call it, in one expression.

A route takes its caller from an :class:`Access` rule, made by :func:`allow`::

    @router.get("/things/{id}")
    async def get_thing(id: str, who: Annotated[Caller, Depends(READ)]) -> Response: ...

    @router.post("/things")
    async def add_thing(who: Annotated[Caller, Depends(WRITE)]) -> Response: ...

The rule is both the check (it answers 401 without a key it needs, 403 for a role, an
organisation kind or an organisation it does not admit) and the declaration:
``tests/security/test_declared_access.py`` walks the live app and its OpenAPI document and
fails on any route without one, and calls every route with keys of every role and kind to
hold the server to what is declared. ``reads`` says how the route's answers are filtered:

``policy``  through the TLP access policy (``share/policy.py``: ``visible``/``may_see``)
``own``     only the caller organisation's own records (keys, webhooks, alerts, statuses)
``public``  nothing confidential (discovery, health, published metadata)
``admin``   hub administration data for the admins the rule admits

Writing has one rule everywhere (JSON API, reports, TAXII, campaigns, webhooks):
:data:`WRITE`, the same as :func:`bayanihan.share.policy.may_write`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.requests import HTTPConnection
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from bayanihan.errors import Forbidden, NotAuthenticated
from bayanihan.hub import Caller
from bayanihan.model.members import OrgKind
from bayanihan.share.policy import WRITER_KINDS, WRITER_ROLES

#: the caller without a key
ANONYMOUS_ROLE = "public"
ROLES = (ANONYMOUS_ROLE, "reader", "analyst", "admin")
READS = ("policy", "own", "public", "admin")


@dataclass(frozen=True)
class Access:
    """Who may call a route: roles (``public`` = no key), organisation kinds and codes."""

    roles: frozenset[str]
    kinds: frozenset[OrgKind] | None = None  # None: every kind
    orgs: frozenset[str] | None = None  # None: every organisation
    reads: str = "policy"

    def admits(self, role: str | None, kind: OrgKind | None, org: str | None) -> bool:
        """The declared decision for a caller (``role`` None = no key)."""
        if role is None:
            return ANONYMOUS_ROLE in self.roles
        return (role in self.roles and (self.kinds is None or kind in self.kinds)
                and (self.orgs is None or org in self.orgs))

    def describe(self) -> dict[str, Any]:
        """The declaration as data (``x-bayanihan-access`` in the OpenAPI document)."""
        return {"roles": sorted(self.roles, key=ROLES.index),
                "kinds": None if self.kinds is None else sorted(k.value for k in self.kinds),
                "orgs": None if self.orgs is None else sorted(self.orgs),
                "reads": self.reads}

    async def __call__(self, request: HTTPConnection) -> Caller:
        from bayanihan.api.auth import caller

        return self.check(await caller(request))  # type: ignore[arg-type]

    def _refusal(self, found: Caller) -> NotAuthenticated | Forbidden:
        reader = found.reader
        role = found.role.value if found.role is not None else None
        if role is None:
            return NotAuthenticated("an API key is required", ["Authorization"])
        if role not in self.roles:
            wanted = " or ".join(r for r in ROLES if r in self.roles and r != ANONYMOUS_ROLE)
            return Forbidden(f"this route needs a key with role {wanted} (this key: {role})",
                             ["Authorization"])
        if self.orgs is not None and reader.org not in self.orgs:
            return Forbidden(f"only {', '.join(sorted(self.orgs))} may call this route",
                             ["Authorization"])
        kinds = ", ".join(sorted(k.value for k in self.kinds or ()))
        return Forbidden(f"organisations of kind {reader.kind.value if reader.kind else '-'} "
                        f"may not call this route (allowed: {kinds})", ["Authorization"])

    def check(self, found: Caller) -> Caller:
        """The same decision for a caller found elsewhere (WebSocket routes close with 1008)."""
        reader = found.reader
        role = found.role.value if found.role is not None else None
        if not self.admits(role, reader.kind, reader.org):
            raise self._refusal(found)
        return found

    def declare(self) -> None:
        """A no-op dependency that declares the rule where the route checks it itself
        (``dependencies=[Depends(RULE.declare)]``)."""

    def __hash__(self) -> int:  # FastAPI caches dependencies by their callable
        return hash((self.roles, self.kinds, self.orgs, self.reads))


def allow(roles: Iterable[str], *, kinds: Iterable[OrgKind] | None = None,
          orgs: Iterable[str] | None = None, reads: str = "policy") -> Access:
    """A declaration; use it as ``Depends(allow(...))``."""
    roles = frozenset(roles)
    unknown = roles - set(ROLES)
    if unknown or reads not in READS:
        raise ValueError(f"unknown role(s) {sorted(unknown)} or reads {reads!r}")
    return Access(roles, None if kinds is None else frozenset(kinds),
                  None if orgs is None else frozenset(orgs), reads)


#: anyone, with or without a key; answers filtered by the TLP policy
READ = allow(ROLES)
#: anyone, nothing confidential in the answer
PUBLIC = allow(ROLES, reads="public")
#: any key of any organisation; answers filtered by the TLP policy
MEMBER = allow(ROLES[1:])
#: any key, answers limited to the caller's own organisation's records
OWN = allow(ROLES[1:], reads="own")
#: the one rule for writing, on every path
WRITE = allow(WRITER_ROLES, kinds=WRITER_KINDS)
#: writing the caller's own records (webhooks, dead letters)
WRITE_OWN = allow(WRITER_ROLES, kinds=WRITER_KINDS, reads="own")
#: files shipped in the package (stylesheets, scripts, the offline API docs' assets)
STATIC = allow(ROLES, reads="public")
#: an admin key (routes narrow further to the operator or the admin's own organisation)
ADMIN = allow(("admin",), reads="admin")


@dataclass(frozen=True)
class Endpoint:
    """One route as served (prefixes and router dependencies applied)."""

    path: str
    methods: frozenset[str]  # empty for WebSocket routes
    websocket: bool
    in_schema: bool
    rule: Access | None


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every HTTP and WebSocket route of ``app``; other routes (FastAPI's own documentation
    pages, other mounts) as Endpoints with ``rule`` None and ``in_schema`` False. A mount of
    :class:`StaticFiles` serves only the package's own assets: it is declared :data:`STATIC`."""
    found = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        dependant = getattr(ctx, "dependant", None)
        rule = declaration(dependant) if isinstance(dependant, Dependant) else None
        if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            rule = STATIC
        found.append(Endpoint(str(ctx.path), frozenset(ctx.methods or ()),
                              isinstance(route, APIWebSocketRoute),
                              isinstance(route, APIRoute) and bool(ctx.include_in_schema),
                              rule))
    return found


def annotate(app: FastAPI) -> None:
    """Put each route's declaration into the OpenAPI document (``x-bayanihan-access``)."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = plain()
        for ep in endpoints(app):
            item = doc.get("paths", {}).get(ep.path, {})
            for method in ep.methods:
                if ep.rule is not None and method.lower() in item:
                    item[method.lower()]["x-bayanihan-access"] = ep.rule.describe()
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def declared(dependant: Dependant) -> list[Access]:
    """Every Access rule among a route's dependencies (depth first)."""
    found: list[Access] = []
    call = dependant.call
    owner = getattr(call, "__self__", None)
    if isinstance(call, Access):
        found.append(call)
    elif isinstance(owner, Access) and getattr(call, "__name__", "") == "declare":
        found.append(owner)
    for sub in dependant.dependencies:
        found.extend(declared(sub))
    return found


def declaration(dependant: Dependant) -> Access | None:
    """The route's rule: the narrowest one when several apply (all of them must admit)."""
    rules = declared(dependant)
    if not rules:
        return None
    if len(rules) == 1:
        return rules[0]
    roles = frozenset.intersection(*(r.roles for r in rules))
    kinds = [r.kinds for r in rules if r.kinds is not None]
    orgs = [r.orgs for r in rules if r.orgs is not None]
    reads = next((r.reads for r in rules if r.reads != "public"), "public")
    return Access(roles, frozenset.intersection(*kinds) if kinds else None,
                  frozenset.intersection(*orgs) if orgs else None, reads)
