"""``bayanihan sync``: pull from and push to TAXII 2.1 collections, with progress shown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bayanihan.cli.common import opened, run
from bayanihan.model.stix import format_ms
from bayanihan.share.sync import Progress as SyncProgress
from bayanihan.share.sync import Remote, SyncError, SyncReport, pull, push
from bayanihan.store.tables_taxii import all_cursors

sync_app = typer.Typer(
    help="Hub-to-hub sync over TAXII 2.1 (incremental, resumable, idempotent).",
    no_args_is_help=True)
out = Console()
err = Console(stderr=True)

UrlArg = Annotated[str, typer.Argument(
    help="The remote collection's URL: https://HOST/taxii2/api/collections/ID/")]
KeyOpt = Annotated[str | None, typer.Option(
    "--key", envvar="BAYANIHAN_SYNC_KEY", help="API key for the remote (sent as Bearer).")]
UserOpt = Annotated[str | None, typer.Option(
    "--user", envvar="BAYANIHAN_SYNC_USER", help="HTTP Basic user (remotes without keys).")]
PasswordOpt = Annotated[str | None, typer.Option(
    "--password", envvar="BAYANIHAN_SYNC_PASSWORD", help="HTTP Basic password.")]
DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", envvar="BAYANIHAN_DATABASE_URL", help="Database URL (default ./bayanihan.db).")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", envvar="BAYANIHAN_CONFIG", help="TOML settings file.")]
PageOpt = Annotated[int, typer.Option("--page-size", min=1, max=10_000,
                                      help="Objects per request.")]


def _run(direction: str, job: Callable[[SyncProgress], SyncReport]) -> SyncReport:
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err) as bar:
        task = bar.add_task(f"{direction}: starting", total=None)

        def shown(report: SyncReport) -> None:
            bar.update(task, description=(
                f"{direction}: {report.pages} pages, {report.objects} objects, {report.stored} "
                f"stored, {report.rejected} rejected (cursor {report.cursor})"))

        def go() -> SyncReport:
            try:
                return job(shown)
            except SyncError as exc:
                err.print(f"[red]sync failed:[/] {exc}\n(the cursor keeps what was done; "
                          "run again to resume)")
                raise typer.Exit(1) from None

        return run(go)


def _summary(report: SyncReport) -> None:
    out.print(f"{report.direction} {report.remote}: {report.objects} objects in {report.pages} "
              f"pages; {report.stored} stored, {report.duplicates} already there, "
              f"{report.rejected} rejected; cursor {report.cursor}")
    for reason in report.reasons:
        out.print(f"  [yellow]rejected[/] {reason}")


@sync_app.command("pull")
def pull_command(url: UrlArg,
                 source_org: Annotated[str, typer.Option(
                     "--source-org", help="Local organisation code that authors objects whose "
                                          "created_by_ref is not a local organisation.")],
                 key: KeyOpt = None, user: UserOpt = None, password: PasswordOpt = None,
                 page_size: PageOpt = 1000, database: DatabaseOpt = None,
                 config: ConfigOpt = None) -> None:
    """Pull what the remote collection added since the last pull."""
    remote = Remote(url, key=key, user=user, password=password)
    with opened(database, config) as hub:
        report = _run("pull", lambda shown: pull(hub, remote, source_org.upper(),
                                                 page_size=page_size, progress=shown))
    _summary(report)


@sync_app.command("push")
def push_command(url: UrlArg,
                 org: Annotated[str, typer.Option(
                     "--org", help="This hub's organisation whose objects are sent.")],
                 key: KeyOpt = None, user: UserOpt = None, password: PasswordOpt = None,
                 page_size: PageOpt = 500, database: DatabaseOpt = None,
                 config: ConfigOpt = None) -> None:
    """Push this organisation's objects added since the last push (never TLP:RED)."""
    remote = Remote(url, key=key, user=user, password=password)
    with opened(database, config) as hub:
        report = _run("push", lambda shown: push(hub, remote, org.upper(), page_size=page_size,
                                                 progress=shown))
    _summary(report)


@sync_app.command("status")
def status_command(database: DatabaseOpt = None, config: ConfigOpt = None) -> None:
    """Where each remote collection's pull and push cursors stand."""
    with opened(database, config) as hub:
        rows = hub.db.read_sync(all_cursors)
    table = Table("remote", "direction", "cursor", "objects moved", "updated")
    for r in rows:
        table.add_row(r.remote, r.direction, r.cursor, str(r.objects), format_ms(r.updated_us))
    out.print(table)
