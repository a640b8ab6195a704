"""Exports: what members deploy on the equipment they already have.

One module per format; :data:`FORMATS` lists them with the TLP levels each may carry
(:mod:`.formats`). A renderer takes a :class:`Context` whose ``fetch`` yields the rows one
reader may see within a :class:`Scope` — the hub's row source is
``bayanihan.correlate.value_rows`` (which also builds the context), so nothing here knows
about correlation or ingest. :func:`render` streams one export, :func:`misp_part` one file
of the MISP feed, :func:`export_links` the URLs of every export scoped to a campaign.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from bayanihan.share.exports import misp
from bayanihan.share.exports.etag import etag
from bayanihan.share.exports.formats import (
    KINDS,
    MARKED_TLPS,
    UNMARKED_TLPS,
    Context,
    Format,
    Row,
    Scope,
)
from bayanihan.share.exports.plain import csv_rows, plain_list
from bayanihan.share.exports.rpz import rpz
from bayanihan.share.exports.sigma import sigma
from bayanihan.share.exports.stix import stix_bundle
from bayanihan.share.exports.suricata import suricata

__all__ = ["FORMATS", "KINDS", "Context", "Format", "Row", "Scope", "etag", "export_links",
           "misp_part", "render", "scoped"]

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


def scoped(fmt: Format, scope: Scope) -> Scope:
    """``scope`` narrowed to the kinds and TLP levels the format may carry."""
    kinds = tuple(k for k in scope.kinds if not fmt.kinds or k in fmt.kinds) if scope.kinds \
        else fmt.kinds
    tlps = tuple(t for t in scope.tlps if t in fmt.tlps) if scope.tlps else fmt.tlps
    return replace(scope, kinds=kinds, tlps=tlps)


def render(name: str, ctx: Context) -> Iterator[str]:
    """The export ``name`` as chunks of text (``ctx.conn`` stays open while it is read)."""
    fmt = FORMATS[name]
    return fmt.render(replace(ctx, scope=scoped(fmt, ctx.scope)))


def misp_part(ctx: Context, part: str) -> Iterator[str] | None:
    """``manifest.json``, ``hashes.csv`` or ``<event uuid>.json`` of the MISP feed."""
    ctx = replace(ctx, scope=scoped(FORMATS["misp"], ctx.scope))
    if part == "manifest.json":
        return misp.manifest(ctx)
    if part == "hashes.csv":
        return misp.hashes_csv(ctx)
    if part.endswith(".json"):
        return misp.event_file(ctx, part.removesuffix(".json"))
    return None


def export_links(campaign: str, base: str = "/api/v1/exports") -> dict[str, str]:
    """format -> the URL of that export scoped to ``campaign`` (the MISP feed: its event).

    Each link answers with what the caller may see of the campaign, no more."""
    q = "?campaign=" + quote(campaign, safe="")
    links = {name: f"{base}/{name}{q}" for name in FORMATS if name != "misp"}
    links["misp"] = f"{base}/misp/{misp.event_uuid(campaign)}.json"
    return links
