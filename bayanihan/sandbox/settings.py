"""Sandbox settings, each declared once: name, environment variable, default, help."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str
    help: str

    def get(self) -> str:
        return os.environ.get(self.env, self.default)


SETTINGS = (
    Setting("home", "SANDBOX_HOME", "./bayanihan-sandbox",
            "Directory holding stored suites, runs and report cards"),
    Setting("allowed_hosts", "SANDBOX_ALLOWED_HOSTS", "127.0.0.1,::1,localhost",
            "Comma-separated hosts or networks an HTTP tool may live on"),
    Setting("netns", "SANDBOX_NETNS", "1",
            "1: run tools in a private network namespace when the machine allows; 0: never"),
)
BY_NAME = {s.name: s for s in SETTINGS}


def home() -> Path:
    return Path(BY_NAME["home"].get())


def allowed_hosts() -> list[str]:
    return [h.strip() for h in BY_NAME["allowed_hosts"].get().split(",") if h.strip()]


def netns_wanted() -> bool:
    return BY_NAME["netns"].get() != "0"
