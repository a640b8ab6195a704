"""``bayanihan sandbox …``: run tools, manage suites, read report cards."""

from __future__ import annotations

import asyncio
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from bayanihan.cli.common import DatabaseOpt, opened
from bayanihan.errors import BayanihanError
from bayanihan.hub import Hub
from bayanihan.sandbox import settings
from bayanihan.sandbox.errors import SandboxError
from bayanihan.sandbox.hub_store import HubSandboxStore
from bayanihan.sandbox.policy import load_evidence, load_policy
from bayanihan.sandbox.publication import parse_tlp, publish
from bayanihan.sandbox.render import render_html
from bayanihan.sandbox.suite import KINDS, load_suite
from bayanihan.sandbox.tools import parse_tool
from bayanihan.store import audit

sandbox_app = typer.Typer(help="Regulatory sandbox: test AI security tools in isolation.",
                          no_args_is_help=True)
suite_app = typer.Typer(help="Manage test suites.", no_args_is_help=True)
baseline_app = typer.Typer(help="The reference baseline classifier.", no_args_is_help=True)
sandbox_app.add_typer(suite_app, name="suite")
sandbox_app.add_typer(baseline_app, name="baseline")
console = Console(stderr=True)
T = TypeVar("T")



@contextmanager
def _hub(database: str | None) -> Iterator[Hub]:
    with opened(database) as hub:
        yield hub


@contextmanager
def _store(database: str | None) -> Iterator[HubSandboxStore]:
    """The hub database's sandbox store; the console is the audited actor."""
    with _hub(database) as hub:
        yield HubSandboxStore(hub.db, audit.Actor.console())


def _guarded(fn: Callable[[], T]) -> T:
    """Turn sandbox and hub errors into a clear message and exit status 2."""
    try:
        return fn()
    except SandboxError as exc:
        console.print(f"[red]error[/red] {exc.field}: {exc.reason}")
    except BayanihanError as exc:
        console.print(f"[red]error[/red] {', '.join(exc.fields) or 'input'}: {exc.detail}")
    raise typer.Exit(2)


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
    seed: Annotated[int, typer.Option(help="Seed of the adversarial mutators (same seed, same cases).")] = 0,
    split: Annotated[str, typer.Option(help="test, train or all")] = "test",
    train_split: Annotated[str, typer.Option(
        help="Split an entrant learns from (entrant:NAME only)")] = "train",
    mutators: Annotated[str | None, typer.Option(help="Comma-separated; default all")] = None,
    case_timeout: Annotated[float, typer.Option(help="Seconds the tool has per case.")] = 5.0,
    run_timeout: Annotated[float, typer.Option(help="Seconds the whole run may take.")] = 3600.0,
    memory_mb: Annotated[int, typer.Option(help="Memory limit of the tool, MiB.")] = 1024,
    batch_size: Annotated[int, typer.Option(help="Cases sent to the tool at a time.")] = 512,
    pythonpath: Annotated[list[Path] | None, typer.Option(help="Folders for py: tools")] = None,
    unsafe_no_isolation: Annotated[bool, typer.Option(
        "--unsafe-no-isolation",
        help="Run even where bubblewrap cannot (no user namespaces); the card says "
             "'not isolated'")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Run a tool against a suite and its adversarial variants; store the report card.

    Exits 1 when every case crashed (the card shows the first crash's stderr)."""
    # scikit-learn and the harness: only when running
    from bayanihan.sandbox.entrants import entrant_tool
    from bayanihan.sandbox.harness import RunOptions, RunResult, run
    from bayanihan.sandbox.isolation import Limits, hub_paths

    answers = None
    if evidence is not None:
        answers = _guarded(lambda: load_evidence(
            tomllib.loads(evidence.read_text()).get("checklist", []), f"{evidence}:checklist"))
    with _hub(database) as hub, tempfile.TemporaryDirectory(prefix="bayanihan-entrant-") as tmp:
        Path(tmp).chmod(0o755)
        store = HubSandboxStore(hub.db, audit.Actor.console())
        options = RunOptions(
            seed=seed, split=split, evidence=answers, netns=settings.netns_wanted(hub.settings),
            unsafe_no_isolation=unsafe_no_isolation,
            hidden=hub_paths(hub.settings.data_dir, hub.settings.database()),
            mutators=[m.strip() for m in mutators.split(",") if m.strip()] if mutators else None,
            limits=Limits(case_timeout=case_timeout, run_timeout=run_timeout,
                          memory_bytes=memory_mb << 20, batch_size=batch_size))
        chosen = _guarded(lambda: store.get_suite(*_suite_ref(suite)))
        if tool.startswith("entrant:"):
            spec = _guarded(lambda: entrant_tool(tool.removeprefix("entrant:"), chosen,
                                                 Path(tmp), train_split))
        else:
            spec = _guarded(lambda: parse_tool(tool, [str(p) for p in pythonpath or []],
                                               settings.allowed_hosts(hub.settings)))
        rules = _guarded(lambda: load_policy(policy))
        result: RunResult = _guarded(lambda: _with_progress(
            lambda cb: run(spec, chosen, rules, options, cb)))
        run_id = _guarded(lambda: store.save_run(result.card, result.verdicts))
    if out is not None:
        write_card(result.card, out)
    _summary(result.card)
    typer.echo(run_id)
    if result.card.get("all_crashed"):
        crash = result.card.get("first_crash") or {}
        console.print(f"[red]every case crashed[/red]; first ({crash.get('case')}, "
                      f"{crash.get('ended')}):\n{crash.get('stderr_tail', '')[-1000:]}")
        raise typer.Exit(1)


def _suite_ref(text: str) -> tuple[str, int | None]:
    name, _, version = text.partition("@")
    if version and not version.isdigit():
        raise SandboxError("--suite", f"expected NAME or NAME@VERSION (a number), not {text!r}")
    return name, int(version) if version else None


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
    console.print(f"{card.get('headline', card['grade'].upper())}; isolation: "
                  f"{card['isolation'].get('headline', '')}; network: "
                  f"{card['isolation']['network']}")


@suite_app.command("add")
def suite_add(
    name: str, file: Path,
    kind: Annotated[str, typer.Option(help=f"One of {', '.join(KINDS)}")] = "text",
    positive: Annotated[str | None, typer.Option(help="Comma-separated positive labels")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Add FILE (JSON Lines) as a new version of suite NAME."""
    labels = [p.strip() for p in positive.split(",")] if positive else None
    loaded = _guarded(lambda: load_suite(file, name=name, kind=kind, positive=labels))
    with _store(database) as store:
        meta = _guarded(lambda: store.add_suite(loaded))
    typer.echo(f"{meta['name']} v{meta['version']} {meta['cases']} cases sha256 {meta['sha256']}")


@sandbox_app.command("suites")
def suites_cmd(database: DatabaseOpt = None) -> None:
    """List stored suites and versions."""
    with _store(database) as store:
        for meta in store.list_suites():
            typer.echo(f"{meta['name']}\tv{meta['version']}\t{meta['kind']}\t{meta['cases']}\t"
                       f"{meta['sha256']}")


@sandbox_app.command("runs")
def runs_cmd(database: DatabaseOpt = None) -> None:
    """List stored runs with their grade."""
    with _store(database) as store:
        for r in store.list_runs():
            typer.echo(f"{r['id']}\t{r['grade']}\t{r['suite']} v{r['suite_version']}\t"
                       f"{r['tool']}")


@sandbox_app.command("report")
def report_cmd(run_id: Annotated[str, typer.Argument(help="The run id (`sandbox runs`).")],
               html: Annotated[bool, typer.Option(help="The HTML card instead of JSON.")] = False,
               database: DatabaseOpt = None) -> None:
    """Print a stored report card (JSON, or HTML with --html)."""
    with _store(database) as store:
        text = _guarded(lambda: store.get_card_html(run_id) if html else orjson.dumps(
            store.get_card(run_id), option=orjson.OPT_INDENT_2).decode())
    typer.echo(text)


@sandbox_app.command("publish")
def publish_cmd(
    run_id: str,
    tlp: Annotated[str, typer.Option(help="clear, green, amber, amber+strict or red")],
    audience: Annotated[str | None, typer.Option(
        help="Comma-separated org codes (required for red)")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Publish a run's card to members as a STIX report at TLP (as the hub operator)."""
    from bayanihan.ingest.bundles import Submitter
    from bayanihan.store import organisations as orgs

    names = [c for c in audience.split(",") if c.strip()] if audience else None
    level = _guarded(lambda: parse_tlp(tlp))
    with _hub(database) as hub:
        hub_org = hub.db.read_sync(orgs.require, orgs.HUB_CODE)
        submitter = Submitter(hub_org.code, hub_org.identity_id, hub_org.kind)
        done = _guarded(lambda: asyncio.run(publish(hub, run_id, level, names, submitter)))
    typer.echo(f"published {done['run']} as {done['id']} at TLP:{done['tlp'].upper()}"
               + (f" to {','.join(done['audience'])}" if done["audience"] else ""))


@baseline_app.command("train")
def baseline_train(
    suite: str, out: Annotated[Path, typer.Option(help="Model file to write")],
    split: Annotated[str, typer.Option(help="The suite split to learn from.")] = "train",
    database: DatabaseOpt = None,
) -> None:
    """Fit the char n-gram TF-IDF + logistic regression baseline on a suite's split."""
    from bayanihan.sandbox import baseline

    with _store(database) as store:
        trained = _guarded(lambda: baseline.train(store.get_suite(suite), out, split))
    typer.echo(f"trained on {trained['cases']} cases of {trained['suite']} "
               f"v{trained['version']}; run it with --tool '{baseline.tool_spec(out)}'")
