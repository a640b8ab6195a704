"""``bayanihan``: the command line (serve, org, key, audit, ingest, settings, …)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from bayanihan.config import load_settings, setting_table
from bayanihan.correlate.cli import campaigns_app
from bayanihan.errors import BayanihanError
from bayanihan.hub import Hub
from bayanihan.model.members import OrgKind
from bayanihan.model.stix import format_ms
from bayanihan.sandbox.cli import sandbox_app
from bayanihan.share.sync_cli import sync_app
from bayanihan.store import audit, keys
from bayanihan.store import organisations as orgs

T = TypeVar("T")

app = typer.Typer(help="Bayanihan: the regional threat-intelligence hub.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
org_app = typer.Typer(help="Organisations: member CERTs, partners, downstream SOCs.",
                      no_args_is_help=True)
key_app = typer.Typer(help="API keys (shown once; only a hash is stored).", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(key_app, name="key")
app.add_typer(audit_app, name="audit")
# Feature command groups: one line each (app.add_typer(x_app, name="x")).
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(sync_app, name="sync")

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


# -- organisations ---------------------------------------------------------------------
@org_app.command("add")
def org_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. TH or TH-BANK1.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    kind: Annotated[OrgKind, typer.Option(help="member, partner, observer or downstream.")]
    = OrgKind.MEMBER,
    parent: Annotated[str | None, typer.Option(help="The member a downstream org sits under.")]
    = None,
    database: DatabaseOpt = None,
) -> None:
    """Admit an organisation (its STIX identity is published at TLP:CLEAR)."""
    with opened(database) as hub:
        org = run(lambda: hub.db.write_sync(orgs.add, audit.Actor.console(), code, name, kind, parent))
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
    """List keys (never the secrets)."""
    with opened(database) as hub:
        table = Table("key id", "org", "role", "created", "expires", "last used", "state")
        import time

        now = int(time.time() * 1_000_000)
        for k in hub.db.read_sync(keys.list_keys, org.upper() if org else None):
            table.add_row(k.key_id, k.org, k.role.value, format_ms(k.created_us),
                          format_ms(k.expires_us) if k.expires_us else "never",
                          format_ms(k.last_used_us) if k.last_used_us else "never",
                          "active" if k.active(now) else ("revoked" if k.revoked_us else "expired"))
        out.print(table)


@key_app.command("revoke")
def key_revoke(key_id: str, database: DatabaseOpt = None) -> None:
    """Revoke a key by its id."""
    with opened(database) as hub:
        info = run(lambda: hub.db.write_sync(keys.revoke, audit.Actor.console(), key_id))
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
            from bayanihan.ingest.misp_cli import ingest_file

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
