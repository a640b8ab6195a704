"""Real releases nobody here wrote (../shared/data): MITRE ATT&CK Enterprise (STIX 2.0),
Mobile 17.1 (STIX 2.1, its marking-definition and identity last) and ATLAS 5.6.0."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from bayanihan.hub import Hub
from bayanihan.store.schema import stix_objects
from tests.taxii.conftest import second_database_url  # noqa: F401  (a fixture)

ENTERPRISE = "attack/enterprise-attack-stix20.json.gz"
MOBILE = "attack/mobile-attack-17.1.json.gz"
ATLAS = "atlas/stix-atlas.json"


def read(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    objects: list[dict[str, Any]] = orjson.loads(raw)["objects"]
    return objects


@pytest.fixture(scope="session")
def mobile_path(shared_data: Path) -> Path:
    return shared_data / MOBILE


@pytest.fixture(scope="session")
def enterprise_path(shared_data: Path) -> Path:
    return shared_data / ENTERPRISE


@pytest.fixture(scope="session")
def mobile(mobile_path: Path) -> list[dict[str, Any]]:
    return read(mobile_path)


@pytest.fixture(scope="session")
def enterprise(enterprise_path: Path) -> list[dict[str, Any]]:
    return read(enterprise_path)


@pytest.fixture(scope="session")
def atlas(shared_data: Path) -> list[dict[str, Any]]:
    return read(shared_data / ATLAS)


def key(obj: dict[str, Any]) -> str:
    return f"{obj['id']}@{obj.get('modified') or obj.get('created')}"


def stored(hub: Hub) -> dict[str, str]:
    """(id@version) -> the stored body, of every object version in the hub."""
    t = stix_objects.c
    rows = hub.db.read_sync(lambda conn: list(conn.execute(select(t.id, t.version, t.body))))
    return {f"{r.id}@{r.version}": r.body for r in rows}


def compact(obj: dict[str, Any]) -> str:
    """The object's JSON as sent, without the file's white space (key order kept)."""
    return orjson.dumps(obj).decode()
