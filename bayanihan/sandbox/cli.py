"""``bayanihan sandbox …``: run tools, manage suites, read report cards."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from . import baseline, settings
from .entrants import entrant_spec
from .errors import SandboxError
from .harness import RunOptions, RunResult, run
from .isolation import Limits
from .policy import load_evidence, load_policy
from .render import render_html
from .store import DirectoryStore
from .suite import KINDS, load_suite
from .tools import parse_tool

sandbox_app = typer.Typer(help="Regulatory sandbox: test AI security tools in isolation.",
                          no_args_is_help=True)
suite_app = typer.Typer(help="Manage test suites.", no_args_is_help=True)
baseline_app = typer.Typer(help="The reference baseline classifier.", no_args_is_help=True)
sandbox_app.add_typer(suite_app, name="suite")
sandbox_app.add_typer(baseline_app, name="baseline")
console = Console(stderr=True)


def _store() -> DirectoryStore:
    return DirectoryStore(settings.home())


def _fail(exc: SandboxError) -> typer.Exit:
    console.print(f"[red]error[/red] {exc.field}: {exc.reason}")
    return typer.Exit(2)


def _with_progress(job):
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("cases", total=None)
        return job(lambda done, total: bar.update(task, completed=done, total=total))


@sandbox_app.command("run")
def run_cmd(
    tool: Annotated[str, typer.Option(
        help="cmd:PROGRAM ARGS | py:module:function | http://… | entrant:NAME")],
    suite: Annotated[str, typer.Option(help="Stored suite name (NAME or NAME@VERSION)")],
    policy: Annotated[Path | None, typer.Option(help="TOML policy (default: built-in)")] = None,
    evidence: Annotated[Path | None, typer.Option(help="TOML vendor-evidence answers")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write card.json/card.html here")] = None,
    seed: int = 0,
    split: Annotated[str, typer.Option(help="test, train or all")] = "test",
    mutators: Annotated[str | None, typer.Option(help="Comma-separated; default all")] = None,
    case_timeout: float = 5.0,
    run_timeout: float = 3600.0,
    memory_mb: int = 1024,
    batch_size: int = 512,
    pythonpath: Annotated[list[Path] | None, typer.Option(help="Folders for py: tools")] = None,
) -> None:
    """Run a tool against a suite and its adversarial variants; store the report card."""
    store = _store()
    try:
        name, _, version = suite.partition("@")
        chosen = store.get_suite(name, int(version) if version else None)
        if tool.startswith("entrant:"):
            tool = entrant_spec(tool.removeprefix("entrant:"))
        spec = parse_tool(tool, [str(p) for p in pythonpath or []], settings.allowed_hosts())
        answers = None
        if evidence is not None:
            answers = load_evidence(tomllib.loads(evidence.read_text()).get("checklist", []),
                                    f"{evidence}:checklist")
        options = RunOptions(
            seed=seed, split=split, evidence=answers, netns=settings.netns_wanted(),
            mutators=[m.strip() for m in mutators.split(",") if m.strip()] if mutators else None,
            limits=Limits(case_timeout=case_timeout, run_timeout=run_timeout,
                          memory_bytes=memory_mb << 20, batch_size=batch_size))
        result: RunResult = _with_progress(
            lambda cb: run(spec, chosen, load_policy(policy), options, cb))
    except SandboxError as exc:
        raise _fail(exc) from None
    run_id = store.save_run(result.card, result.verdicts)
    if out is not None:
        write_card(result.card, out)
    _summary(result.card)
    typer.echo(run_id)


def write_card(card: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "card.json").write_bytes(orjson.dumps(card, option=orjson.OPT_INDENT_2))
    (out / "card.html").write_text(render_html(card))


def _summary(card: dict) -> None:
    table = Table(title=f"{card['grade'].upper()}: {card['tool']['spec']} on "
                        f"{card['suite']['name']} v{card['suite']['version']}")
    for col in ("criterion", "threshold", "verdict"):
        table.add_column(col)
    for c in card["criteria"]:
        colour = {"pass": "green", "fail": "red"}.get(c["verdict"], "yellow")
        table.add_row(c["title"], str(c["threshold"]), f"[{colour}]{c['verdict']}[/{colour}]")
    console.print(table)
    console.print(f"isolation: {card['isolation']['network']}")


@suite_app.command("add")
def suite_add(
    name: str, file: Path,
    kind: Annotated[str, typer.Option(help=f"One of {', '.join(KINDS)}")] = "text",
    positive: Annotated[str | None, typer.Option(help="Comma-separated positive labels")] = None,
) -> None:
    """Add FILE (JSON Lines) as a new version of suite NAME."""
    try:
        labels = [p.strip() for p in positive.split(",")] if positive else None
        meta = _store().add_suite(load_suite(file, name=name, kind=kind, positive=labels))
    except SandboxError as exc:
        raise _fail(exc) from None
    typer.echo(f"{meta['name']} v{meta['version']} {meta['cases']} cases sha256 {meta['sha256']}")


@sandbox_app.command("suites")
def suites_cmd() -> None:
    """List stored suites and versions."""
    for meta in _store().list_suites():
        typer.echo(f"{meta['name']}\tv{meta['version']}\t{meta['kind']}\t{meta['cases']}\t"
                   f"{meta['sha256']}")


@sandbox_app.command("runs")
def runs_cmd() -> None:
    """List stored runs with their grade."""
    for r in _store().list_runs():
        typer.echo(f"{r['id']}\t{r['grade']}\t{r['suite']} v{r['suite_version']}\t{r['tool']}")


@sandbox_app.command("report")
def report_cmd(run_id: str, html: bool = False) -> None:
    """Print a stored report card (JSON, or HTML with --html)."""
    try:
        store = _store()
        typer.echo(store.get_card_html(run_id) if html else
                   orjson.dumps(store.get_card(run_id), option=orjson.OPT_INDENT_2).decode())
    except SandboxError as exc:
        raise _fail(exc) from None


@baseline_app.command("train")
def baseline_train(
    suite: str, out: Annotated[Path, typer.Option(help="Model file to write")],
    split: str = "train",
) -> None:
    """Fit the char n-gram TF-IDF + logistic regression baseline on a suite's split."""
    try:
        trained = baseline.train(_store().get_suite(suite), out, split)
    except SandboxError as exc:
        raise _fail(exc) from None
    typer.echo(f"trained on {trained['cases']} cases of {trained['suite']} "
               f"v{trained['version']}; run it with --tool '{baseline.tool_spec(out)}'")
