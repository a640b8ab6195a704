"""Poisoning defences: one compromised member key must not make the region block a bank,
a government portal or a popular site.

* **Protected values.** A domain on the built-in list (``protected_values.toml``: each member
  state's government namespace, well-known sites, the region's banks) or on the operator's
  own (:func:`protect`), and every name under it, is *held*: it stays out of exports, check
  answers and alert links (they all read :func:`bayanihan.correlate.value_rows.rows`) until
  a second organisation has confirmed it (reported the same value, or sighted an indicator
  naming it as "seen") **and** a hub admin approves it (:func:`approve`). The same holds
  for e-mail addresses at those domains and for URLs that are the site itself (no path).
* **Quarantine.** :func:`quarantine` revokes a key and pulls every indicator version it
  submitted out of exports and check answers at once, and its reports out of campaigns
  (:mod:`.guard_links`: their links are set aside, the campaigns recomputed); nothing is
  deleted: the versions and links stay for the record, and :func:`release` puts them back.
* **Volume.** Writes are rate-limited per key (``bayanihan/api/ratelimit.py``); a key that
  hits the limit is flagged to the operator in the audit log (``key.throttled``).

Every held value can be traced to its indicators, their authors and submitting keys
(:func:`held`), which is what ``bayanihan guard held`` shows.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import Connection, delete, select

from bayanihan.correlate import guard_links
from bayanihan.correlate.links import LinkRules, load_rules
from bayanihan.correlate.tables_campaigns import indicator_sighting
from bayanihan.correlate.tables_guard import guard_approval, key_quarantine, protected_value
from bayanihan.correlate.tables_values import indicator_value
from bayanihan.errors import Conflict, InvalidInput
from bayanihan.model.stix import now_us
from bayanihan.share.policy import Reader
from bayanihan.store import audit, keys
from bayanihan.store.schema import stix_objects

__all__ = ["Guard", "approve", "held", "protect", "protected_host", "quarantine", "release"]

#: kinds whose value names a host that protection applies to
_HOST_KINDS = ("domain", "email", "url")


@lru_cache(maxsize=1)
def builtin() -> frozenset[str]:
    text = resources.files("bayanihan.correlate").joinpath("protected_values.toml").read_text()
    return frozenset(v.lower() for group in tomllib.loads(text).get("domain", {}).values()
                     for v in group)


def _host(kind: str, value: str) -> str | None:
    """The host a value would block, when blocking it blocks a whole site or mailbox."""
    if kind == "domain":
        return value.lower().rstrip(".")
    if kind == "email":
        return value.rpartition("@")[2].lower() or None
    if kind == "url":
        parts = urlsplit(value)
        if parts.path in ("", "/") and not parts.query:
            return (parts.hostname or "").lower() or None
    return None


def protected_host(host: str, extra: Collection[str] = ()) -> str | None:
    """The protected domain ``host`` is, or sits under; None when it is not protected."""
    names = builtin()  # not copied into one set with ``extra``: this runs for every value read
    labels = host.split(".")
    for i in range(len(labels)):
        candidate = ".".join(labels[i:])
        if candidate in names or candidate in extra:
            return candidate
    return None


@dataclass
class Guard:
    """What :func:`value_rows.rows` needs to hold values back, loaded once per read: three
    small tables, whatever the size of the hub (a quarantined key's versions are recognised
    by their ``submitted_key``, read with each row, never listed), and, loaded for one
    reader, the values its own organisation flagged as false positives (``flagged``)."""

    quarantined_keys: set[str] = field(default_factory=set)  # key_quarantine.key_id
    extra: set[str] = field(default_factory=set)
    approved: set[tuple[str, str]] = field(default_factory=set)
    flagged: set[tuple[str, str]] = field(default_factory=set)  # (kind, value)

    @classmethod
    def load(cls, conn: Connection, reader: Reader | None = None) -> Guard:
        guard = cls(set(conn.execute(select(key_quarantine.c.key_id)).scalars()),
                    set(conn.execute(select(protected_value.c.value)).scalars()),
                    {(k, v) for k, v in conn.execute(
                        select(guard_approval.c.kind, guard_approval.c.value))})
        if reader is not None and reader.org:
            guard.flagged = flagged_values(conn, reader.org, guard.quarantined_keys)
        return guard

    def is_held(self, kind: str, value: str) -> bool:
        if kind not in _HOST_KINDS or (kind, value) in self.approved:
            return False
        host = _host(kind, value)
        return host is not None and protected_host(host, self.extra) is not None

    def holds(self, row: Any) -> bool:
        """True when an index row (submitted_key, kind, value) must not go out."""
        return (row.submitted_key in self.quarantined_keys or self.is_held(row.kind, row.value)
                or (row.kind, row.value) in self.flagged)

    def value_test(self, kind: str) -> Callable[[str], bool] | None:
        """``is_held`` for one kind as a fast predicate (None: nothing of ``kind`` is held):
        a domain's suffixes at label boundaries looked up directly (no split and join), for
        exports of a million values."""
        if kind not in _HOST_KINDS:
            return None
        if kind != "domain":
            return lambda value: self.is_held(kind, value)
        names = builtin() | self.extra
        singles = {n for n in names if "." not in n}
        pairs = {".".join(n.split(".")[-2:]) for n in names if "." in n}  # last two labels
        approved = {v for k, v in self.approved if k == kind}

        def held(value: str) -> bool:
            host = value if value.islower() and not value.endswith(".") \
                else value.lower().rstrip(".")
            last = host.rfind(".")
            if last < 0:
                return host in singles and value not in approved
            if singles and host[last + 1:] in singles:
                return value not in approved
            # a protected name under which host sits ends in host's last two labels
            if host[host.rfind(".", 0, last) + 1:] not in pairs:
                return False
            return protected_host(host, self.extra) is not None and value not in approved
        return held


def flagged_values(conn: Connection, org: str,
                   quarantined_keys: Collection[str] = ()) -> set[tuple[str, str]]:
    """(kind, value) of every value ``org`` flagged as a false positive through a sighting
    (of whichever indicator, by whoever reported it), but through a quarantined key: the
    values the flagged indicators name (their indexed versions). One statement."""
    return {(kind, value) for kind, value, key in conn.execute(
        select(indicator_value.c.kind, indicator_value.c.value, stix_objects.c.submitted_key)
        .select_from(indicator_sighting)
        .join(stix_objects, stix_objects.c.pk == indicator_sighting.c.object_pk)
        .join(indicator_value, indicator_value.c.indicator_id == indicator_sighting.c.indicator_id)
        .where(indicator_sighting.c.org == org,
               indicator_sighting.c.verdict == "false-positive"))
        if key not in quarantined_keys}


def _naming(conn: Connection, kind: str, value: str) -> list[Any]:
    """Latest, unrevoked indicator versions naming the value, with author and key."""
    return conn.execute(
        select(stix_objects.c.pk, stix_objects.c.id, stix_objects.c.author_org,
               stix_objects.c.submitted_key)
        .join(indicator_value, indicator_value.c.object_pk == stix_objects.c.pk)
        .where(indicator_value.c.kind == kind, indicator_value.c.value == value,
               stix_objects.c.is_latest.is_(True), stix_objects.c.revoked.is_(False))
        .order_by(stix_objects.c.pk)).all()


def confirmations(conn: Connection, kind: str, value: str) -> set[str]:
    """Organisations that reported or sighted ("seen") the value through a key that is not
    quarantined."""
    out_keys = set(conn.execute(select(key_quarantine.c.key_id)).scalars())
    rows = [r for r in _naming(conn, kind, value) if r.submitted_key not in out_keys]
    orgs = {r.author_org for r in rows if r.author_org}
    if rows:
        orgs |= set(conn.execute(select(indicator_sighting.c.org).where(
            indicator_sighting.c.indicator_id.in_({r.id for r in rows}),
            indicator_sighting.c.verdict != "false-positive")).scalars())
    return orgs


def held(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    """Protected values someone reported that are held, each with who reported it (the
    operator's queue)."""
    guard = Guard.load(conn)
    out: list[dict[str, Any]] = []
    for kind, value in conn.execute(select(indicator_value.c.kind, indicator_value.c.value)
                                    .where(indicator_value.c.kind.in_(_HOST_KINDS)).distinct()
                                    .order_by(indicator_value.c.kind, indicator_value.c.value)):
        if len(out) >= limit or not guard.is_held(kind, value):
            continue
        naming = _naming(conn, kind, value)
        if naming:
            out.append({"kind": kind, "value": value,
                        "confirmed_by": sorted(confirmations(conn, kind, value)),
                        "indicators": [{"id": r.id, "org": r.author_org, "key": r.submitted_key}
                                       for r in naming]})
    return out


def approve(conn: Connection, actor: audit.Actor, kind: str, value: str) -> list[str]:
    """Release a held value; refused (409) until two organisations confirm it."""
    confirmed = sorted(confirmations(conn, kind, value))
    if len(confirmed) < 2:
        raise Conflict(f"{value} is confirmed by {', '.join(confirmed) or 'no one'}: a second "
                       "organisation must report or sight it first", ["value"])
    conn.execute(delete(guard_approval).where(guard_approval.c.kind == kind,
                                              guard_approval.c.value == value))
    conn.execute(guard_approval.insert().values(
        kind=kind, value=value, confirmed_by=orjson.dumps(confirmed).decode(),
        by_org=actor.org, by_key=actor.key_id, at_us=now_us()))
    audit.record(conn, actor, "guard.approve", [], {"kind": kind, "value": value,
                                                    "confirmed_by": confirmed})
    return confirmed


def protect(conn: Connection, actor: audit.Actor, domain: str) -> str:
    name = domain.strip().lower().rstrip(".")
    if not name or "." not in name or any(c in name for c in "/@: "):
        raise InvalidInput(f"{domain!r}: a domain such as bank.example.com", ["value"])
    name = name.encode("idna").decode() if not name.isascii() else name
    conn.execute(delete(protected_value).where(protected_value.c.value == name))
    conn.execute(protected_value.insert().values(value=name, by_org=actor.org, at_us=now_us()))
    audit.record(conn, actor, "guard.protect", [], {"value": name})
    return name


def quarantine(conn: Connection, actor: audit.Actor, key_id: str, reason: str,
               rules: LinkRules | None = None) -> int:
    """Revoke ``key_id`` and pull what it submitted out of exports, check answers and
    campaigns (``rules``: the hub's link rules); returns how many object versions are held
    back."""
    info = keys.revoke(conn, actor, key_id)
    conn.execute(delete(key_quarantine).where(key_quarantine.c.key_id == key_id))
    conn.execute(key_quarantine.insert().values(key_id=key_id, org=info.org, reason=reason,
                                                by_org=actor.org, at_us=now_us()))
    count = len(conn.execute(select(stix_objects.c.pk).where(
        stix_objects.c.submitted_key == key_id)).all())
    reports = guard_links.pull(conn, key_id, rules or load_rules())
    audit.record(conn, actor, "key.quarantine", [], {"key_id": key_id, "org": info.org,
                                                     "reason": reason, "versions": count,
                                                     "reports_out_of_campaigns": reports})
    return count


def release(conn: Connection, actor: audit.Actor, key_id: str,
            rules: LinkRules | None = None) -> None:
    """Put a quarantined key's contributions back (the key stays revoked): its values in
    exports and check answers, its reports' links and campaigns."""
    gone = conn.execute(delete(key_quarantine).where(key_quarantine.c.key_id == key_id))
    if not gone.rowcount:
        raise InvalidInput(f"key {key_id!r} is not quarantined", ["key_id"])
    links = guard_links.restore(conn, key_id, rules or load_rules())
    audit.record(conn, actor, "key.release", [], {"key_id": key_id, "links_back": links})
