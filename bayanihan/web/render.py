"""Templates (Jinja2, autoescaped) and the TLP 2.0 words and colours every page shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bayanihan import __version__
from bayanihan.model.tlp import TLP
from bayanihan.web.session import csrf_token

HERE = Path(__file__).parent

#: TLP 2.0 (FIRST): label, the one-line meaning, and the colours FIRST specifies
#: (text on black). The label and meaning are always written out: never colour alone.
TLP_INFO: dict[str, dict[str, str]] = {
    TLP.CLEAR.value: {"label": "TLP:CLEAR", "fg": "#FFFFFF",
                      "meaning": "Anyone may see it: no limit on disclosure."},
    TLP.GREEN.value: {"label": "TLP:GREEN", "fg": "#33FF00",
                      "meaning": "Every organisation of the hub's community, not the public."},
    TLP.AMBER.value: {"label": "TLP:AMBER", "fg": "#FFC000",
                      "meaning": "The audience's organisations and their own clients, "
                                 "on a need-to-know basis."},
    TLP.AMBER_STRICT.value: {"label": "TLP:AMBER+STRICT", "fg": "#FFC000",
                             "meaning": "Only the audience's organisations themselves: "
                                        "no clients, no one further."},
    TLP.RED.value: {"label": "TLP:RED", "fg": "#FF2B2B",
                    "meaning": "Only the named recipients, for their eyes only."},
}

env = Environment(loader=FileSystemLoader(HERE / "templates"),
                  autoescape=select_autoescape(["html", "svg"]), trim_blocks=True,
                  lstrip_blocks=True)
env.globals["TLP_INFO"] = TLP_INFO
env.globals["version"] = __version__


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    user = getattr(request.state, "web_user", None)
    html = env.get_template(template).render(
        request=request, user=user.session if user else None, csrf=csrf_token(request),
        kind=user.caller.reader.kind.value if user and user.caller.reader.kind else None,
        path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers={
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                   "style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
                                   "form-action 'self'; base-uri 'none'",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})
