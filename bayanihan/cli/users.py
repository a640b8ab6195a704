"""``bayanihan user``: people who sign in to the web pages (an organisation and a role, like
keys; analysts and admins enrol a TOTP second factor at their first sign-in)."""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer
from rich.table import Table

from bayanihan.cli.common import DatabaseOpt, err, opened, out, run
from bayanihan.errors import InvalidInput
from bayanihan.store import audit, keys, users

user_app = typer.Typer(help="Web users: password (argon2) and TOTP second factor.",
                       no_args_is_help=True)
PASSWORD_ENV = "BAYANIHAN_NEW_PASSWORD"


def _password(given: bool) -> str:
    """From ``BAYANIHAN_NEW_PASSWORD`` (scripts) or typed twice (never an argument: it would
    land in the shell history and the process list)."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if not given:
        raise InvalidInput(f"password: type it (--password) or set {PASSWORD_ENV}",
                           ["password"])
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise InvalidInput("password: the two entries differ", ["password"])
    return first


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="The name they sign in with.")],
    org: Annotated[str, typer.Option("--org", help="Organisation code, e.g. TH.")],
    role: Annotated[keys.Role, typer.Option(help="admin, analyst or reader.")]
    = keys.Role.ANALYST,
    password: Annotated[bool, typer.Option(
        "--password/--no-password",
        help=f"Ask for the password (default), unless {PASSWORD_ENV} is set.")] = True,
    database: DatabaseOpt = None,
) -> None:
    """Add a web user; analysts and admins are shown a QR code at their first sign-in."""
    secret = run(lambda: _password(password))
    with opened(database) as hub:
        user = run(lambda: hub.db.write_sync(users.add, audit.Actor.console(), username,
                                             org.upper(), role, secret))
    out.print(f"added {user.username} ({user.org}, {user.role.value})"
              + ("; second factor enrolled at first sign-in" if user.needs_second_factor
                 else ""))


@user_app.command("list")
def user_list(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """List web users (never a password or a TOTP secret)."""
    with opened(database) as hub:
        table = Table("user", "org", "role", "second factor", "state")
        for u in hub.db.read_sync(users.list_users, org.upper() if org else None):
            table.add_row(u.username, u.org, u.role.value,
                          "enrolled" if u.totp_enrolled else "not yet",
                          "disabled" if u.disabled else "active")
        out.print(table)


@user_app.command("password")
def user_password(
    username: Annotated[str, typer.Argument()],
    database: DatabaseOpt = None,
) -> None:
    """Set a new password (ends the user's sessions, lifts a lock-out)."""
    secret = run(lambda: _password(True))
    with opened(database) as hub:
        run(lambda: hub.db.write_sync(users.set_password, audit.Actor.console(), username,
                                      secret))
    err.print(f"password of {username} changed")


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument()],
    enable: Annotated[bool, typer.Option("--enable", help="Enable again instead.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Disable a user (sessions end at once), or enable them again."""
    with opened(database) as hub:
        run(lambda: hub.db.write_sync(users.set_disabled, audit.Actor.console(), username,
                                      not enable))
    out.print(f"{username} {'enabled' if enable else 'disabled'}")
