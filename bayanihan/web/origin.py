"""Refuse cross-site form posts: an unsafe method with a content type an HTML form (or a
simple cross-origin request) can send, carrying an ``Origin`` that is not the hub's own.

A browser adds ``Origin`` to every cross-site POST; API clients (curl, taxii2-client,
PyMISP) send none, or JSON, and are not affected. Web forms also carry CSRF tokens and a
SameSite=Strict cookie; this is the API's line, since the API never sees cookies.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _own_origin(scope: Scope, headers: Headers) -> set[str]:
    host = headers.get("host", "")
    schemes = {scope.get("scheme", "http"), headers.get("x-forwarded-proto", "")} - {""}
    return {f"{s}://{host}" for s in schemes}


class RefuseForeignForms:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE:
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if origin and kind in FORM_TYPES and origin not in _own_origin(scope, headers):
                response = JSONResponse(
                    {"error": "forbidden", "fields": ["Origin"],
                     "detail": "a form from another site may not write to this hub"},
                    status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
