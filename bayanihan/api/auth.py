"""Who is calling: ``Authorization: Bearer KEY``, ``Token KEY`` (taxii2-client) or HTTP
Basic with the key as password. The key never appears in logs or errors."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from bayanihan.errors import Forbidden, NotAuthenticated
from bayanihan.hub import Caller, Hub


def key_from_header(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, credentials = value.strip().partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme in ("bearer", "token") and credentials:
        return credentials
    if scheme == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise NotAuthenticated("malformed HTTP Basic credentials", ["Authorization"]) from None
        _user, sep, password = decoded.partition(":")
        if sep and password:
            return password
    raise NotAuthenticated("use Authorization: Bearer KEY (or Basic with the key as password)",
                           ["Authorization"])


def hub_of(request: Request) -> Hub:
    return request.app.state.hub  # type: ignore[no-any-return]


async def caller(request: Request) -> Caller:
    """The caller, or the anonymous public reader when no key is given."""
    cached = getattr(request.state, "caller", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    found = await hub_of(request).authenticate(key_from_header(request.headers.get("authorization")))
    request.state.caller = found
    return found


async def member(request: Request) -> Caller:
    """An authenticated caller (any role)."""
    found = await caller(request)
    if found.reader.org is None:
        raise NotAuthenticated("an API key is required", ["Authorization"])
    return found


async def writer(request: Request) -> Caller:
    found = await member(request)
    if not found.can_write:
        raise Forbidden("this key may only read (role reader)", ["Authorization"])
    return found


async def admin(request: Request) -> Caller:
    found = await member(request)
    if not found.is_admin:
        raise Forbidden("an admin key is required", ["Authorization"])
    return found
