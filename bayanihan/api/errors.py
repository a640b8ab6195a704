"""Errors become responses here and nowhere else.

JSON API routes answer ``{"error", "detail", "fields"}``; TAXII routes answer the TAXII
error body with the TAXII media type. Unexpected exceptions are logged and answered
500 without their message (it may hold data the caller should not see).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bayanihan.errors import BayanihanError

log = logging.getLogger("bayanihan.api")

TAXII_MEDIA = "application/taxii+json;version=2.1"
TAXII_PREFIX = "/taxii2"

_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict",
           413: "Payload Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
           500: "Internal Server Error"}


def error_response(path: str, status: int, error: str, detail: str, fields: list[str],
                   headers: dict[str, str] | None = None) -> Response:
    headers = dict(headers or {})
    if status == 401:
        # Basic only where TAXII clients need it: a browser that met Basic elsewhere would
        # cache the credentials and send them with any cross-site form to the hub.
        headers.setdefault("WWW-Authenticate", 'Bearer realm="bayanihan", Basic realm="bayanihan"'
                           if path.startswith(TAXII_PREFIX) else 'Bearer realm="bayanihan"')
    if path.startswith(TAXII_PREFIX):
        body: dict[str, object] = {"title": _TITLES.get(status, error), "description": detail,
                                   "http_status": str(status), "error_code": error}
        if fields:
            body["details"] = {"fields": fields}
        return JSONResponse(body, status_code=status, headers=headers, media_type=TAXII_MEDIA)
    return JSONResponse({"error": error, "detail": detail, "fields": fields},
                        status_code=status, headers=headers)


def _loc(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or (str(loc[0]) if loc else "")


def install(app: FastAPI) -> None:
    @app.exception_handler(BayanihanError)
    async def _bayanihan(request: Request, exc: BayanihanError) -> Response:
        return error_response(request.url.path, exc.status, exc.error, exc.detail, exc.fields)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        fields = [_loc(tuple(e.get("loc", ()))) for e in errors]
        detail = "; ".join(f"{f}: {e.get('msg', 'invalid')}" for f, e in zip(fields, errors, strict=True))
        return error_response(request.url.path, 400, "invalid-input", detail, fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        error = _TITLES.get(exc.status_code, "error").lower().replace(" ", "-")
        return error_response(request.url.path, exc.status_code, error, str(exc.detail), [],
                              dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(request.url.path, 500, "internal-error",
                              "the hub failed to handle this request; it has been logged", [])
