"""The sandbox inside the hub: runs stored and audited in the hub database, cards published
to members through the access policy, operator-only API, the hub CLI, the lure-matcher entrant."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from bayanihan.cli import app as hub_cli
from bayanihan.hub import Hub
from bayanihan.sandbox.entrants import entrant_tool
from bayanihan.sandbox.errors import SandboxError
from bayanihan.sandbox.harness import RunOptions, RunResult, run
from bayanihan.sandbox.hub_store import HubSandboxStore
from bayanihan.sandbox.publication import EXTENSION_ID, REPORT_TYPE
from bayanihan.sandbox.suite import Suite, shipped_suite
from bayanihan.sandbox.tables import sandbox_suite
from bayanihan.store import audit
from tests.conftest import RunningHub

TINY = Path(__file__).resolve().parents[2] / "bayanihan" / "sandbox" / "suites" / "tiny-text.jsonl"


@pytest.fixture(scope="module")
def lure_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """The hub's lure matcher on the shipped tiny suite, indexed from its (only) test split."""
    suite = shipped_suite()
    tool = entrant_tool("lure-matcher", suite, tmp_path_factory.mktemp("entrant"), "test")
    return run(tool, suite, options=RunOptions(mutators=["truncation", "leetspeak"]))


def _entries(hub: Hub, action: str) -> list[dict]:
    rows = hub.db.read_sync(lambda c: list(audit.entries(c)))
    return [{"objects": orjson.loads(r.object_ids), "actor": r.actor_org,
             **orjson.loads(r.detail)} for r in rows if r.action == action]


def _hub_with_run(make_hub: Callable[..., RunningHub],
                  result: RunResult) -> tuple[RunningHub, str]:
    rh = make_hub()
    return rh, HubSandboxStore(rh.hub.db, audit.Actor.console()).save_run(result.card,
                                                                          result.verdicts)


def test_lure_matcher_entrant_produces_a_card(lure_run: RunResult) -> None:
    card = lure_run.card
    assert card["tool"]["spec"].startswith("entrant:lure-matcher (threshold 0.3, 7 lures")
    assert card["outcomes_total"]["ok"] == 12 * 3  # clean + two mutators, nothing failed
    overall = card["metrics"]["overall"]
    assert overall["recall"]["value"] == 1.0  # every scam is one of its own lures
    assert overall["fpr"]["value"] == 0.0  # no ham text resembles a lure
    assert card["robustness"]["leetspeak"]["recall"] < 1.0  # 4→a breaks shingles


def test_lure_matcher_tool_hash_is_reproducible(tmp_path: Path) -> None:
    suite = shipped_suite()
    first = entrant_tool("lure-matcher", suite, tmp_path / "a", "test")
    again = entrant_tool("lure-matcher", suite, tmp_path / "b", "test")
    assert first.sha256 == again.sha256 and first.argv != again.argv
    fewer = Suite(suite.name, suite.kind, suite.cases[1:], suite.positive)
    assert entrant_tool("lure-matcher", fewer, tmp_path / "c", "test").sha256 != first.sha256


def test_lure_matcher_needs_positive_training_cases(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="no positive 'train' cases"):
        entrant_tool("lure-matcher", shipped_suite(), tmp_path, "train")
    with pytest.raises(SandboxError, match="no entrant named 'nope'"):
        entrant_tool("nope", shipped_suite(), tmp_path)


def test_run_is_stored_in_the_hub_database_and_audited(hub: Hub, lure_run: RunResult) -> None:
    store = HubSandboxStore(hub.db, audit.Actor.console())
    first = store.add_suite(shipped_suite())
    assert store.add_suite(shipped_suite())["version"] == first["version"] == 1
    run_id = store.save_run(lure_run.card, lure_run.verdicts)
    assert store.get_card(run_id) == lure_run.card
    assert len(store.get_verdicts(run_id)) == len(lure_run.verdicts)
    assert "<svg" in store.get_card_html(run_id)
    assert [r["id"] for r in store.list_runs()] == [run_id]
    with pytest.raises(SandboxError, match="already stored"):
        store.save_run(lure_run.card, lure_run.verdicts)
    assert hub.db.read_sync(audit.verify) is None
    [stored] = _entries(hub, "sandbox.run.store")
    assert stored["objects"] == [run_id]
    assert stored["suite_sha256"] == shipped_suite().sha256
    assert stored["tool_sha256"] == lure_run.card["tool"]["sha256"]
    assert stored["verdict"] == lure_run.card["grade"]
    [added] = _entries(hub, "sandbox.suite.add")
    assert added["suite_sha256"] == shipped_suite().sha256


def test_tampered_suite_is_refused(hub: Hub) -> None:
    store = HubSandboxStore(hub.db, audit.Actor.console())
    store.add_suite(shipped_suite())
    hub.db.write_sync(lambda c: c.execute(update(sandbox_suite).values(
        content=TINY.read_bytes().replace(b"parcel", b"letter"))))
    with pytest.raises(SandboxError, match="does not match its hash"):
        store.get_suite("tiny-text")


def test_published_cards_follow_the_access_policy(
        make_hub: Callable[..., RunningHub], lure_run: RunResult) -> None:
    rh, run_id = _hub_with_run(make_hub, lure_run)
    operator = rh.client("HUB", "admin")
    green = operator.post(f"/api/v1/sandbox/runs/{run_id}/publish", json={"tlp": "green"})
    assert green.status_code == 201, green.text
    report_id = green.json()["id"]
    seen = rh.client("VN", "reader").get(f"/api/v1/objects/{report_id}")
    assert seen.status_code == 200, seen.text
    [version] = seen.json()["versions"]
    assert version["tlp"] == "green"
    report = version["object"]
    assert report["report_types"] == [REPORT_TYPE]
    assert report["extensions"][EXTENSION_ID]["card"]["run"]["id"] == run_id
    assert rh.client().get(f"/api/v1/objects/{report_id}").status_code in (401, 404)
    assert rh.client().get(f"/api/v1/objects/{EXTENSION_ID}").status_code == 200  # CLEAR

    red = operator.post(f"/api/v1/sandbox/runs/{run_id}/publish",
                        json={"tlp": "red", "audience": ["th"]})
    assert red.status_code == 201, red.text
    red_id = red.json()["id"]
    assert red.json()["audience"] == ["TH"]
    assert rh.client("TH", "reader").get(f"/api/v1/objects/{red_id}").status_code == 200
    for other in ("VN", "SG", "TH-BANK"):
        assert rh.client(other, "reader").get(f"/api/v1/objects/{red_id}").status_code == 404

    no_audience = operator.post(f"/api/v1/sandbox/runs/{run_id}/publish", json={"tlp": "red"})
    assert no_audience.status_code == 400 and "audience" in no_audience.text
    bad_tlp = operator.post(f"/api/v1/sandbox/runs/{run_id}/publish", json={"tlp": "purple"})
    assert bad_tlp.status_code == 400 and "purple" in bad_tlp.text
    missing = operator.post("/api/v1/sandbox/runs/run-nope/publish", json={"tlp": "green"})
    assert missing.status_code == 404

    published = _entries(rh.hub, "sandbox.card.publish")
    assert [(p["object"], p["tlp"], p["audience"]) for p in published] == [
        (report_id, "green", None), (red_id, "red", ["TH"])]
    assert all(p["tool_sha256"] == lure_run.card["tool"]["sha256"] for p in published)
    assert rh.hub.db.read_sync(audit.verify) is None


def test_sandbox_api_is_for_hub_operator_admins_only(
        make_hub: Callable[..., RunningHub], lure_run: RunResult) -> None:
    rh, run_id = _hub_with_run(make_hub, lure_run)
    operator = rh.client("HUB", "admin")
    assert [r["id"] for r in operator.get("/api/v1/sandbox/runs").json()] == [run_id]
    assert operator.get(f"/api/v1/sandbox/runs/{run_id}/card").json()["grade"] == \
        lure_run.card["grade"]
    assert operator.get("/api/v1/sandbox/runs/run-nope/card").status_code == 404
    assert rh.client().get("/api/v1/sandbox/runs").status_code == 401
    for org, role in (("HUB", "analyst"), ("TH", "admin"), ("TH", "reader")):
        client = rh.client(org, role)
        assert client.get("/api/v1/sandbox/runs").status_code == 403, (org, role)
        assert client.post(f"/api/v1/sandbox/runs/{run_id}/publish",
                           json={"tlp": "clear"}).status_code == 403
    assert _entries(rh.hub, "sandbox.card.publish") == []


def test_hub_cli_runs_lists_reports_and_publishes_on_the_hub_database(
        hub: Hub, tmp_path: Path) -> None:
    runner = CliRunner()
    db = ["--database", hub.settings.database()]

    def cli(*args: str) -> str:
        result = runner.invoke(hub_cli, ["sandbox", *args, *db])
        assert result.exit_code == 0, result.output
        return result.output

    assert "tiny v1 12 cases" in cli("suite", "add", "tiny", str(TINY))
    run_id = cli("run", "--tool", "entrant:lure-matcher", "--suite", "tiny", "--train-split",
                 "test", "--mutators", "truncation", "--out", str(tmp_path / "card"))
    run_id = run_id.strip().splitlines()[-1]
    assert run_id in cli("runs")
    card = orjson.loads(cli("report", run_id))
    assert card == orjson.loads((tmp_path / "card" / "card.json").read_bytes())
    assert HubSandboxStore(hub.db, audit.Actor.console()).get_card(run_id) == card
    assert "published" in cli("publish", run_id, "--tlp", "amber")
    refused = runner.invoke(hub_cli, ["sandbox", "publish", run_id, "--tlp", "red", *db])
    assert refused.exit_code == 2 and "audience" in refused.output
    assert [e["run"] for e in _entries(hub, "sandbox.run.store")] == [run_id]
    assert len(_entries(hub, "sandbox.card.publish")) == 1


def test_migration_matches_the_sandbox_tables(hub: Hub) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from bayanihan.sandbox import tables
    from bayanihan.store.schema import metadata

    mine = {t.name for t in (tables.sandbox_suite, tables.sandbox_run, tables.sandbox_publication)}

    def touches_mine(diff: object) -> bool:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:  # type: ignore[index]
            table = part if hasattr(part, "columns") else getattr(part, "table", None)
            name = getattr(table, "name", None) or (part if isinstance(part, str) else None)
            if name in mine:
                return True
        return False

    with hub.db.read_engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if touches_mine(d)] == []
