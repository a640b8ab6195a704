"""``bayanihan guard``: poisoning defences (docs/security.md): protected values, approvals,
and quarantining a compromised key (its contributions leave exports and check answers)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bayanihan.cli.common import DatabaseOpt, opened, out, run
from bayanihan.correlate import guard
from bayanihan.correlate.campaigns import rules_for
from bayanihan.store import audit

guard_app = typer.Typer(help="Poisoning defences: protected values, approvals, quarantine.",
                        no_args_is_help=True)


@guard_app.command("held")
def held(database: DatabaseOpt = None) -> None:
    """Protected values someone reported, held out of exports: who reported and confirmed."""
    with opened(database) as hub:
        table = Table("kind", "value", "confirmed by", "indicators (org, key)")
        for h in hub.db.read_sync(guard.held):
            table.add_row(h["kind"], h["value"], " ".join(h["confirmed_by"]),
                          "\n".join(f"{i['id']} ({i['org']}, {i['key']})" for i in h["indicators"]))
        out.print(table)


@guard_app.command("approve")
def approve(
    kind: Annotated[str, typer.Argument(help="domain, email or url.")],
    value: Annotated[str, typer.Argument(help="The value as `guard held` shows it.")],
    database: DatabaseOpt = None,
) -> None:
    """Release a held value (needs two confirming organisations)."""
    with opened(database) as hub:
        confirmed = run(lambda: hub.db.write_sync(guard.approve, audit.Actor.console(), kind, value))
        out.print(f"released {kind} {value} (confirmed by {', '.join(confirmed)})")


@guard_app.command("protect")
def protect(
    domain: Annotated[str, typer.Argument(help="A domain; every name under it is protected too.")],
    database: DatabaseOpt = None,
) -> None:
    """Protect one more domain (the operator's own, a national bank…)."""
    with opened(database) as hub:
        name = run(lambda: hub.db.write_sync(guard.protect, audit.Actor.console(), domain))
        out.print(f"protected {name} and every name under it")


@guard_app.command("quarantine")
def quarantine(
    key_id: Annotated[str, typer.Argument(help="The key id (`bayanihan key list`).")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "compromised",
    database: DatabaseOpt = None,
) -> None:
    """Revoke a key and pull everything it submitted out of exports, check answers and
    campaigns."""
    with opened(database) as hub:
        count = run(lambda: hub.db.write_sync(guard.quarantine, audit.Actor.console(), key_id,
                                              reason, rules_for(hub.settings)))
        out.print(f"key {key_id} revoked; {count} object versions it submitted are held back "
                  "(its reports are out of campaigns)")


@guard_app.command("release")
def release(
    key_id: Annotated[str, typer.Argument(help="A quarantined key id.")],
    database: DatabaseOpt = None,
) -> None:
    """Put a quarantined key's contributions back (the key stays revoked)."""
    with opened(database) as hub:
        run(lambda: hub.db.write_sync(guard.release, audit.Actor.console(), key_id,
                                      rules_for(hub.settings)))
        out.print(f"contributions of {key_id} are back in exports and campaigns")
