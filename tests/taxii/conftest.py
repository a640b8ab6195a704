"""TAXII test helpers: TAXII headers, collection URLs, a seeded hub with objects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from bayanihan.share.collections import BY_ID
from tests.conftest import PostgresDatabases

TAXII = "application/taxii+json;version=2.1"
REGIONAL = BY_ID["regional"].id
PUBLIC = BY_ID["public"].id
ALERTS = BY_ID["alerts"].id


def objects_url(collection: str = REGIONAL) -> str:
    return f"/taxii2/api/collections/{collection}/objects/"


def taxii_client(base: httpx.Client) -> httpx.Client:
    """The same client, sending the TAXII Accept header on every request."""
    base.headers["Accept"] = TAXII
    return base


def envelope(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"objects": list(objects)}


@pytest.fixture
def second_database_url(database_url: str, tmp_path: Path,
                        postgres: PostgresDatabases | None) -> Iterator[str]:
    """Another empty database on the same backend, for a second hub."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second-hub.db'}"
        return
    assert postgres is not None
    name, url = postgres.create()
    yield url
    postgres.drop(name)


def post_envelope(client: httpx.Client, *objects: dict[str, Any], collection: str = REGIONAL,
                  **params: str) -> httpx.Response:
    return client.post(objects_url(collection), content=orjson.dumps(envelope(*objects)),
                       headers={"Content-Type": TAXII, "Accept": TAXII}, params=params)
