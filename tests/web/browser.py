"""Driving Debian's Chromium headless with Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningHub, need
from tests.web.conftest import Person

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def browser() -> Iterator[Any]:
    need("chromium at /usr/bin/chromium", os.access(CHROMIUM, os.X_OK))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("the playwright package", False)
        raise
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def only_hub(context: Any, url: str) -> None:
    """Abort every request that is not to the hub: the pages must need no network."""
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url)
                  else route.abort())


def sign_in_page(rh: RunningHub, page: Any, person: Person, shots: bool = False) -> None:
    page.goto(rh.url + "/signin")
    page.get_by_label("User name").fill(person.username)
    page.get_by_label("Password").fill(person.password)
    if shots:
        shot(page, "signin")
    page.get_by_role("button", name="Continue").click()
    if person.role != "reader":
        page.wait_for_url("**/signin/second-factor")
        if shots:
            shot(page, "second-factor")
        page.get_by_label("Code from your authenticator app").fill(person.code(rh))
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(rh.url + "/")


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
