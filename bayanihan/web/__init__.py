"""The hub's web pages: server-rendered (Jinja2), a little plain JavaScript, every asset
served by the hub itself. ``install(app)`` adds them to the API application."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bayanihan.web import admin, campaign, cooperation, docs, pages, report_form, sandbox, signin
from bayanihan.web.origin import RefuseForeignForms
from bayanihan.web.render import HERE, page
from bayanihan.web.session import CsrfRefused, PageRefused, SignInRequired, session_caller


def install(app: FastAPI) -> None:
    docs.install(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="web-static")
    router = APIRouter(dependencies=[Depends(session_caller)], tags=["web"])
    for module in (signin, pages, report_form, campaign, cooperation, sandbox, admin):
        router.include_router(module.router)
    app.include_router(router)
    app.add_middleware(RefuseForeignForms)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse("/signin", 303)

    @app.exception_handler(PageRefused)
    async def _refused(request: Request, exc: PageRefused) -> Response:
        return page(request, "message.html", 403, title="Not for this account",
                    message=exc.reason)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        return page(request, "message.html", 403, title="Refused",
                    message="This form was not sent from a page of this hub in your current "
                            "session (missing or wrong CSRF token). Reload the page and try "
                            "again.")
