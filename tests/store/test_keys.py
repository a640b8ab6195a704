"""API keys: shown once, stored hashed, revocable, expiring, last use recorded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select, update

from bayanihan.errors import InvalidInput, NotFound
from bayanihan.hub import Hub
from bayanihan.store import audit, keys
from bayanihan.store.schema import api_keys
from tests.conftest import RunningHub, seed

console = audit.Actor.console()


def test_only_a_hash_of_the_key_is_stored(hub: Hub) -> None:
    seed(hub)
    key, info = hub.db.write_sync(keys.create, console, "TH", keys.Role.ANALYST)
    secret = key.split("_", 2)[2]
    assert len(secret) >= 43  # 32 random bytes in base64url: 256 bits
    rows = hub.db.read_sync(lambda c: [dict(r._mapping) for r in c.execute(select(api_keys))])
    assert all(key not in str(r) and secret not in str(r) for r in rows)
    assert hub.db.read_sync(keys.lookup, key).key_id == info.key_id


def test_a_revoked_key_stops_working(make_hub: Callable[..., RunningHub]) -> None:
    running = make_hub()
    client = running.client("TH")
    assert client.post("/api/v1/objects", json={"type": "bundle", "objects": []}).status_code == 200
    key_id = running.hub.db.read_sync(keys.list_keys, "TH")[0].key_id
    running.hub.db.write_sync(keys.revoke, console, key_id)
    r = client.get("/api/v1/objects/indicator--x")
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_an_expired_key_stops_working(make_hub: Callable[..., RunningHub]) -> None:
    running = make_hub()
    client = running.client("VN")
    running.hub.db.write_sync(lambda c: c.execute(
        update(api_keys).where(api_keys.c.org == "VN").values(expires_us=1)))
    assert client.get("/api/v1/objects/indicator--x").status_code == 401


def test_last_use_is_recorded(make_hub: Callable[..., RunningHub]) -> None:
    running = make_hub()
    running.client("SG").get("/api/v1/objects/indicator--x")
    (info,) = running.hub.db.read_sync(keys.list_keys, "SG")
    assert info.last_used_us is not None


def test_keys_for_unknown_organisations_or_bad_expiry_are_refused(hub: Hub) -> None:
    with pytest.raises(NotFound):
        hub.db.write_sync(keys.create, console, "XX", keys.Role.READER)
    seed(hub)
    with pytest.raises(InvalidInput):
        hub.db.write_sync(keys.create, console, "TH", keys.Role.READER, -1)
