"""``/docs`` and ``/redoc`` from assets shipped with the hub (the ``fastapi-offline``
package's copies of Swagger UI and ReDoc): the API documentation works with no internet."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from bayanihan.api.access import PUBLIC

ASSETS = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/static/api-docs"
#: the pages may load nothing from elsewhere (ReDoc would fetch its logo from a CDN)
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
       "connect-src 'self'; frame-ancestors 'none'")


def _own_only(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = CSP
    return response


def install(app: FastAPI) -> None:
    """Needs ``FastAPI(docs_url=None, redoc_url=None)``: FastAPI's own pages use a CDN."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="api-docs-assets")
    title = f"{app.title} API"

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(PUBLIC.declare)])
    async def swagger(request: Request) -> HTMLResponse:
        return _own_only(get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=title,
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon.png"))

    @app.get("/redoc", include_in_schema=False, dependencies=[Depends(PUBLIC.declare)])
    async def redoc(request: Request) -> HTMLResponse:
        return _own_only(get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json", title=title,
            redoc_js_url=f"{PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{PREFIX}/favicon.png", with_google_fonts=False))
