"""``bayanihan export FORMAT``: an export to a file or standard output.

Two ways: from a hub over HTTP (``--url``, the key in ``BAYANIHAN_KEY``; a device's cron job:
the ``ETag`` is kept beside the output file, so a poll that finds nothing new rewrites
nothing), or from the hub's own database as one organisation sees it (``--org``; without it,
the public TLP:CLEAR view). The MISP feed is a folder (``-o DIR``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

import httpx
import typer

from bayanihan.cli.common import ConfigOpt, DatabaseOpt, err, opened, run
from bayanihan.correlate import value_index
from bayanihan.correlate.value_rows import export_context
from bayanihan.errors import InvalidInput
from bayanihan.hub import Hub
from bayanihan.share import exports
from bayanihan.share.exports.formats import Scope, parse_scope
from bayanihan.share.policy import PUBLIC, Reader
from bayanihan.store import organisations as orgs

__all__ = ["export", "lone_app"]

KeyOpt = Annotated[str | None, typer.Option(
    "--key", envvar="BAYANIHAN_KEY", show_envvar=True, show_default=False,
    help="API key for --url (better: the BAYANIHAN_KEY variable; never printed).")]


def _reader(hub: Hub, org: str | None) -> Reader:
    if not org:
        return PUBLIC
    found = hub.db.read_sync(orgs.require, org.upper())
    parent = hub.db.read_sync(orgs.get, found.parent) if found.parent else None
    return Reader(org=found.code, kind=found.kind, parent=found.parent,
                  parent_kind=parent.kind if parent else None)


def _write(chunks: Iterable[str], output: Path | None) -> None:
    if output is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    part = output.with_name(output.name + ".part")
    with part.open("w", encoding="utf-8") as fh:
        for chunk in chunks:
            fh.write(chunk)
    part.replace(output)  # a device never reads a half-written file


def _local(hub: Hub, fmt: str, reader: Reader, scope: Scope, output: Path | None) -> None:
    hub.db.write_sync(value_index.catch_up)
    with hub.db.read_engine.connect() as conn:
        if hub.db.is_sqlite:  # a one-pass read: a smaller page cache (the default is 64 MiB)
            conn.exec_driver_sql("PRAGMA cache_size=-16384")
        ctx = export_context(conn, reader, scope)
        if fmt != "misp":
            _write(exports.render(fmt, ctx), output)
            return
        if output is None:
            raise InvalidInput("the MISP feed is a folder: give -o DIR", ["-o"])
        output.mkdir(parents=True, exist_ok=True)
        manifest = "".join(exports.misp_part(ctx, "manifest.json") or ())
        (output / "manifest.json").write_text(manifest, encoding="utf-8")
        _write(exports.misp_part(ctx, "hashes.csv") or (), output / "hashes.csv")
        for uuid in json.loads(manifest):
            _write(exports.misp_part(ctx, f"{uuid}.json") or (), output / f"{uuid}.json")
        conn.rollback()


def _remote(url: str, key: str | None, fmt: str, params: dict[str, str],
            output: Path | None) -> bool:
    """Fetch the export; False when the hub says nothing changed since the kept ETag."""
    if fmt == "misp":
        raise InvalidInput("MISP subscribes to the feed itself: point it at "
                           f"{url.rstrip('/')}/api/v1/exports/misp/", ["FORMAT"])
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    tag_file = output.with_name(output.name + ".etag") if output else None
    if tag_file and tag_file.exists() and output and output.exists():
        headers["If-None-Match"] = tag_file.read_text().strip()
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client, \
            client.stream("GET", f"/api/v1/exports/{fmt}", params=params) as r:
        if r.status_code == 304:
            return False
        if r.status_code != 200:
            r.read()
            raise InvalidInput(f"the hub answered {r.status_code}: {r.text[:300]}", ["--url"])

        def text() -> Iterator[str]:
            yield from r.iter_text()
        _write(text(), output)
        if tag_file and r.headers.get("etag"):
            tag_file.write_text(r.headers["etag"] + "\n")
    return True


def export(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help=(
        "domains, urls, ips, phones, sha256, tlsh, csv, rpz, suricata, sigma, stix, misp"))],
    output: Annotated[Path | None, typer.Option("-o", "--output", help=(
        "File to write (default: standard output); a folder for misp."))] = None,
    org: Annotated[str | None, typer.Option(help=(
        "From the database: export as this organisation sees it (default: the public view)."))]
    = None,
    url: Annotated[str | None, typer.Option(help="Fetch from this hub over HTTP instead.")]
    = None,
    key: KeyOpt = None,
    since: Annotated[str | None, typer.Option(help="Delta: only values added after this time.")]
    = None,
    vector: Annotated[str | None, typer.Option(help="Comma-separated threat vectors.")] = None,
    country: Annotated[str | None, typer.Option(help="Comma-separated member states.")] = None,
    campaign: Annotated[str | None, typer.Option(help="Only this campaign's values.")] = None,
    min_confidence: Annotated[int | None, typer.Option(help="Minimum confidence, 0-100.")]
    = None,
    database: DatabaseOpt = None, config: ConfigOpt = None,
) -> None:
    """Write an export (plain list, CSV, RPZ, Suricata, Sigma, STIX, MISP feed): from a hub
    with --url, or from the database as --org sees it. See docs/exports.md."""
    def go() -> None:
        if fmt not in exports.FORMATS:
            raise InvalidInput(f"FORMAT: one of {', '.join(exports.FORMATS)}", ["FORMAT"])
        scope = parse_scope(since, vector, country, campaign, min_confidence)
        if url:
            params = {k: str(v) for k, v in (
                ("since", since), ("vector", vector), ("country", country),
                ("campaign", campaign), ("min_confidence", min_confidence)) if v is not None}
            if not _remote(url, key or os.environ.get("BAYANIHAN_KEY"), fmt, params, output):
                err.print(f"unchanged since the last fetch ({output} kept)")
            return
        with opened(database, config, statistics=False) as hub:
            _local(hub, fmt, _reader(hub, org), scope, output)
    run(go)


def lone_app() -> typer.Typer:
    """``bayanihan`` with only this command mounted (``bayanihan.cli.main()`` starts it so)."""
    app = typer.Typer(help="Bayanihan: the regional threat-intelligence hub.",
                      no_args_is_help=True, pretty_exceptions_enable=False)

    @app.callback()
    def _group() -> None:
        """Bayanihan: the regional threat-intelligence hub."""

    app.command("export")(export)
    return app
