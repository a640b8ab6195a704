"""``/taxii2/api/collections/``: the collections, described for the requester."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bayanihan.api.access import READ
from bayanihan.api.taxii.media import taxii_response
from bayanihan.errors import Forbidden, NotAuthenticated, NotFound
from bayanihan.hub import Caller
from bayanihan.share.collections import BY_ID, Collection, listed

router = APIRouter()


def collection_for(collection_id: str, who: Caller, *, write: bool = False) -> Collection:
    """The collection, or 404/401/403 as the specification says."""
    found = BY_ID.get(collection_id)
    if found is None:
        raise NotFound(f"no collection {collection_id!r} on this API root", ["collection_id"])
    if not found.can_read(who.reader) and not write:
        if not who.reader.authenticated:
            raise NotAuthenticated(f"collection {found.alias} needs an API key", ["Authorization"])
        raise Forbidden(f"your key may not read collection {found.alias}", ["collection_id"])
    if write and not found.can_write(who.reader, who.can_write):
        if not who.reader.authenticated:
            raise NotAuthenticated("adding objects needs an API key", ["Authorization"])
        why = ("this collection is read-only" if not found.writable
               else "your key or organisation may not add objects here")
        raise Forbidden(f"cannot write to collection {found.alias}: {why}", ["collection_id"])
    return found


@router.get("/api/collections/", summary="TAXII: the collections you may read")
async def get_collections(who: Annotated[Caller, Depends(READ)]) -> Response:
    infos = [c.info(who.reader, who.can_write) for c in listed(who.reader)]
    return taxii_response(orjson.dumps({"collections": infos} if infos else {}))


@router.get("/api/collections/{collection_id}/", summary="TAXII: one collection")
async def get_collection(collection_id: str, request: Request,
                         who: Annotated[Caller, Depends(READ)]) -> Response:
    found = collection_for(collection_id, who)
    return taxii_response(orjson.dumps(found.info(who.reader, who.can_write)))
