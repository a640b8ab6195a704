"""The audit log catches rows edited, deleted, swapped or cut off, via the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from bayanihan.cli import app
from bayanihan.hub import Hub
from bayanihan.store import audit
from bayanihan.store.schema import audit_log
from tests.conftest import seed

runner = CliRunner()


def verify(hub: Hub, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", "--database", hub.db.url, *extra])
    return result.exit_code, result.output


def tamper(hub: Hub, statement: object) -> None:
    hub.db.write_sync(lambda c: c.execute(statement))


def test_an_intact_log_verifies(hub: Hub) -> None:
    seed(hub)
    code, output = verify(hub)
    assert code == 0, output
    assert "intact" in output


def test_an_edited_entry_is_found(hub: Hub) -> None:
    seed(hub)
    tamper(hub, update(audit_log).where(audit_log.c.seq == 5).values(actor_org="VN"))
    code, output = verify(hub)
    assert code == 1
    assert "entry 5" in output and "altered" in output


def test_an_edit_that_recomputes_its_own_hash_is_still_found(hub: Hub) -> None:
    seed(hub)
    row = hub.db.read_sync(lambda c: dict(c.execute(
        select(audit_log).where(audit_log.c.seq == 4)).one()._mapping))
    row["detail"] = '{"forged": true}'
    tamper(hub, update(audit_log).where(audit_log.c.seq == 4)
           .values(detail=row["detail"], hash=audit.entry_hash(row)))
    code, output = verify(hub)
    assert code == 1 and "entry 5" in output  # the next entry no longer follows


def test_a_deleted_entry_is_found(hub: Hub) -> None:
    seed(hub)
    tamper(hub, delete(audit_log).where(audit_log.c.seq == 7))
    code, output = verify(hub)
    assert code == 1 and "entry 7" in output


def test_swapped_entries_are_found(hub: Hub) -> None:
    seed(hub)
    a, b = hub.db.read_sync(lambda c: [dict(r._mapping) for r in c.execute(
        select(audit_log).where(audit_log.c.seq.in_([3, 4])).order_by(audit_log.c.seq))])
    fields = {k: v for k, v in b.items() if k != "seq"}
    tamper(hub, update(audit_log).where(audit_log.c.seq == 3).values(**fields))
    tamper(hub, update(audit_log).where(audit_log.c.seq == 4)
           .values(**{k: v for k, v in a.items() if k != "seq"}))
    code, output = verify(hub)
    assert code == 1 and "entry 3" in output


def test_entries_cut_off_the_end_are_found_against_a_recorded_head(hub: Hub) -> None:
    seed(hub)
    head = runner.invoke(app, ["audit", "head", "--database", hub.db.url]).output.strip()
    last = int(head.split(":")[0])
    tamper(hub, delete(audit_log).where(audit_log.c.seq >= last - 1))
    assert verify(hub)[0] == 0  # nothing inside the database can tell ...
    code, output = verify(hub, "--head", head)  # ... but the recorded head can
    assert code == 1 and "recorded head" in output


@pytest.mark.parametrize("action", ["org.add", "key.create"])
def test_admin_actions_are_recorded(hub: Hub, action: str, tmp_path: Path) -> None:
    seed(hub)
    actions = hub.db.read_sync(lambda c: c.execute(select(audit_log.c.action)).scalars().all())
    assert action in actions
