"""API keys: 256-bit random secrets shown once; only their SHA-256 is stored.

A key looks like ``bh_<key id>_<secret>``; the key id is public (it names the key in
listings and in the audit log), the secret is 32 random bytes in base64url.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, select, text, update

from bayanihan.errors import InvalidInput, NotFound
from bayanihan.model.stix import now_us
from bayanihan.store import audit
from bayanihan.store.events import append_events
from bayanihan.store.organisations import require
from bayanihan.store.schema import api_keys

DAY_US = 86_400 * 1_000_000
#: the event announcing a revocation to every process (internal: no subscriber receives it)
KEY_REVOKED = "key.revoked"


class Role(StrEnum):
    ADMIN = "admin"  # manages the hub; reads no more than its organisation may
    ANALYST = "analyst"  # reads and writes for its organisation
    READER = "reader"  # reads only


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    org: str
    role: Role
    created_us: int
    expires_us: int | None
    revoked_us: int | None
    last_used_us: int | None
    label: str | None

    def active(self, at_us: int) -> bool:
        return self.revoked_us is None and (self.expires_us is None or self.expires_us > at_us)


def hash_secret(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _info(row: object) -> KeyInfo:
    m = row._mapping  # type: ignore[attr-defined]
    return KeyInfo(m["key_id"], m["org"], Role(m["role"]), m["created_us"], m["expires_us"],
                   m["revoked_us"], m["last_used_us"], m["label"])


def create(
    conn: Connection,
    actor: audit.Actor,
    org: str,
    role: Role,
    expires_days: float | None = None,
    label: str | None = None,
) -> tuple[str, KeyInfo]:
    """A new key for ``org``; returns (the key, shown once; its info)."""
    require(conn, org)
    if expires_days is not None and expires_days <= 0:
        raise InvalidInput("--expires must be a positive number of days", ["expires"])
    key_id = secrets.token_hex(6)
    key = f"bh_{key_id}_{secrets.token_urlsafe(32)}"
    created = now_us()
    expires = created + int(expires_days * DAY_US) if expires_days else None
    conn.execute(api_keys.insert().values(
        key_id=key_id, org=org, role=role.value, key_hash=hash_secret(key), label=label,
        created_us=created, expires_us=expires,
    ))
    audit.record(conn, actor, "key.create", [],
                 {"key_id": key_id, "org": org, "role": role.value, "expires_us": expires})
    return key, KeyInfo(key_id, org, role, created, expires, None, None, label)


def lookup(conn: Connection, key: str) -> KeyInfo | None:
    """The key's info when ``key`` is one we issued (active or not)."""
    if not key.startswith("bh_") or len(key) > 200:
        return None
    digest = hash_secret(key)
    row = conn.execute(select(api_keys).where(api_keys.c.key_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return _info(row)


def touch(conn: Connection, key_id: str, at_us: int) -> None:
    conn.execute(update(api_keys).where(api_keys.c.key_id == key_id).values(last_used_us=at_us))


def list_keys(conn: Connection, org: str | None = None) -> list[KeyInfo]:
    query = select(api_keys).order_by(api_keys.c.org, api_keys.c.created_us)
    if org:
        query = query.where(api_keys.c.org == org)
    return [_info(r) for r in conn.execute(query)]


def revoke(conn: Connection, actor: audit.Actor, key_id: str) -> KeyInfo:
    row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
    if row is None:
        raise NotFound(f"no key {key_id!r}", ["key_id"])
    if row.revoked_us is None:
        conn.execute(update(api_keys).where(api_keys.c.key_id == key_id)
                     .values(revoked_us=now_us()))
        audit.record(conn, actor, "key.revoke", [], {"key_id": key_id, "org": row.org})
        # in the same transaction, so every process's stream reader ends the key's open
        # streams as soon as it reads the log (share/stream.py: never sent to anyone)
        append_events(conn, [{"kind": KEY_REVOKED, "tlp": "red", "audience": [],
                              "payload": {"key_id": key_id}}])
        if conn.dialect.name == "postgresql":  # wake every server's reader at commit, even
            # when the revoking process (the command line) listens to nothing itself;
            # the channel of share/notify.py (CHANNEL)
            conn.execute(text("SELECT pg_notify('bayanihan_events', '')"))
    return _info(conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).one())
