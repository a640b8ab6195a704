"""``bayanihan backup`` and ``bayanihan restore``: a consistent copy of the hub's database
(SQLite online backup, PostgreSQL ``pg_dump``), and a restore that verifies the audit chain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bayanihan.cli.common import DatabaseOpt, err, out, run
from bayanihan.config import load_settings
from bayanihan.errors import BayanihanError
from bayanihan.store import backup as backups

backup_app = typer.Typer(help="Backups and restores.", no_args_is_help=True)


@backup_app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(
        help="Where to write the backup (a manifest is written beside it).")],
    database: DatabaseOpt = None,
) -> None:
    """Copy the hub's database to FILE while the hub runs (SQLite online backup, or pg_dump)."""
    url = load_settings(None, database_url=database).database()
    made = run(lambda: backups.backup(url, file))
    out.print(f"backed up {made.objects} object versions to {file} ({made.dialect})")
    out.print(f"audit head {made.audit_head}: keep it outside the hub; "
              f"`bayanihan restore --head` checks against it")


@backup_app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `bayanihan backup`.")],
    database: DatabaseOpt = None,
    head: Annotated[str | None, typer.Option(
        help="SEQ:HASH the restored audit log must reach (default: the backup's manifest).")] = None,
    force: Annotated[bool, typer.Option(
        help="Overwrite a database that is not empty (stop the hub first).")] = False,
) -> None:
    """Restore FILE into the database (new or empty), then verify the whole audit chain."""
    url = load_settings(None, database_url=database).database()
    expected: tuple[int, str] | None = None
    if head:
        seq, _, digest = head.partition(":")
        if not seq.isdigit() or not digest:
            err.print("[red]error:[/] --head must be SEQ:HASH (from `bayanihan audit head`)")
            raise typer.Exit(2)
        expected = (int(seq), digest)
    try:
        got = backups.restore(file, url, head=expected, force=force)
    except backups.BackupFailed as exc:
        err.print(f"[red]restore did not verify:[/] {exc.detail}")
        raise typer.Exit(1) from None
    except BayanihanError as exc:
        err.print(f"[red]error:[/] {exc.detail} ({', '.join(exc.fields)})")
        raise typer.Exit(2) from None
    out.print(f"restored {got.objects} object versions; audit chain verified up to "
              f"{got.audit_head}")
