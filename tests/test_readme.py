"""The README's two commands, run literally as a newcomer would, in a copy of the checkout
with a fresh virtual environment (its ``python`` is a symlink: nothing may resolve it).

The test command is run with ``PYTEST_ADDOPTS=--collect-only`` (pytest reads it), so the
install is real and the suite is collected without recursing into itself. The start command
is run with ``BAYANIHAN_DEMO_FAST=1`` and a free ``BAYANIHAN_PORT``; the demo's story is then
checked through the API (``tests/demo/story.py``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import orjson
import pytest

from tests.conftest import need
from tests.demo.story import check_story
from tests.demo.test_demo import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]


def command(marker: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split(f"<!-- {marker} -->")[1].split(f"<!-- /{marker} -->")[0]
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("```")]
    assert len(lines) == 1, lines
    return lines[0]


def checkout_copy(dest: Path) -> Path:
    """The files git tracks (and new files beside them), as a fresh clone would have."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    for name in listed:
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def test_the_readme_has_exactly_two_commands() -> None:
    assert "bayanihan demo" in command("serve-command")
    assert "pytest" in command("test-command")


@pytest.mark.slow
@pytest.mark.timeout(3000)  # a whole install into a new virtual environment
def test_the_readme_commands_work_in_a_fresh_checkout(tmp_path: Path) -> None:
    need("a git checkout with git", shutil.which("git") is not None and (ROOT / ".git").exists())
    copy = checkout_copy(tmp_path / "checkout")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BAYANIHAN_", "VIRTUAL_ENV", "PYTEST_"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(ROOT)))

    tests = subprocess.run(command("test-command"), shell=True, cwd=copy, text=True,
                           capture_output=True, timeout=1800, check=False,
                           env={**env, "PYTEST_ADDOPTS": "--collect-only -q"})
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert "tests collected" in tests.stdout or " collected" in tests.stdout
    assert (copy / ".venv" / "bin" / "python").is_symlink()

    port = free_port()
    proc = subprocess.Popen(command("serve-command"), shell=True, cwd=copy, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**env, "BAYANIHAN_DEMO_FAST": "1", "BAYANIHAN_PORT": str(port),
                                 "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
                            start_new_session=True)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        wait_for(proc.stdout, "demo: scenario complete", proc, lines)
        folder = copy / "bayanihan-demo"
        keys = orjson.loads((folder / "demo-keys.json").read_bytes())
        story = orjson.loads((folder / "demo-story.json").read_bytes())
        check_story(f"http://127.0.0.1:{port}", keys, story["red_report"])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the shell and the demo under it
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
