"""What every ``bayanihan`` command shares: the consoles, the ``--database``/``--config``
options, opening the hub, and turning hub errors into one clear line (never a traceback)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from bayanihan.config import load_settings
from bayanihan.errors import BayanihanError
from bayanihan.hub import Hub

T = TypeVar("T")

out = Console()
err = Console(stderr=True)

DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", envvar="BAYANIHAN_DATABASE_URL", help="Database URL (default ./bayanihan.db).")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", envvar="BAYANIHAN_CONFIG", help="TOML settings file.")]


@contextmanager
def opened(database: str | None, config: Path | None = None) -> Iterator[Hub]:
    settings = load_settings(config, database_url=database)
    hub = Hub(settings)
    try:
        created = hub.open()
        if created:
            err.print(f"[yellow]First start:[/] the admin key is in {created} (only you can read it).")
        yield hub
    finally:
        hub.close()


def run(fn: Callable[[], T]) -> T:
    """Turn hub errors into a clear message and exit status 2."""
    try:
        return fn()
    except BayanihanError as exc:
        where = f" ({', '.join(exc.fields)})" if exc.fields else ""
        err.print(f"[red]error:[/] {exc.detail}{where}")
        raise typer.Exit(2) from None
