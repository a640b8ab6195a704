"""Sandbox settings, read from the hub's :class:`bayanihan.config.Settings` (one source).

``SETTINGS`` lists the ``sandbox_*`` fields with their environment variables, for the docs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from bayanihan.config import Settings, env_name, load_settings

PREFIX = "sandbox_"


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: object
    help: str


SETTINGS = tuple(Setting(f.name.removeprefix(PREFIX), env_name(f.name), f.default,
                         f.metadata["help"])
                 for f in fields(Settings) if f.name.startswith(PREFIX))


def _current(settings: Settings | None) -> Settings:
    return settings if settings is not None else load_settings()


def home(settings: Settings | None = None) -> Path:
    return Path(_current(settings).sandbox_home)


def allowed_hosts(settings: Settings | None = None) -> list[str]:
    return [h.strip() for h in _current(settings).sandbox_allowed_hosts.split(",") if h.strip()]


def netns_wanted(settings: Settings | None = None) -> bool:
    return _current(settings).sandbox_netns
