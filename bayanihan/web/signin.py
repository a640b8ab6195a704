"""Sign-in (password, then a TOTP code for analysts and admins), enrolment by QR code,
sign-out. Every attempt is audited by ``store/users.py``."""

from __future__ import annotations

import secrets
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import Connection

from bayanihan.api.access import PUBLIC
from bayanihan.store import users
from bayanihan.web.render import page
from bayanihan.web.session import COOKIE, CsrfRefused, check_csrf, set_cookie

router = APIRouter()
LOGIN_CSRF = "bayanihan_login"


def _login_form(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(24)
    response = page(request, "signin.html", status, login_csrf=token, error=error)
    response.set_cookie(LOGIN_CSRF, token, max_age=3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/signin")
    return response


@router.get("/signin", summary="Sign-in page", include_in_schema=False,
             dependencies=[Depends(PUBLIC.declare)])
async def signin_page(request: Request) -> Response:
    if request.state.web_user is not None:
        return RedirectResponse("/", 303)
    return _login_form(request)


@router.post("/signin", summary="Check a password", include_in_schema=False,
             dependencies=[Depends(PUBLIC.declare)])
async def signin(request: Request, username: Annotated[str, Form(max_length=64)],
                 password: Annotated[str, Form(max_length=1024)],
                 csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    expected = request.cookies.get(LOGIN_CSRF)
    if not expected or not secrets.compare_digest(expected, csrf):
        raise CsrfRefused()
    hub = request.app.state.hub

    def attempt(conn: Connection) -> tuple[str | None, str | None, bool]:
        user, why = users.check_password(conn, username, password)
        if user is None:
            return None, why, False
        full = not user.needs_second_factor
        return users.start_session(conn, user, full), None, full

    token, why, full = await hub.db.write(attempt)
    if token is None:
        return _login_form(request, why, 401)
    response = RedirectResponse("/" if full else "/signin/second-factor", 303)
    set_cookie(request, response, token, users.SESSION_HOURS * 3600)
    return response


def qr_svg(uri: str) -> Markup:
    """The enrolment QR code as inline SVG, drawn here (no image service, no network)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff",
                                                title="QR code for your authenticator app")
    return Markup(svg)  # segno escapes the URI it draws


async def _second_factor_page(request: Request, error: str | None = None,
                              status: int = 200) -> Response:
    pending = request.state.pending
    if pending is None:
        return RedirectResponse("/" if request.state.web_user else "/signin", 303)
    enrol = None
    if not pending.totp_enrolled:
        uri = await request.app.state.hub.db.read(users.totp_uri, pending.username)
        secret = uri.split("secret=", 1)[1].split("&", 1)[0]
        enrol = {"svg": qr_svg(uri), "secret": secret}
    return page(request, "second_factor.html", status, enrol=enrol, error=error,
                pending=pending)


@router.get("/signin/second-factor", summary="TOTP code page", include_in_schema=False,
             dependencies=[Depends(PUBLIC.declare)])
async def second_factor_page(request: Request) -> Response:
    return await _second_factor_page(request)


@router.post("/signin/second-factor", summary="Check a TOTP code", include_in_schema=False,
             dependencies=[Depends(PUBLIC.declare)])
async def second_factor(request: Request, code: Annotated[str, Form(max_length=20)],
                        csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    pending = request.state.pending
    if pending is None:
        return RedirectResponse("/" if request.state.web_user else "/signin", 303)
    check_csrf(request, csrf)
    token = request.cookies[COOKIE]

    def attempt(conn: Connection) -> str | None:
        if not users.check_totp(conn, pending.username, code):
            return None
        return users.complete_session(conn, token)

    new = await request.app.state.hub.db.write(attempt)
    if new is None:
        return await _second_factor_page(request, "that code is not right (or was used "
                                                  "already, or the account is locked)", 401)
    response = RedirectResponse("/", 303)
    set_cookie(request, response, new, users.SESSION_HOURS * 3600)
    return response


@router.post("/signout", summary="Sign out", include_in_schema=False,
             dependencies=[Depends(PUBLIC.declare)])
async def signout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    check_csrf(request, csrf)
    await request.app.state.hub.db.write(users.sign_out, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/signin", 303)
    response.delete_cookie(COOKIE, path="/")
    return response
