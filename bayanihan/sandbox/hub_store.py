"""``HubSandboxStore``: the ``SandboxStore`` Protocol on the hub database, audit-logged.

Every write runs in one transaction with its audit entry (``sandbox.suite.add``,
``sandbox.run.store``), so a suite or run is stored with its audit record or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from bayanihan.model.stix import now_us
from bayanihan.store import audit
from bayanihan.store.database import Database

from .errors import NotFound, SandboxError
from .render import render_html
from .store import check_name
from .suite import Suite, dump_cases, parse_lines
from .tables import sandbox_run, sandbox_suite
from .verdict import Verdict


class HubSandboxStore:
    """Suites, runs and report cards in the hub database; ``actor`` is who writes."""

    def __init__(self, db: Database, actor: audit.Actor) -> None:
        self.db = db
        self.actor = actor

    # -- suites ------------------------------------------------------------------------
    def add_suite(self, suite: Suite) -> dict[str, Any]:
        """Store a new version, unless the latest version already has this content."""
        check_name(suite.name, "NAME")
        return self.db.write_sync(self._add_suite, suite)

    def _add_suite(self, conn: Connection, suite: Suite) -> dict[str, Any]:
        latest = conn.execute(
            select(sandbox_suite.c.version, sandbox_suite.c.sha256, sandbox_suite.c.kind,
                   sandbox_suite.c.meta)
            .where(sandbox_suite.c.name == suite.name)
            .order_by(sandbox_suite.c.version.desc()).limit(1)).first()
        if latest and latest.sha256 == suite.sha256 and latest.kind == suite.kind:
            return orjson.loads(latest.meta)  # type: ignore[no-any-return]
        version = latest.version + 1 if latest else 1
        stored = Suite(suite.name, suite.kind, suite.cases, suite.positive, version,
                       suite.description)
        meta = stored.meta()
        conn.execute(sandbox_suite.insert().values(
            name=stored.name, version=version, kind=stored.kind, sha256=stored.sha256,
            cases=len(stored.cases), meta=orjson.dumps(meta).decode(),
            content=b"".join(dump_cases(stored.cases)), added_us=now_us(),
            added_by=self.actor.org))
        audit.record(conn, self.actor, "sandbox.suite.add", [f"{stored.name}@{version}"],
                     {"suite": stored.name, "version": version, "suite_sha256": stored.sha256,
                      "cases": len(stored.cases), "kind": stored.kind})
        return meta

    def get_suite(self, name: str, version: int | None = None) -> Suite:
        check_name(name, "suite")
        row = self.db.read_sync(_suite_row, name, version)
        if row is None:
            raise NotFound("suite", f"no stored suite {name!r}"
                           + (f" version {version}" if version else ""))
        meta = orjson.loads(row.meta)
        where = f"suite {name} v{row.version}"
        cases = parse_lines(bytes(row.content).splitlines(), where, meta["kind"])
        suite = Suite(name, meta["kind"], tuple(cases), tuple(meta["positive"]), row.version,
                      meta.get("description"))
        if suite.sha256 != row.sha256:
            raise SandboxError(where, "content does not match its hash")
        return suite

    def list_suites(self) -> list[dict[str, Any]]:
        rows = self.db.read_sync(lambda c: c.execute(
            select(sandbox_suite.c.meta)
            .order_by(sandbox_suite.c.name, sandbox_suite.c.version)).all())
        return [orjson.loads(r.meta) for r in rows]

    # -- runs --------------------------------------------------------------------------
    def save_run(self, card: dict[str, Any], verdicts: Iterable[Verdict]) -> str:
        run_id = check_name(card["run"]["id"], "run")
        blob = b"".join(orjson.dumps(v.to_dict()) + b"\n" for v in verdicts)
        self.db.write_sync(self._save_run, run_id, card, blob)
        return run_id

    def _save_run(self, conn: Connection, run_id: str, card: dict[str, Any], blob: bytes) -> None:
        if conn.execute(select(func.count()).where(sandbox_run.c.run_id == run_id)).scalar():
            raise SandboxError("run", f"run {run_id!r} is already stored")
        suite, tool = card["suite"], card["tool"]
        conn.execute(sandbox_run.insert().values(
            run_id=run_id, suite_name=suite["name"], suite_version=suite["version"],
            suite_sha256=suite["sha256"], tool_spec=tool["spec"], tool_sha256=tool["sha256"],
            seed=card["seed"], grade=card["grade"], started=card["run"]["started"],
            card=orjson.dumps(card).decode(), verdicts=blob, stored_us=now_us(),
            stored_by=self.actor.org))
        audit.record(conn, self.actor, "sandbox.run.store", [run_id], run_detail(card))

    def get_card(self, run_id: str) -> dict[str, Any]:
        return orjson.loads(self._column(run_id, sandbox_run.c.card))  # type: ignore[no-any-return]

    def get_card_html(self, run_id: str) -> str:
        return render_html(self.get_card(run_id))

    def get_verdicts(self, run_id: str) -> list[dict[str, Any]]:
        blob = bytes(self._column(run_id, sandbox_run.c.verdicts))
        return [orjson.loads(line) for line in blob.splitlines() if line]

    def _column(self, run_id: str, column: Any) -> Any:
        check_name(run_id, "run")
        value = self.db.read_sync(lambda c: c.execute(
            select(column).where(sandbox_run.c.run_id == run_id)).scalar())
        if value is None:
            raise NotFound("run", f"no stored run {run_id!r}")
        return value

    def list_runs(self) -> list[dict[str, Any]]:
        rows = self.db.read_sync(lambda c: c.execute(
            select(sandbox_run.c.run_id, sandbox_run.c.started, sandbox_run.c.tool_spec,
                   sandbox_run.c.suite_name, sandbox_run.c.suite_version, sandbox_run.c.grade)
            .order_by(sandbox_run.c.started, sandbox_run.c.run_id)).all())
        return [{"id": r.run_id, "started": r.started, "tool": r.tool_spec, "suite": r.suite_name,
                 "suite_version": r.suite_version, "grade": r.grade} for r in rows]


def run_detail(card: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps about a run: enough to find and reproduce it."""
    return {"run": card["run"]["id"], "suite": card["suite"]["name"],
            "suite_version": card["suite"]["version"], "suite_sha256": card["suite"]["sha256"],
            "tool": card["tool"]["spec"], "tool_sha256": card["tool"]["sha256"],
            "seed": card["seed"], "verdict": card["grade"], "failing": card.get("failing", [])}


def _suite_row(conn: Connection, name: str, version: int | None) -> Any:
    query = select(sandbox_suite).where(sandbox_suite.c.name == name)
    if version is not None:
        query = query.where(sandbox_suite.c.version == version)
    return conn.execute(query.order_by(sandbox_suite.c.version.desc()).limit(1)).first()
