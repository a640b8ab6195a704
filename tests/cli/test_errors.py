"""Every ``bayanihan`` command given bad input: one line saying what is wrong (and what to
do), a non-zero exit, never a traceback — and nothing created on the way."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bayanihan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYANIHAN_")}
    env["COLUMNS"] = "80"  # a narrow terminal must not break an error over two lines
    return subprocess.run([sys.executable, "-m", "bayanihan.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    db = tmp_path / "hub.db"
    assert bayanihan("org", "seed-asean", "--database", str(db), cwd=tmp_path).returncode == 0
    return db


def test_a_busy_port_is_named_before_anything_is_created(tmp_path: Path, busy_port: int) -> None:
    result = bayanihan("serve", "--port", str(busy_port), "--database", str(tmp_path / "h.db"),
                       cwd=tmp_path)
    one_line_error(result, str(busy_port), "--port")
    assert not (tmp_path / "h.db").exists() and not (tmp_path / "bayanihan-admin.key").exists()


def test_database_takes_a_path_or_a_url(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "hub.db"
    assert bayanihan("org", "list", "--database", str(path), cwd=tmp_path).returncode == 0
    assert path.is_file()
    url = f"sqlite:///{tmp_path / 'other.db'}"
    assert bayanihan("org", "list", "--database", url, cwd=tmp_path).returncode == 0
    one_line_error(bayanihan("org", "list", "--database", "nosuchdb://x", cwd=tmp_path),
                   "--database")
    one_line_error(bayanihan("org", "list", "--database",
                             f"postgresql+psycopg://nobody:x@127.0.0.1:{closed_port()}/db",
                             cwd=tmp_path), "database")


def test_ingest_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    result = bayanihan("ingest", str(tmp_path / "nonexistent.json"), "--database",
                       str(tmp_path / "h.db"), cwd=tmp_path)
    one_line_error(result, "nonexistent.json", "no such file")
    assert not (tmp_path / "h.db").exists()


def test_unknown_organisation_bad_key_and_bad_kind(tmp_path: Path, seeded: Path) -> None:
    db = ["--database", str(seeded)]
    one_line_error(bayanihan("key", "create", "--org", "XX", *db, cwd=tmp_path), "XX")
    one_line_error(bayanihan("key", "revoke", "nope", *db, cwd=tmp_path), "nope")
    one_line_error(bayanihan("org", "add", "ZZ", "--name", "Z", "--kind", "hub", *db,
                             cwd=tmp_path), "--kind")
    one_line_error(bayanihan("audit", "verify", "--head", "garbage", *db, cwd=tmp_path), "head")
    one_line_error(bayanihan("no-such-command", cwd=tmp_path), "no-such-command")


def test_sync_against_a_closed_port_and_a_bad_url(tmp_path: Path, seeded: Path) -> None:
    db = ["--database", str(seeded)]
    url = f"http://127.0.0.1:{closed_port()}/taxii2/api/collections/x/"
    one_line_error(bayanihan("sync", "pull", url, "--source-org", "TH", *db, cwd=tmp_path))
    one_line_error(bayanihan("sync", "pull", "not a url", "--source-org", "TH", *db,
                             cwd=tmp_path))


def test_key_ids_are_whole_when_piped_and_revoke_takes_a_prefix(tmp_path: Path,
                                                                 seeded: Path) -> None:
    db = ["--database", str(seeded)]
    assert bayanihan("key", "create", "--org", "TH", *db, cwd=tmp_path).returncode == 0
    listed = bayanihan("key", "list", "--org", "TH", *db, cwd=tmp_path)
    key_id = listed.stdout.split("\t")[0]
    assert len(key_id) >= 12 and "…" not in listed.stdout
    revoked = bayanihan("key", "revoke", key_id[:8], *db, cwd=tmp_path)
    assert revoked.returncode == 0 and key_id in revoked.stdout
    state = bayanihan("key", "list", "--org", "TH", *db, cwd=tmp_path).stdout
    assert state.strip().endswith("revoked")
