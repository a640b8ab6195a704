"""The docs stay honest: every route, command and setting is documented somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from bayanihan.api.app import create_app
from bayanihan.cli import app as cli_app
from bayanihan.config import Settings, setting_table

ROOT = Path(__file__).resolve().parents[1]


def all_docs() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))) + (
        ROOT / "README.md").read_text()


def test_every_http_route_is_documented(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'never-opened.db'}"))
    docs = all_docs()
    paths = {getattr(r, "path", "") for r in app.routes} | set(app.openapi()["paths"])
    def documented(path: str) -> bool:  # a parameter may be named differently in the docs
        pattern = re.sub(r"\\\{[^}]*\\\}", r"\\{[^}]+\\}", re.escape(path))
        return re.search(pattern + r"(?![\w/{])", docs) is not None

    missing = sorted(p for p in paths
                     if p and not p.startswith(("/docs", "/redoc", "/openapi")) and not documented(p))
    assert not missing, f"routes missing from docs/: {missing}"


def test_every_command_is_documented() -> None:
    docs = all_docs()
    missing: list[str] = []

    def walk(command: object, prefix: str) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            full = f"{prefix} {name}"
            if hasattr(sub, "commands"):
                walk(sub, full)
            elif full not in docs:
                missing.append(full)

    walk(typer.main.get_command(cli_app), "bayanihan")
    assert not missing, f"commands missing from docs/: {missing}"


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = [env for _, env, _, _ in setting_table() if env not in text]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"


def test_the_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- test-command -->")[1].split("<!-- /test-command -->")[0]
    command = [line for line in block.splitlines() if line and not line.startswith("```")]
    assert len(command) == 1 and "pytest" in command[0]
    assert "test-command" in (ROOT / ".ci" / "run").read_text()
