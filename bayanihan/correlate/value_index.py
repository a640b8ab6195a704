"""Keep the value index (exports, check API) up to date: read new indicator versions from
``stix_objects``.

The index catches up on demand (before an export or a check), reading the indicators added
since its mark (``date_added``), so ingest stays unaware of it. The host of a URL is indexed
as a domain too (a resolver or an SNI rule can block only the host), unless it is an IP or
on the warning list of common domains (shorteners, webmail, hosting platforms:
``common_values.toml``), where blocking the host would block everyone. Only equality comparisons
of patterns made of one comparison or of comparisons joined by ``OR`` are exported: a value
inside an ``AND`` matches only together with the rest, and blocking it alone would block
more than the author meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import Connection, delete, func, select, update

from bayanihan.correlate.links import load_rules
from bayanihan.correlate.tables_values import export_mark, indicator_report, indicator_value
from bayanihan.correlate.value_samples import reports_of, sample_digests
from bayanihan.model.extension import ai_properties
from bayanihan.model.skeleton import skeleton
from bayanihan.model.stix import parse_us
from bayanihan.store.bulk import insert_rows
from bayanihan.store.schema import stix_objects

__all__ = ["catch_up", "is_fresh", "values_of_pattern"]

_CHUNK = 2000
_COMPARISON = re.compile(
    r"([a-z0-9-]+):(value|hashes\.'?(?:SHA-256|TLSH)'?)\s*=\s*'((?:[^'\\]|\\.)*)'")
_KIND = {"domain-name": "domain", "url": "url", "ipv4-addr": "ip", "ipv6-addr": "ip",
         "bayanihan-phone-number": "phone", "email-addr": "email",
         "bayanihan-crypto-wallet": "wallet"}
_HEX = re.compile(r"[0-9a-fA-F]+")
_IPISH = re.compile(r"[0-9.]+")


def values_of_pattern(pattern: str) -> list[tuple[str, str]]:
    """(kind, value) of each exportable equality comparison in ``pattern``."""
    if re.search(r"\b(AND|FOLLOWEDBY|NOT|MATCHES|LIKE)\b", pattern):
        return []
    out: list[tuple[str, str]] = []
    for sco, path, raw in _COMPARISON.findall(pattern):
        value = raw.replace("\\'", "'").replace("\\\\", "\\")
        if path == "value":
            kind = _KIND.get(sco)
            if kind is None:
                continue
            out.append((kind, value.lower() if kind in ("domain", "email") else value))
        elif sco == "file" and "SHA-256" in path and _HEX.fullmatch(value) and len(value) == 64:
            out.append(("sha256", value.lower()))
        elif sco == "file" and "TLSH" in path and _HEX.fullmatch(value.removeprefix("T1")):
            out.append(("tlsh", "T1" + value.removeprefix("T1").upper()))
    return out


def _host_of(url: str) -> str | None:
    """The domain of ``url`` worth blocking by itself, else None."""
    host = urlsplit(url).hostname or ""
    if not host or _IPISH.fullmatch(host) or ":" in host:
        return None
    # imported here: the observables package (stix2, phonenumbers…) is heavy for a command
    # that only exports, and only new URLs reach this line
    from bayanihan.ingest.observables.domains import registered_domain

    rules = load_rules()
    if rules.is_common("domain", host) or rules.is_common("domain", registered_domain(host) or ""):
        return None
    return host


def _time(text: Any, default: int) -> int:
    try:
        return parse_us(text) if isinstance(text, str) else default
    except ValueError:
        return default


def _rows(pk: int, version_us: int, body: str) -> Iterator[tuple[Any, ...]]:
    ind = orjson.loads(body)
    props = ai_properties(ind) or {}
    vector = props.get("vector") if isinstance(props.get("vector"), str) else None
    confidence = ind.get("confidence")
    confidence = confidence if isinstance(confidence, int) else 50
    valid_from = _time(ind.get("valid_from"), version_us)
    valid_until = _time(ind.get("valid_until"), 0) or None
    found = values_of_pattern(ind.get("pattern") or "")
    found += [("domain", h) for k, v in found if k == "url" and (h := _host_of(v))]
    for kind, value in dict.fromkeys(found):
        if len(value) > 2048:
            continue
        skel = None
        if kind == "domain":
            try:
                skel = skeleton(value.encode("ascii").decode("idna"))[:300]
            except UnicodeError:
                skel = value[:300]
        yield (pk, kind, value, skel, ind["id"], vector, confidence, valid_from, valid_until,
               version_us)


def _mark(conn: Connection, name: str) -> int:
    return int(conn.execute(select(export_mark.c.position)
                            .where(export_mark.c.name == name)).scalar() or 0)


def _newest(conn: Connection, kind: str) -> int:
    return int(conn.execute(select(func.max(stix_objects.c.date_added))
                            .where(stix_objects.c.type == kind)).scalar() or 0)


def is_fresh(conn: Connection) -> bool:
    """Whether the index has read every indicator and report: five indexed look-ups in one
    statement (one round trip to PostgreSQL for a device's poll, not five)."""
    def newest(kind: str) -> Any:
        return select(func.coalesce(func.max(stix_objects.c.date_added), 0)).where(
            stix_objects.c.type == kind).scalar_subquery()

    def mark(name: str) -> Any:
        return func.coalesce(select(export_mark.c.position).where(
            export_mark.c.name == name).scalar_subquery(), 0)

    row = conn.execute(select(newest("indicator"), mark("indicator"), newest("report"),
                              mark("report"), mark("samples"))).one()
    return bool(row[0] <= row[1] and row[2] <= row[3] and row[4] > 0)


def _backfill_samples(conn: Connection) -> None:
    """Once per hub: the samples' TLSH rows for reports indexed before they existed."""
    if _mark(conn, "samples") > 0:
        return
    after = ""
    while True:
        ids = list(conn.execute(select(stix_objects.c.id).where(
            stix_objects.c.type == "report", stix_objects.c.id > after).distinct()
            .order_by(stix_objects.c.id).limit(_CHUNK)).scalars())
        if not ids:
            break
        sample_digests(conn, ids)
        after = ids[-1]
    conn.execute(delete(export_mark).where(export_mark.c.name == "samples"))
    insert_rows(conn, export_mark, ("name", "position"), [("samples", 1)])


def _report_rows(conn: Connection, batch: list[Any]) -> None:
    ids = [r.id for r in batch]
    conn.execute(delete(indicator_report).where(indicator_report.c.report_id.in_(ids)))
    latest: dict[str, str] = {r.id: r.body for r in batch}  # the newest version wins
    pairs = {(ref, rid) for rid, body in latest.items()
             for ref in orjson.loads(body).get("object_refs") or []
             if isinstance(ref, str) and ref.startswith("indicator--")}
    insert_rows(conn, indicator_report, ("indicator_id", "report_id"), sorted(pairs))
    sample_digests(conn, latest)  # the TLSH of each sample beside its SHA-256 indicator


def _indicator_rows(conn: Connection, batch: list[Any]) -> None:
    columns = ("object_pk", "kind", "value", "skeleton", "indicator_id", "vector", "confidence",
               "valid_from_us", "valid_until_us", "version_us")
    rows = [row for r in batch for row in _rows(r.pk, r.version_us, r.body)]
    insert_rows(conn, indicator_value, columns, rows)
    hashed = {row[4] for row in rows if row[1] == "sha256"}
    if hashed:  # a new version of a sample's indicator keeps the sample's TLSH
        sample_digests(conn, reports_of(conn, hashed))


def catch_up(conn: Connection) -> int:
    """Index every indicator and report version added since the marks; versions read."""
    read = 0
    for kind, store in (("indicator", _indicator_rows), ("report", _report_rows)):
        mark = _mark(conn, kind)
        if _newest(conn, kind) <= mark:
            continue
        if conn.execute(select(export_mark.c.name).where(export_mark.c.name == kind)).first() \
                is None:
            insert_rows(conn, export_mark, ("name", "position"), [(kind, 0)])
        while True:
            batch = conn.execute(
                select(stix_objects.c.pk, stix_objects.c.id, stix_objects.c.version_us,
                       stix_objects.c.body, stix_objects.c.date_added)
                .where(stix_objects.c.type == kind, stix_objects.c.date_added > mark)
                .order_by(stix_objects.c.date_added).limit(_CHUNK)).all()
            if not batch:
                break
            store(conn, batch)
            mark = batch[-1].date_added
            read += len(batch)
        conn.execute(update(export_mark).where(export_mark.c.name == kind).values(position=mark))
    _backfill_samples(conn)
    return read
