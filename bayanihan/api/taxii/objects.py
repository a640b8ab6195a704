"""``…/collections/{id}/objects/``, ``…/objects/{object_id}/``, ``…/versions/``, ``…/manifest/``.

Pages are read by one index range scan and the envelope is spliced from the stored JSON
bodies (never parsed again). POST goes through the hub's one ingest path.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from bayanihan.api.access import READ, WRITE
from bayanihan.api.auth import hub_of
from bayanihan.api.objects import parse_audience
from bayanihan.api.taxii import filters
from bayanihan.api.taxii.collections import collection_for
from bayanihan.api.taxii.media import STIX_MEDIA, require_taxii_body, taxii_response
from bayanihan.api.taxii.paging import binding, make_token, read_token
from bayanihan.api.taxii.status import status_resource
from bayanihan.errors import Forbidden, InvalidInput, NotFound, Unprocessable
from bayanihan.hub import Caller
from bayanihan.model.stix import format_us, now_us
from bayanihan.share import collections as coll
from bayanihan.store.tables_taxii import make_paging_secret, save_status

router = APIRouter()
BASE = "/api/collections/{collection_id}"
Who = Annotated[Caller, Depends(READ)]


async def paging_secret(request: Request) -> bytes:
    secret = getattr(request.app.state, "taxii_secret", None)
    if secret is None:
        secret = (await hub_of(request).db.write(make_paging_secret)).encode()
        request.app.state.taxii_secret = secret
    return secret  # type: ignore[no-any-return]


async def _page(request: Request, who: Caller, collection_id: str, allowed: frozenset[str],
                columns: tuple[Any, ...], object_id: str | None = None,
                default_version: str = "last") -> tuple[list[Any], bool, str | None]:
    """Rows of one page, whether there is more, and the ``next`` token."""
    hub = hub_of(request)
    found = collection_for(collection_id, who)
    q = filters.parse(request, allowed, hub.settings.taxii_page_max)
    secret = await paging_secret(request)
    bound = binding(who.reader, request.url.path, q.params)
    after = read_token(secret, q.next, bound) if q.next else -1
    rows = await hub.db.read(coll.page, found, who.reader, q.filters, after, q.limit, columns,
                             object_id, default_version)
    if (object_id is not None and not rows and not q.next
            and not await hub.db.read(coll.exists_for, found, who.reader, object_id)):
        raise NotFound(f"no object {object_id} in collection {found.alias} that you may see",
                       ["object_id"])
    more = len(rows) > q.limit
    rows = rows[:q.limit]
    token = make_token(secret, rows[-1].date_added, bound) if more else None
    return rows, more, token


def _head(more: bool, token: str | None) -> bytes:
    head = b'{"more":true' if more else b'{"more":false'
    return head + (b',"next":"' + token.encode() + b'"' if token else b"")


def _date_headers(rows: Sequence[Any]) -> dict[str, str]:
    if not rows:
        return {}
    return {"X-TAXII-Date-Added-First": format_us(rows[0].date_added),
            "X-TAXII-Date-Added-Last": format_us(rows[-1].date_added)}


def _envelope(rows: Sequence[Any], more: bool, token: str | None) -> Response:
    body = _head(more, token)
    if rows:
        body += b',"objects":[' + ",".join([r.body for r in rows]).encode() + b"]"
    return taxii_response(body + b"}", headers=_date_headers(rows))


def _version(row: Any) -> str:
    return row.version or format_us(row.version_us)


@router.get(BASE + "/objects/", summary="TAXII: objects of a collection (paged)")
async def get_objects(collection_id: str, request: Request, who: Who) -> Response:
    rows, more, token = await _page(request, who, collection_id, filters.FOR_OBJECTS,
                                    coll.OBJECT_COLUMNS)
    return _envelope(rows, more, token)


@router.post(BASE + "/objects/", status_code=202, summary="TAXII: add objects (an envelope)")
async def add_objects(collection_id: str, request: Request,
                      who: Annotated[Caller, Depends(WRITE)],
                      audience: Annotated[str | None, Query(
                          description="AMBER audience or RED recipients, comma-separated "
                                      "organisation codes (as /api/v1/objects).")] = None,
                      ) -> Response:
    collection_for(collection_id, who, write=True)
    require_taxii_body(request)
    assert who.submitter is not None
    hub = hub_of(request)
    requested = format_us(now_us())
    raw = await request.body()
    try:
        result = await hub.ingest_bundle(raw, who.submitter, parse_audience(audience),
                                         envelope=True)
    except InvalidInput as exc:
        if exc.fields == ["body"]:
            raise
        raise Unprocessable(f"not a TAXII envelope: {exc.detail}", exc.fields) from None
    status_id = str(uuid.uuid4())
    body = orjson.dumps(status_resource(status_id, requested, result)).decode()
    await hub.db.write(save_status, status_id, who.submitter.org, body,
                       max(hub.settings.taxii_status_hours, 24))
    return taxii_response(body.encode(), 202)


@router.get(BASE + "/objects/{object_id}/", summary="TAXII: one object (latest version)")
async def get_object(collection_id: str, object_id: str, request: Request, who: Who) -> Response:
    rows, more, token = await _page(request, who, collection_id, filters.FOR_OBJECT,
                                    coll.OBJECT_COLUMNS, object_id)
    return _envelope(rows, more, token)


@router.delete(BASE + "/objects/{object_id}/", summary="TAXII: delete your own object")
async def delete_object(collection_id: str, object_id: str, request: Request,
                        who: Annotated[Caller, Depends(WRITE)]) -> Response:
    """Only the author organisation deletes (versions matching ``match[version]``, default all)."""
    found = collection_for(collection_id, who, write=True)
    hub = hub_of(request)
    q = filters.parse(request, filters.FOR_DELETE, hub.settings.taxii_page_max)
    if not await hub.db.read(coll.exists_for, found, who.reader, object_id):
        raise NotFound(f"no object {object_id} in collection {found.alias} that you may see",
                       ["object_id"])
    assert who.submitter is not None
    deleted = await hub.db.write(coll.delete_versions, found, who.reader, object_id,
                                 q.filters.versions, q.filters.spec_versions,
                                 who.submitter.actor)
    if not deleted:
        raise Forbidden(f"{object_id} has no matching version of your organisation's; only the "
                        "author organisation may delete an object", ["object_id"])
    return taxii_response(b"{}")


@router.get(BASE + "/objects/{object_id}/versions/", summary="TAXII: versions of an object")
async def get_versions(collection_id: str, object_id: str, request: Request, who: Who) -> Response:
    rows, more, token = await _page(request, who, collection_id, filters.FOR_VERSIONS,
                                    coll.VERSION_COLUMNS, object_id, default_version="all")
    body = orjson.dumps({"versions": [_version(r) for r in rows]}) if rows else b"{}"
    out = _head(more, token) + (b"," + body[1:] if rows else b"}")
    return taxii_response(out, headers=_date_headers(rows))


@router.get(BASE + "/manifest/", summary="TAXII: manifest of a collection (paged)")
async def get_manifest(collection_id: str, request: Request, who: Who) -> Response:
    rows, more, token = await _page(request, who, collection_id, filters.FOR_OBJECTS,
                                    coll.MANIFEST_COLUMNS)
    entries = [{"id": r.id, "date_added": format_us(r.date_added), "version": _version(r),
                "media_type": STIX_MEDIA} for r in rows]
    body = orjson.dumps({"objects": entries}) if rows else b"{}"
    out = _head(more, token) + (b"," + body[1:] if rows else b"}")
    return taxii_response(out, headers=_date_headers(rows))
