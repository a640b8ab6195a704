"""What every ``bayanihan`` command shares: the consoles, the ``--database``/``--config``
options, opening the hub, and turning hub errors into one clear line (never a traceback)."""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import sqlalchemy.exc
import typer
from rich.console import Console

from bayanihan.config import load_settings
from bayanihan.errors import BayanihanError
from bayanihan.hub import Hub

T = TypeVar("T")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", envvar="BAYANIHAN_DATABASE_URL",
    help="Database: a file path (SQLite) or a URL (default ./bayanihan.db).")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", envvar="BAYANIHAN_CONFIG", help="TOML settings file.")]


@contextmanager
def opened(database: str | None, config: Path | None = None, *,
           statistics: bool = True) -> Iterator[Hub]:
    """The hub, opened (``statistics=False``: no ``ANALYZE``, for commands that only read)."""
    settings = load_settings(config, database_url=database)
    hub = Hub(settings)
    try:
        created = hub.open(statistics=statistics)
        if created:
            err.print(f"[yellow]First start:[/] the admin key is in {created} (only you can read it).")
        yield hub
    finally:
        hub.close()


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port (checked before anything is created)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def explain(exc: BaseException) -> str:
    """One line for an error the command did not expect: what went wrong, what to try."""
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename}: no such file"
    if isinstance(exc, PermissionError):
        return f"{exc.filename}: permission denied"
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename}: is a folder, not a file"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {exc} (is the server running, and is the URL right?)"
    if isinstance(exc, httpx.TimeoutException):
        return "the remote did not answer in time (try again, or check the URL)"
    if isinstance(exc, httpx.HTTPError):
        return f"HTTP error: {exc}"
    if isinstance(exc, sqlalchemy.exc.ArgumentError):
        return (f"--database: {exc} (give a file path, sqlite:///PATH or "
                "postgresql+psycopg://USER:PASSWORD@HOST/DB)")
    if isinstance(exc, sqlalchemy.exc.OperationalError):
        first = str(exc.orig or exc).strip().splitlines()[0]
        return f"the database cannot be opened: {first} (check --database)"
    if isinstance(exc, ValueError | OSError):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def run(fn: Callable[[], T]) -> T:
    """Turn hub errors into a clear message and exit status 2."""
    try:
        return fn()
    except BayanihanError as exc:
        where = f" ({', '.join(exc.fields)})" if exc.fields else ""
        err.print(f"[red]error:[/] {exc.detail}{where}")
        raise typer.Exit(2) from None


def start(app: typer.Typer, argv: list[str] | None = None) -> Any:
    """Run ``app`` as ``bayanihan``: an error is one line and a non-zero exit, never a
    traceback (unless ``--debug`` or ``BAYANIHAN_DEBUG=1``). Exit codes: 0 done, 1 failed
    (or some input refused), 2 bad input or a hub error, 130 interrupted."""
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args or os.environ.get("BAYANIHAN_DEBUG") == "1"
    args = [a for a in args if a != "--debug"]
    # commands other than serve speak through the console, not the log (serve sets it up)
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        code = app(args=args, standalone_mode=False, prog_name="bayanihan")
    except KeyboardInterrupt:
        err.print("interrupted")
        raise SystemExit(130) from None
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # a usage error
            raise SystemExit(_usage(exc)) from None
        if type(exc).__name__ == "Abort":
            err.print("aborted")
            raise SystemExit(1) from None
        if debug:
            raise
        err.print(f"[red]error:[/] {explain(exc)} (--debug shows where)", highlight=False)
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _usage(exc: Exception) -> int:
    """A usage error (click's) as one line; the help when a group is called bare."""
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__.startswith("NoArgsIsHelp") and ctx is not None:
        print(ctx.get_help())
        return 0
    where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    err.print(f"[red]error:[/] {exc.format_message()}{where}",  # type: ignore[attr-defined]
              highlight=False)
    return int(getattr(exc, "exit_code", 2))
