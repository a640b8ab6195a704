"""TAXII 2.1 server: discovery at ``/taxii2/``, one API root ``/taxii2/api/``.

Mount with ``app.include_router(router)``. Every route checks ``Accept`` first (406);
errors are TAXII error bodies (``bayanihan/api/errors.py`` does that for ``/taxii2``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from bayanihan.api.taxii import collections, discovery, objects, status
from bayanihan.api.taxii.media import accepts_taxii

router = APIRouter(prefix="/taxii2", tags=["taxii"], dependencies=[Depends(accepts_taxii)])
for part in (discovery, collections, objects, status):
    router.include_router(part.router)

__all__ = ["router"]
