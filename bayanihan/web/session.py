"""Who is looking at a page: the browser's session cookie, never an API key.

Every web route runs :func:`session_caller` first (a router dependency): it reads the
``bayanihan_session`` cookie and sets ``request.state.caller``, which the API's
authorisation rules (``api/access.py``) then use. An ``Authorization`` header sent to a
page is ignored, so a browser's cached credentials never open a page, and a page's
cookie never opens the API (the API reads only keys).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Connection

from bayanihan.hub import ANONYMOUS, Caller
from bayanihan.ingest.bundles import Submitter
from bayanihan.share.policy import Reader
from bayanihan.store import organisations as orgs
from bayanihan.store import users
from bayanihan.store.keys import Role

COOKIE = "bayanihan_session"


class SignInRequired(Exception):
    """A page that needs a signed-in user: answered by a redirect to /signin."""


class CsrfRefused(Exception):
    """A form post without this session's token: answered 403."""


class PageRefused(Exception):
    """A signed-in user whose role or organisation may not use this page: answered 403
    with an HTML page saying why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WebUser:
    session: users.Session
    caller: Caller


def caller_for(conn: Connection, session: users.Session) -> Caller:
    """The same Caller an API key of this organisation and role would give."""
    org = orgs.require(conn, session.org)
    parent = orgs.get(conn, org.parent) if org.parent else None
    actor = f"user:{session.username}"[:32]
    reader = Reader(org=org.code, kind=org.kind, parent=org.parent,
                    parent_kind=parent.kind if parent else None, role=session.role.value,
                    key_id=actor)
    return Caller(reader, Submitter(org.code, org.identity_id, org.kind, actor), session.role)


async def session_caller(request: Request) -> None:
    """Sets ``request.state.caller`` (ANONYMOUS unless fully signed in) and ``web_user``."""
    request.state.caller = ANONYMOUS
    request.state.web_user = None
    request.state.pending = None
    token = request.cookies.get(COOKIE)
    if not token:
        return
    hub = request.app.state.hub

    def read(conn: Connection) -> tuple[users.Session | None, Caller | None]:
        found = users.read_session(conn, token)
        if found is None or found.stage != "full":
            return found, None
        return found, caller_for(conn, found)

    found, who = await hub.db.read(read)
    if found is None:
        return
    if who is None:
        request.state.pending = found
        return
    request.state.caller = who
    request.state.web_user = WebUser(found, who)


def web_user(request: Request) -> WebUser:
    """The signed-in user, or a redirect to the sign-in page."""
    found: WebUser | None = request.state.web_user
    if found is None:
        raise SignInRequired()
    return found


def web_writer(request: Request) -> WebUser:
    found = web_user(request)
    if found.session.role not in (Role.ANALYST, Role.ADMIN) or not found.caller.can_write:
        raise PageRefused("Your account may read but not write (it needs the analyst or "
                          "admin role in an organisation that may report).")
    return found


def web_admin(request: Request) -> WebUser:
    found = web_user(request)
    if found.session.role is not Role.ADMIN:
        raise PageRefused("These pages need an admin account.")
    return found


def web_operator(request: Request) -> WebUser:
    """An admin of the hub operator's organisation."""
    found = web_admin(request)
    if found.session.org != orgs.HUB_CODE:
        raise PageRefused("These pages are for the hub operator's admins.")
    return found


def check_csrf(request: Request, sent: str | None) -> None:
    """The form's token must equal this session's (signed in or half-way)."""
    session = request.state.web_user.session if request.state.web_user else request.state.pending
    if session is None or not sent or not secrets.compare_digest(session.csrf, sent):
        raise CsrfRefused()


def csrf_token(request: Request) -> str:
    session = request.state.web_user.session if request.state.web_user else request.state.pending
    return session.csrf if session else ""


def set_cookie(request: Request, response: object, token: str, max_age: int) -> None:
    """HttpOnly, SameSite=Strict, Secure whenever the request came over TLS."""
    secure = request.url.scheme == "https" or request.headers.get(
        "x-forwarded-proto", "") == "https"
    response.set_cookie(COOKIE, token, max_age=max_age, httponly=True,  # type: ignore[attr-defined]
                        samesite="strict", secure=secure, path="/")
