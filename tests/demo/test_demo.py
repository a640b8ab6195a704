"""``bayanihan demo --fast``: the whole story on a fresh SQLite hub, checked through the API
while the demo hub still serves; then the dashboard as a policy maker sees it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import orjson
import pytest

from tests.conftest import need
from tests.demo.story import check_story

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(stream: IO[str], marker: str, proc: subprocess.Popen[str], lines: list[str],
              limit: int = 400) -> None:
    """Read the demo's lines until ``marker`` (bounded; fails if the demo ends first)."""
    for _ in range(limit):
        line = stream.readline()
        if not line:
            raise AssertionError("the demo ended before " + marker + ":\n" + "".join(lines))
        lines.append(line)
        if marker in line:
            return
    raise AssertionError(f"no {marker!r} in {limit} lines")


def start_demo(command: list[str], folder: Path, port: int, cwd: Path,
               env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in (env or os.environ).items() if not k.startswith("BAYANIHAN_")}
    env.update(BAYANIHAN_DEMO_FAST="1", BAYANIHAN_PORT=str(port), PYTHONUNBUFFERED="1",
               COLUMNS="200")
    return subprocess.Popen([*command, "--folder", str(folder)], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list[str]]]:
    folder = tmp_path_factory.mktemp("demo") / "bayanihan-demo"
    port = free_port()
    proc = start_demo([sys.executable, "-m", "bayanihan.cli", "demo"], folder, port, ROOT)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        wait_for(proc.stdout, "demo: scenario complete", proc, lines)
        yield f"http://127.0.0.1:{port}", folder, lines
    finally:
        stop(proc)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # the fixture replays the whole story first
def test_the_demo_tells_the_story_and_the_api_agrees(demo: tuple[str, Path, list[str]]) -> None:
    need("ffmpeg and fpcalc (Debian ffmpeg, libchromaprint-tools)",
         all(os.path.exists(f"/usr/bin/{tool}") for tool in ("ffmpeg", "fpcalc")))
    base, folder, lines = demo
    text = "".join(lines)
    assert "Traceback" not in text
    assert "[ 1/" in text and "campaigns:" in text
    keys = orjson.loads((folder / "demo-keys.json").read_bytes())
    assert oct((folder / "demo-keys.json").stat().st_mode & 0o777) == "0o600"
    story = orjson.loads((folder / "demo-story.json").read_bytes())
    check_story(base, keys, story["red_report"])


@pytest.mark.slow
@pytest.mark.browser
def test_the_demo_dashboard_for_a_policy_maker(demo: tuple[str, Path, list[str]]) -> None:
    """Sign in as the demo's reader (no second factor for readers) and keep a screenshot."""
    need("chromium (Debian chromium)", os.path.exists("/usr/bin/chromium"))
    from playwright.sync_api import sync_playwright

    base, folder, _ = demo
    name, _org, _role, password = next(
        line.split("\t") for line in (folder / "demo-users.txt").read_text().splitlines()
        if line.startswith("policy-viewer"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(base + "/")
            page.get_by_label("User name").fill(name)
            page.get_by_label("Password").fill(password.strip())
            page.get_by_role("button", name="Continue").click()
            page.wait_for_load_state("networkidle")
            body = page.inner_text("body")
            assert "Overview" in body and "Thailand" in body
            assert "regional alert" in body.lower()
            shots = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
            page.screenshot(path=str(shots / "demo-overview.png"), full_page=False)
        finally:
            browser.close()
