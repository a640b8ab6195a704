"""The command line and the HTTP router, as an operator uses them."""

from __future__ import annotations

import httpx
import orjson
import pytest
import typer
from fastapi import FastAPI
from typer.testing import CliRunner

from bayanihan.api import errors
from bayanihan.api.sandbox import get_store, router
from bayanihan.cli.sandbox import sandbox_app
from bayanihan.config import load_settings
from bayanihan.hub import Hub
from bayanihan.sandbox.hub_store import HubSandboxStore
from bayanihan.sandbox.store import DirectoryStore
from bayanihan.sandbox.suite import Path
from bayanihan.sandbox.verdict import Verdict
from bayanihan.store import audit

TINY = Path(__file__).resolve().parents[2] / "bayanihan" / "sandbox" / "suites" / "tiny-text.jsonl"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("BAYANIHAN_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.db'}")
    monkeypatch.setenv("BAYANIHAN_DATA_DIR", str(tmp_path))
    hub = Hub(load_settings())  # first start done here, so commands print only their own output
    hub.open()
    hub.close()
    app = typer.Typer()
    app.add_typer(sandbox_app, name="sandbox")
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["sandbox", *args])


def test_operator_adds_suite_runs_tool_and_reads_the_card(cli, tmp_path, bad_tool_cmd):
    added = cli("suite", "add", "tiny", str(TINY))
    assert added.exit_code == 0, added.output
    assert "tiny v1 12 cases" in added.output
    assert "tiny\tv1\ttext\t12" in cli("suites").output
    out = tmp_path / "cards"
    ran = cli("run", "--tool", bad_tool_cmd, "--suite", "tiny", "--out", str(out),
              "--mutators", "leetspeak,truncation")
    assert ran.exit_code == 0, ran.output
    run_id = ran.output.strip().splitlines()[-1]
    assert run_id.startswith("run-")
    card = orjson.loads((out / "card.json").read_bytes())
    assert card["mutators"] == ["leetspeak", "truncation"]
    assert "<svg" in (out / "card.html").read_text()
    assert run_id in cli("runs").output
    assert orjson.loads(cli("report", run_id).output)["run"]["id"] == run_id
    assert "<html" in cli("report", run_id, "--html").output


def test_bad_suite_file_is_refused_and_nothing_stored(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id":"a","text":"x","label":"ham"}\n{"id":"b","label":"scam"}\n')
    result = cli("suite", "add", "broken", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2" in result.output
    assert cli("suites").output.strip() == ""


def test_unknown_suite_and_unknown_mutator_are_clear_errors(cli, bad_tool_cmd):
    missing = cli("run", "--tool", bad_tool_cmd, "--suite", "nope")
    assert missing.exit_code == 2 and "no stored suite 'nope'" in missing.output
    garbled = cli("run", "--tool", bad_tool_cmd, "--suite", "nope@latest")
    assert garbled.exit_code == 2 and "NAME@VERSION" in garbled.output
    cli("suite", "add", "tiny", str(TINY))
    wrong = cli("run", "--tool", bad_tool_cmd, "--suite", "tiny", "--mutators", "rot13")
    assert wrong.exit_code == 2 and "rot13" in wrong.output
    untrained = cli("run", "--tool", "entrant:lure-matcher", "--suite", "tiny")
    assert untrained.exit_code == 2 and "no positive 'train' cases" in untrained.output
    unknown = cli("run", "--tool", "entrant:nope", "--suite", "tiny")
    assert unknown.exit_code == 2 and "no entrant named 'nope'" in unknown.output
    assert cli("runs").output.strip() == ""


def test_router_lists_suites_and_runs_and_serves_cards(cli, tmp_path, bad_tool_cmd, serve_app):
    cli("suite", "add", "tiny", str(TINY))
    run_id = cli("run", "--tool", bad_tool_cmd, "--suite", "tiny").output.strip().splitlines()[-1]
    hub = Hub(load_settings())  # the database the CLI wrote to; copy its run to a directory
    hub_store = HubSandboxStore(hub.db, audit.Actor.console())
    home = DirectoryStore(tmp_path / "home")
    home.add_suite(hub_store.get_suite("tiny"))
    home.save_run(hub_store.get_card(run_id),
                  [Verdict(**v) for v in hub_store.get_verdicts(run_id)])
    hub.close()
    app = FastAPI()
    errors.install(app)
    app.include_router(router)
    app.dependency_overrides[get_store] = lambda: home
    client = httpx.Client(base_url=serve_app(app))
    assert client.get("/api/v1/sandbox/suites").json()[0]["name"] == "tiny"
    assert client.get("/api/v1/sandbox/runs").json()[0]["id"] == run_id
    assert client.get(f"/api/v1/sandbox/runs/{run_id}/card").json()["run"]["id"] == run_id
    assert "<svg" in client.get(f"/api/v1/sandbox/runs/{run_id}/card.html").text
    missing = client.get("/api/v1/sandbox/runs/run-nope/card")
    assert missing.status_code == 404 and missing.json()["fields"] == ["run"]
    assert client.get("/api/v1/sandbox/runs/..%2Fetc/card").status_code in (400, 404)
    client.close()


def test_operator_trains_the_baseline_and_runs_it(cli, tmp_path):
    cli("suite", "add", "tiny", str(TINY))
    empty = cli("baseline", "train", "tiny", "--out", str(tmp_path / "m.pkl"))
    assert empty.exit_code == 2 and "no 'train' cases" in empty.output
    trained = cli("baseline", "train", "tiny", "--out", str(tmp_path / "m.pkl"),
                  "--split", "test")
    assert trained.exit_code == 0, trained.output
    spec = trained.output.split("--tool '")[1].rstrip("'\n")
    ran = cli("run", "--tool", spec, "--suite", "tiny", "--mutators", "homoglyph")
    assert ran.exit_code == 0, ran.output
    card = orjson.loads(cli("report", ran.output.strip().splitlines()[-1]).output)
    assert card["outcomes_total"]["ok"] == 24
    assert card["metrics"]["overall"]["recall"]["value"] == 1.0  # it has seen these cases
    assert str(tmp_path / "m.pkl") in card["tool"]["hashed"]
