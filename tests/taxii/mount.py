"""TEMPORARY (until bayanihan/api/app.py includes the TAXII router): mount it in test servers.

Loaded by tests/taxii/conftest.py; ``pytest -p tests.taxii.mount`` applies it to other tests
(the policy matrix). Does nothing once app.py mounts ``/taxii2`` itself.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

import tests.conftest as root
from bayanihan.api.taxii import router

_original = root.create_app


def _with_taxii(*args: Any, **kwargs: Any) -> FastAPI:
    app = _original(*args, **kwargs)
    if not any(getattr(r, "path", "").startswith("/taxii2") for r in app.routes):
        app.include_router(router)
    return app


root.create_app = _with_taxii  # type: ignore[assignment]
