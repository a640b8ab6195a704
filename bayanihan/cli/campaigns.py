"""``bayanihan campaigns``: link reports the linker has not seen (stored before linking
existed, through TAXII, or while linking failed) and list campaigns as the hub sees them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from bayanihan.cli.common import ConfigOpt, DatabaseOpt, out
from bayanihan.config import load_settings
from bayanihan.correlate.campaigns import link_report, pending_reports
from bayanihan.correlate.tables_campaigns import campaigns, linked_report
from bayanihan.hub import Hub

campaigns_app = typer.Typer(help="Campaigns: linked reports and regional alerts.",
                            no_args_is_help=True)



def _hub(database: str | None, config: Path | None) -> Hub:
    hub = Hub(load_settings(config, database_url=database))
    hub.open()
    return hub


@campaigns_app.command("relink")
def relink(database: DatabaseOpt = None, config: ConfigOpt = None,
           limit: Annotated[int, typer.Option(min=1, help="Most reports this run.")] = 10_000,
           ) -> None:
    """Correlate every stored report the linker has not seen yet (oldest first)."""
    hub = _hub(database, config)
    try:
        todo = hub.db.read_sync(pending_reports, limit)

        async def each() -> int:
            alerts = 0
            for report_id in todo:
                alerts += len((await link_report(hub, report_id)).alerts)
            return alerts

        alerts = asyncio.run(each())
        out.print(f"{len(todo)} report(s) linked, {alerts} alert(s) issued")
    finally:
        hub.close()


@campaigns_app.command("list")
def list_all(database: DatabaseOpt = None, config: ConfigOpt = None) -> None:
    """Active campaigns with their report counts (the operator's view, no policy applied)."""
    hub = _hub(database, config)
    try:
        count = func.count(linked_report.c.report_id).label("reports")
        rows = hub.db.read_sync(lambda conn: conn.execute(
            select(campaigns.c.id, campaigns.c.name, campaigns.c.confirmed_by, count)
            .join(linked_report, linked_report.c.campaign_id == campaigns.c.id)
            .where(campaigns.c.state == "active")
            .group_by(campaigns.c.id, campaigns.c.name, campaigns.c.confirmed_by)).all())
        table = Table("id", "name", "reports", "confirmed by")
        for r in rows:
            table.add_row(r.id, r.name, str(r.reports), r.confirmed_by or "")
        out.print(table)
    finally:
        hub.close()
