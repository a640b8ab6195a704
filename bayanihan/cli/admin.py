"""``bayanihan org``, ``bayanihan key`` and ``bayanihan audit``: who is in the hub, their
keys, and the tamper-evident audit log."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Connection

from bayanihan.cli.common import DatabaseOpt, err, opened, out, run
from bayanihan.errors import InvalidInput, NotFound
from bayanihan.model.members import OrgKind
from bayanihan.model.stix import format_ms
from bayanihan.store import audit, keys
from bayanihan.store import organisations as orgs


class AdmittedKind(StrEnum):
    """The kinds of organisation an operator admits (the hub operator exists once)."""

    MEMBER = "member"
    PARTNER = "partner"
    OBSERVER = "observer"
    DOWNSTREAM = "downstream"


org_app = typer.Typer(help="Organisations: member CERTs, partners, downstream SOCs.",
                      no_args_is_help=True)
key_app = typer.Typer(help="API keys (shown once; only a hash is stored).", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


# -- organisations ---------------------------------------------------------------------
@org_app.command("add")
def org_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. TH or TH-BANK1.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    kind: Annotated[AdmittedKind, typer.Option(help="member, partner, observer or downstream.")]
    = AdmittedKind.MEMBER,
    parent: Annotated[str | None, typer.Option(help="The member a downstream org sits under.")]
    = None,
    database: DatabaseOpt = None,
) -> None:
    """Admit an organisation (its STIX identity is published at TLP:CLEAR)."""
    with opened(database) as hub:
        org = run(lambda: hub.db.write_sync(orgs.add, audit.Actor.console(), code, name,
                                            OrgKind(kind.value), parent))
        out.print(f"added {org.code} ({org.kind.value}) identity {org.identity_id}")


@org_app.command("seed-asean")
def org_seed(database: DatabaseOpt = None) -> None:
    """Add the eleven ASEAN member-state CERTs as member organisations."""
    with opened(database) as hub:
        added = run(lambda: hub.db.write_sync(orgs.seed_asean, audit.Actor.console()))
        out.print(f"added {len(added)} member organisations: {' '.join(o.code for o in added) or '-'}")


@org_app.command("list")
def org_list(database: DatabaseOpt = None) -> None:
    """List organisations."""
    with opened(database) as hub:
        table = Table("code", "name", "kind", "parent", "identity")
        for o in hub.db.read_sync(orgs.all_orgs):
            table.add_row(o.code, o.name, o.kind.value, o.parent or "", o.identity_id)
        out.print(table)


# -- keys ------------------------------------------------------------------------------
@key_app.command("create")
def key_create(
    org: Annotated[str, typer.Option("--org", help="Organisation code.")],
    role: Annotated[keys.Role, typer.Option(help="admin, analyst or reader.")] = keys.Role.ANALYST,
    expires: Annotated[float | None, typer.Option(help="Days until the key expires.")] = None,
    label: Annotated[str | None, typer.Option(help="A note to recognise the key by.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Create a key and print it once (store it now: only its hash is kept)."""
    with opened(database) as hub:
        key, info = run(lambda: hub.db.write_sync(
            keys.create, audit.Actor.console(), org.upper(), role, expires, label))
        err.print(f"key {info.key_id} for {info.org} ({info.role.value}); it is shown only once:")
        print(key)


@key_app.command("list")
def key_list(org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
             database: DatabaseOpt = None) -> None:
    """List keys (never the secrets). Piped, one tab-separated line per key, ids whole.

    Example: bayanihan key list --org TH
    """
    with opened(database) as hub:
        now = int(time.time() * 1_000_000)
        rows = [(k.key_id, k.org, k.role.value, format_ms(k.created_us),
                 format_ms(k.expires_us) if k.expires_us else "never",
                 format_ms(k.last_used_us) if k.last_used_us else "never",
                 "active" if k.active(now) else ("revoked" if k.revoked_us else "expired"))
                for k in hub.db.read_sync(keys.list_keys, org.upper() if org else None)]
        if not out.is_terminal:
            for row in rows:
                print("\t".join(row))
            return
        table = Table("key id", "org", "role", "created", "expires", "last used", "state")
        table.columns[0].no_wrap = True
        table.columns[0].min_width = max((len(r[0]) for r in rows), default=6)
        for row in rows:
            table.add_row(*row)
        out.print(table)


def _one_key(conn: Connection, prefix: str) -> str:
    """The key id that ``prefix`` names (an id or any unique beginning of one)."""
    found = [k.key_id for k in keys.list_keys(conn, None) if k.key_id.startswith(prefix)]
    if not prefix or not found:
        raise NotFound(f"no key id starts with {prefix!r} (see `bayanihan key list`)",
                       ["key_id"])
    if len(found) > 1 and prefix not in found:
        raise InvalidInput(f"{prefix!r} names {len(found)} keys; give more of the id",
                           ["key_id"])
    return prefix if prefix in found else found[0]


@key_app.command("revoke")
def key_revoke(key_id: Annotated[str, typer.Argument(
                   help="The key id, or any unique beginning of it.")],
               database: DatabaseOpt = None) -> None:
    """Revoke a key: it stops working at once, its open streams and webhooks end.

    Example: bayanihan key revoke 0060db2a
    """
    with opened(database) as hub:
        def revoke(conn: Connection) -> keys.KeyInfo:
            return keys.revoke(conn, audit.Actor.console(), _one_key(conn, key_id))

        info = run(lambda: hub.db.write_sync(revoke))
        out.print(f"revoked {info.key_id} ({info.org})")


# -- audit -----------------------------------------------------------------------------
def _parse_head(text: str | None) -> tuple[int, str] | None:
    if not text:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise typer.BadParameter("expected SEQ:HASH as printed by `bayanihan audit head`")
    return int(seq), digest


@audit_app.command("verify")
def audit_verify(
    head: Annotated[str | None, typer.Option(
        help="SEQ:HASH recorded earlier by `audit head`, to catch entries cut off the end.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Check the hash chain; exit 1 at the first altered, deleted or reordered entry."""
    expected = _parse_head(head)
    with opened(database) as hub:
        problem = hub.db.read_sync(audit.verify, expected)
        if problem:
            err.print(f"[red]audit log broken at entry {problem.seq}:[/] {problem.reason}")
            raise typer.Exit(1)
        seq, digest = hub.db.read_sync(audit.head)
        out.print(f"audit log intact: {seq} entries, head {seq}:{digest}")


@audit_app.command("head")
def audit_head(database: DatabaseOpt = None) -> None:
    """Print SEQ:HASH of the newest entry (keep it elsewhere; pass it to verify --head)."""
    with opened(database) as hub:
        seq, digest = hub.db.read_sync(audit.head)
        print(f"{seq}:{digest}")


@audit_app.command("log")
def audit_log(limit: Annotated[int, typer.Option(help="How many of the newest entries.")] = 50,
              database: DatabaseOpt = None) -> None:
    """Show the newest entries."""
    with opened(database) as hub:
        seq, _ = hub.db.read_sync(audit.head)
        rows = hub.db.read_sync(lambda c: list(audit.entries(c, after=max(0, seq - limit))))
        table = Table("seq", "at", "actor", "action", "objects", "detail")
        for r in rows:
            table.add_row(str(r.seq), r.at, f"{r.actor_org or 'console'} {r.actor_key or ''}",
                          r.action, r.object_ids[:60], r.detail[:80])
        out.print(table)
