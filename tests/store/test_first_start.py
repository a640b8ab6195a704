"""First start, settings, and the command line a hub operator uses."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bayanihan.cli import app
from bayanihan.config import Settings, load_settings
from bayanihan.hub import ADMIN_KEY_FILE, Hub
from bayanihan.store import keys
from bayanihan.store import organisations as orgs

runner = CliRunner()


def test_first_start_makes_the_operator_and_a_private_admin_key(settings: Settings) -> None:
    hub = Hub(settings)
    try:
        path = hub.open()
        assert path is not None and Path(path).name == ADMIN_KEY_FILE
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        key = Path(path).read_text().strip()
        info = hub.db.read_sync(keys.lookup, key)
        assert info is not None and info.role is keys.Role.ADMIN and info.org == orgs.HUB_CODE
        assert hub.open() is None  # the second start changes nothing
    finally:
        hub.close()


def test_org_and_key_commands(database_url: str, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = ["--database", database_url]
    result = runner.invoke(app, ["org", "seed-asean", *db])
    assert result.exit_code == 0 and "added 11" in result.output
    result = runner.invoke(app, ["org", "add", "TH-BANK", "--name", "A Thai bank", "--kind",
                                 "downstream", "--parent", "TH", *db])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["org", "add", "X1", "--name", "orphan", "--kind", "downstream", *db])
    assert result.exit_code == 2 and "parent" in result.output
    result = runner.invoke(app, ["key", "create", "--org", "TH", "--role", "reader", "--expires", "30",
                                 *db])
    assert result.exit_code == 0
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("bh_")
    listing = runner.invoke(app, ["key", "list", "--org", "TH", *db]).output
    assert "reader" in listing and key not in listing


def test_settings_come_from_toml_then_environment(tmp_path: Path) -> None:
    toml = tmp_path / "hub.toml"
    toml.write_text('[bayanihan]\nport = 9000\nmax_request_bytes = 1000\nstore_samples = true\n')
    s = load_settings(toml, environ={"BAYANIHAN_PORT": "9100"})
    assert (s.port, s.max_request_bytes, s.store_samples) == (9100, 1000, True)
    with pytest.raises(ValueError, match="unknown setting"):
        (tmp_path / "bad.toml").write_text("colour = 'red'\n")
        load_settings(tmp_path / "bad.toml", environ={})
    with pytest.raises(ValueError, match=r"BAYANIHAN|port"):
        load_settings(None, environ={"BAYANIHAN_PORT": "eighty"})
