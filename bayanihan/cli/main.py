"""``bayanihan``: the command line. Each command group lives in its own module of this
package (admin, campaigns, sandbox, sync); this one mounts them and holds ``serve``,
``settings`` and ``ingest``. Features never import the command line: it imports them."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bayanihan.cli.admin import audit_app, key_app, org_app
from bayanihan.cli.backup import backup_app
from bayanihan.cli.campaigns import campaigns_app
from bayanihan.cli.common import ConfigOpt, DatabaseOpt, err, opened, out, run
from bayanihan.cli.sandbox import sandbox_app
from bayanihan.cli.sync import sync_app
from bayanihan.config import load_settings, setting_table
from bayanihan.hub import Hub
from bayanihan.store import organisations as orgs

app = typer.Typer(help="Bayanihan: the regional threat-intelligence hub.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(org_app, name="org")
app.add_typer(key_app, name="key")
app.add_typer(audit_app, name="audit")
# Feature command groups: one line each (app.add_typer(x_app, name="x")).
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(sync_app, name="sync")
app.add_typer(backup_app)  # `bayanihan backup` and `bayanihan restore`, top level



def tune_gc() -> None:
    """Fewer, cheaper garbage collections for a long-running server.

    Start-up objects (modules, schemas, compiled patterns) are moved out of the collector's
    sight, and the youngest generation collects less often: parsing a 1,000-object bundle
    creates tens of thousands of containers, and with the default threshold (700) the
    collector would walk them dozens of times per request.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    database: DatabaseOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Start the hub (creates or upgrades the database first)."""
    import uvicorn

    from bayanihan.api.app import create_app

    settings = load_settings(config, database_url=database, host=host, port=port)
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    hub = Hub(settings)
    created = hub.open()
    hub.validation.allow()
    hub.validation.warm()
    tune_gc()
    err.print(f"Bayanihan on http://{settings.host}:{settings.port}/ "
              f"(database: {hub.db.dialect}; TAXII at /taxii2/, API docs at /docs)")
    if created:
        err.print(f"[yellow]First start:[/] an admin key is in {created} (only you can read it).\n"
                  "Next: [bold]bayanihan org seed-asean[/] adds the eleven member-state CERTs.")
    try:
        uvicorn.run(create_app(settings, hub), host=settings.host, port=settings.port,
                    log_level=settings.log_level, access_log=False)
    finally:
        hub.close()


@app.command("settings")
def show_settings() -> None:
    """Every setting: its environment variable, default and meaning."""
    table = Table("setting", "environment variable", "default", "meaning")
    for name, env, default, help_text in setting_table():
        table.add_row(name, env, repr(default), help_text)
    out.print(table)


# -- ingest ----------------------------------------------------------------------------
@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle, a MISP event (JSON) or the ATLAS bundle.")],
    org: Annotated[str, typer.Option("--org", help="The organisation the objects come from.")]
    = orgs.HUB_CODE,
    audience: Annotated[str | None, typer.Option(help="Comma-separated audience codes.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="stix, misp or atlas.")] = "stix",
    database: DatabaseOpt = None,
) -> None:
    """Store a file's objects as ORG: a STIX bundle, a MISP event, or MITRE ATLAS."""
    import asyncio

    from bayanihan.ingest.bundles import Submitter

    names = [c for c in audience.split(",") if c] if audience else None
    with opened(database) as hub:
        if fmt != "stix":
            from bayanihan.ingest.files import ingest_file

            _, lines = run(lambda: ingest_file(hub, file, fmt, org, names))
            for line in lines:
                out.print(line)
            return
        org_row = run(lambda: hub.db.read_sync(orgs.require, org.upper()))
        submitter = Submitter(org_row.code, org_row.identity_id, org_row.kind)
        raw = file.read_bytes()
        result = run(lambda: asyncio.run(hub.ingest_bundle(raw, submitter, names)))
        out.print(f"{result.accepted} accepted, {result.rejected} rejected")
        for r in result.results:
            for e in r.errors:
                err.print(f"  objects[{r.index}] {r.id or ''}: {e.field}: {e.reason}")
        if result.rejected:
            raise typer.Exit(1)


def main(argv: list[str] | None = None) -> Any:
    return app(args=argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
