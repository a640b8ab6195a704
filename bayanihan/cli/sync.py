"""``bayanihan sync``: pull from and push to TAXII 2.1 collections, with progress shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bayanihan.cli.common import ConfigOpt, DatabaseOpt, err, opened, out, run
from bayanihan.ingest.held import count_held
from bayanihan.model.stix import format_ms
from bayanihan.share.sync import Progress as SyncProgress
from bayanihan.share.sync import Remote, SyncError, SyncReport, pull, push, refusals, retry
from bayanihan.store.tables_taxii import all_cursors

sync_app = typer.Typer(
    help="Hub-to-hub sync over TAXII 2.1 (incremental, resumable, idempotent).",
    no_args_is_help=True)

UrlArg = Annotated[str, typer.Argument(
    help="The remote collection's URL: https://HOST/taxii2/api/collections/ID/")]
KeyOpt = Annotated[str | None, typer.Option(
    "--key", envvar="BAYANIHAN_SYNC_KEY", help="API key for the remote (sent as Bearer).")]
UserOpt = Annotated[str | None, typer.Option(
    "--user", envvar="BAYANIHAN_SYNC_USER", help="HTTP Basic user (remotes without keys).")]
PasswordOpt = Annotated[str | None, typer.Option(
    "--password", envvar="BAYANIHAN_SYNC_PASSWORD", help="HTTP Basic password.")]
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
    held = f", {report.held} held for a marking-definition" if report.held else ""
    out.print(f"{report.direction} {report.remote}: {report.objects} objects in {report.pages} "
              f"pages; {report.stored} stored, {report.duplicates} already there{held}, "
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
                 config: ConfigOpt = None,
                 again: Annotated[bool, typer.Option(
                     "--retry", help="First try again the objects this remote sent that were "
                                     "refused (listed by `sync status`).")] = False) -> None:
    """Pull what the remote collection added since the last pull (every version).

    Objects refused for a permanent reason are recorded (`sync status`) and do not stop
    the cursor; objects waiting for a marking-definition are held until it arrives."""
    remote = Remote(url, key=key, user=user, password=password)
    with opened(database, config) as hub:
        if again:
            _summary(run(lambda: retry(hub.db, source_org.upper(), remote.url)))
        report = _run("pull", lambda shown: pull(hub.db, remote, source_org.upper(),
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
        report = _run("push", lambda shown: push(hub.db, remote, org.upper(), page_size=page_size,
                                                 progress=shown))
    _summary(report)


@sync_app.command("status")
def status_command(database: DatabaseOpt = None, config: ConfigOpt = None) -> None:
    """Where each remote's cursors stand, what pulls refused and why, and what is held."""
    with opened(database, config) as hub:
        rows = hub.db.read_sync(all_cursors)
        refused = hub.db.read_sync(refusals)
        held = hub.db.read_sync(count_held)
    table = Table("remote", "direction", "cursor", "objects moved", "updated")
    for r in rows:
        table.add_row(r.remote, r.direction, r.cursor, str(r.objects), format_ms(r.updated_us))
    out.print(table)
    if refused:  # one line each, whole (ids and reasons are not cut to the terminal)
        out.print(f"{len(refused)} refused by pulls (`sync pull URL --retry` tries them again):")
        for f in refused:
            out.print(f"  {f.object_id or '-'} from {f.remote} at {format_ms(f.refused_us)}: "
                      f"{f.reason}", highlight=False, soft_wrap=True)
    else:
        out.print("Nothing refused by pulls.")
    out.print(f"{held} objects held until their marking-definition arrives.")
