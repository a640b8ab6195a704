"""Exports: what members deploy on the equipment they already have.

One row source (:mod:`.source`, filtered by :func:`bayanihan.share.policy.visible` and a
:class:`Scope`), one module per format. :data:`FORMATS` lists them with the TLP levels each
may carry (:mod:`.formats`); :func:`open_export` streams one; :func:`refresh` brings the
export index up to date (cheap when it is).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from bayanihan.model.stix import now_us
from bayanihan.share.exports import misp
from bayanihan.share.exports.formats import MARKED_TLPS, UNMARKED_TLPS, Context, Format
from bayanihan.share.exports.index import KINDS, catch_up, is_fresh
from bayanihan.share.exports.plain import csv_rows, plain_list
from bayanihan.share.exports.rpz import rpz
from bayanihan.share.exports.sigma import sigma
from bayanihan.share.exports.source import Row, Scope, etag, rows
from bayanihan.share.exports.stix import stix_bundle
from bayanihan.share.policy import Reader

__all__ = ["FORMATS", "KINDS", "Row", "Scope", "etag", "is_fresh", "misp_part", "open_export",
           "refresh", "rows"]

_LISTS = {"domains": "domain", "urls": "url", "ips": "ip", "phones": "phone",
          "sha256": "sha256", "tlsh": "tlsh"}


def _formats() -> dict[str, Format]:
    out: dict[str, Format] = {}
    for name, kind in _LISTS.items():
        spec = Format(name, "text/plain; charset=utf-8", (kind,), UNMARKED_TLPS,
                      f"{KINDS[kind]}, one per line", lambda ctx: iter(()), public=True)
        out[name] = replace(spec, render=plain_list(spec))

    def bind(fmt: Format, fn: Any) -> Format:
        return replace(fmt, render=lambda ctx: fn(ctx, fmt))

    out["csv"] = bind(Format("csv", "text/csv; charset=utf-8", (), MARKED_TLPS,
                             "every kind of value with context columns (CSV)", csv_rows,
                             public=True), csv_rows)
    out["rpz"] = bind(Format("rpz", "text/dns; charset=utf-8", ("domain", "ip"), UNMARKED_TLPS,
                             "DNS Response Policy Zone (domains, IPv4 rpz-ip)", rpz), rpz)
    from bayanihan.share.exports.suricata import suricata

    out["suricata"] = bind(Format("suricata", "text/plain; charset=utf-8",
                                  ("domain", "url", "ip"), UNMARKED_TLPS,
                                  "Suricata rules (DNS query, TLS SNI, HTTP host, URL, IP)",
                                  suricata), suricata)
    out["sigma"] = bind(Format("sigma", "application/yaml; charset=utf-8", ("domain", "url"),
                               UNMARKED_TLPS, "Sigma rules for proxy and DNS logs", sigma), sigma)
    out["stix"] = bind(Format("stix", "application/stix+json;version=2.1", (), MARKED_TLPS,
                              "STIX 2.1 bundle of indicators", stix_bundle, public=True),
                       stix_bundle)
    out["misp"] = Format("misp", "application/json", (), MARKED_TLPS,
                         "MISP feed (manifest.json, hashes.csv, one file per event)",
                         lambda ctx: misp.manifest(ctx))
    return out


#: name -> Format, in the order the docs list them
FORMATS: dict[str, Format] = _formats()


def refresh(conn: Connection) -> int:
    """Index indicators added since the last export or check (run in a write)."""
    return catch_up(conn)


def scoped(fmt: Format, scope: Scope) -> Scope:
    """``scope`` narrowed to the kinds and TLP levels the format may carry."""
    kinds = tuple(k for k in scope.kinds if not fmt.kinds or k in fmt.kinds) if scope.kinds \
        else fmt.kinds
    tlps = tuple(t for t in scope.tlps if t in fmt.tlps) if scope.tlps else fmt.tlps
    return replace(scope, kinds=kinds, tlps=tlps)


def context(conn: Connection, reader: Reader, fmt: Format, scope: Scope,
            at_us: int | None = None) -> Context:
    def fetch(s: Scope, context: bool = False) -> Iterator[Row]:
        return rows(conn, reader, s, context=context, at_us=at_us)
    return Context(conn, reader, scoped(fmt, scope), fetch, at_us or now_us())


def open_export(conn: Connection, reader: Reader, name: str, scope: Scope,
                at_us: int | None = None) -> Iterator[str]:
    """The export ``name`` as chunks of text (``conn`` stays open while it is read)."""
    fmt = FORMATS[name]
    return fmt.render(context(conn, reader, fmt, scope, at_us))


def misp_part(conn: Connection, reader: Reader, part: str, scope: Scope,
              at_us: int | None = None) -> Iterator[str] | None:
    """``manifest.json``, ``hashes.csv`` or ``<event uuid>.json`` of the MISP feed."""
    ctx = context(conn, reader, FORMATS["misp"], scope, at_us)
    if part == "manifest.json":
        return misp.manifest(ctx)
    if part == "hashes.csv":
        return misp.hashes_csv(ctx)
    if part.endswith(".json"):
        return misp.event_file(ctx, part.removesuffix(".json"))
    return None
