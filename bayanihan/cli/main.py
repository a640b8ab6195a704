"""``bayanihan``: the command line. Each command group lives in its own module of this
package (admin, campaigns, sandbox, sync); this one mounts them and holds ``serve``,
``settings`` and ``ingest``. Features never import the command line: it imports them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bayanihan.cli.admin import audit_app, key_app, org_app
from bayanihan.cli.backup import backup_app
from bayanihan.cli.campaigns import campaigns_app
from bayanihan.cli.common import ConfigOpt, DatabaseOpt, err, opened, out, port_in_use, run, start
from bayanihan.cli.demo import demo
from bayanihan.cli.export import export
from bayanihan.cli.guard import guard_app
from bayanihan.cli.ingest import TLP_HELP, ingest_stix
from bayanihan.cli.sandbox import sandbox_app
from bayanihan.cli.scan import scan
from bayanihan.cli.sync import sync_app
from bayanihan.cli.users import user_app
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
app.add_typer(user_app, name="user")
app.add_typer(backup_app)  # `bayanihan backup` and `bayanihan restore`, top level
app.add_typer(guard_app, name="guard")  # poisoning defences
app.command("demo")(demo)
app.command("export")(export)  # bayanihan export FORMAT
app.command("scan")(scan)  # bayanihan scan PATH…



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
    if port_in_use(settings.host, settings.port):  # before anything is created
        err.print(f"[red]error:[/] {settings.host}:{settings.port} is already in use; start on "
                  "another port with --port (or stop what is listening there)")
        raise typer.Exit(2)
    logging.basicConfig(level=settings.log_level.upper(), force=True,
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
    tlp: Annotated[str | None, typer.Option("--tlp", help=TLP_HELP)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="List every repair and refusal.")]
    = False,
    database: DatabaseOpt = None,
) -> None:
    """Store a file's objects as ORG: STIX (a bundle, a list, one object; a whole ATT&CK or
    ATLAS release, gzip too, with a progress bar), a MISP event, or MITRE ATLAS."""
    names = [c for c in audience.split(",") if c] if audience else None
    if fmt not in ("stix", "misp", "atlas"):
        raise typer.BadParameter(f"{fmt!r}: stix, misp or atlas", param_hint="--format")
    file.open("rb").close()  # before the hub is opened: a wrong path creates nothing
    with opened(database) as hub:
        if fmt != "stix":
            from bayanihan.cli.ingest_files import ingest_file

            _, lines = run(lambda: ingest_file(hub, file, fmt, org, names))
            repaired = [line for line in lines if line.startswith("repaired:")]
            for line in repaired if verbose else []:
                out.print(line, highlight=False)
            if repaired and not verbose:
                out.print(f"{len(repaired)} objects repaired on the way in (--verbose lists "
                          "them)")
            for line in lines:
                if not line.startswith("repaired:"):
                    out.print(line, highlight=False)
            return
        ingest_stix(hub, file, org, names, tlp, verbose=verbose)


def main(argv: list[str] | None = None) -> Any:
    """Run the command line: an error is one line and a non-zero exit, never a traceback
    (unless ``--debug`` or ``BAYANIHAN_DEBUG=1``). Exit codes: 0 done, 1 failed (or some
    input refused), 2 bad input or a hub error, 130 interrupted (``common.start``)."""
    return start(app, argv)


if __name__ == "__main__":
    main()
