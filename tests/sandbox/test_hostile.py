"""A hostile vendor tool (tests/sandbox/hostile.py) tries every escape of issue 14 under
bubblewrap: each attempt fails, the card names it, the hub's database and audit chain are
unchanged and no process of the tool is left. Runs in CI (bubblewrap installed by .ci/run);
skips locally only where bubblewrap or user namespaces are missing."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import pytest
from typer.testing import CliRunner

from bayanihan.cli import app as hub_cli
from bayanihan.config import Settings
from bayanihan.hub import ADMIN_KEY_FILE, Hub
from bayanihan.sandbox import bwrap, pidlimit
from bayanihan.sandbox.harness import RunOptions, RunResult, run
from bayanihan.sandbox.isolation import Limits, hub_paths
from bayanihan.sandbox.suite import Case, Suite
from bayanihan.sandbox.tools import parse_tool
from bayanihan.store import audit
from tests.conftest import need

from .conftest import HERE, Listener

# a system interpreter, as a vendor would name it (not a venv, not a pyenv shell shim)
PYTHON3 = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3")
                if os.access(p, os.X_OK)), getattr(sys, "_base_executable", sys.executable))
SECRET = "hub-secret-" + uuid.uuid4().hex


@pytest.fixture(autouse=True)
def _bubblewrap() -> None:
    need("bubblewrap with unprivileged user namespaces", bwrap.usable()[0])
    need(PYTHON3, os.access(PYTHON3, os.X_OK))


@dataclass
class Target:
    """A hub with a SQLite database and an admin key, another hub's key, the hostile tool."""

    hub: Hub
    db: Path
    key: Path
    other_key: Path
    outside: Path
    tool: Path
    marker: str


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    monkeypatch.setenv("BAYANIHAN_HOSTILE_SECRET", SECRET)  # in the hub's own environment
    data = tmp_path / "data"
    hub = Hub(Settings(database_url=f"sqlite:///{data / 'hub.db'}", data_dir=str(data)))
    hub.open()
    other = tmp_path / "other-hub"
    other.mkdir()
    (other / ADMIN_KEY_FILE).write_text("other-hub-admin-key\n")
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    tool = vendor / "evil.py"
    shutil.copy(HERE / "hostile.py", tool)
    yield Target(hub, data / "hub.db", data / ADMIN_KEY_FILE, other / ADMIN_KEY_FILE,
                 tmp_path / "outside.txt", tool, "bayanihan-grandchild-" + uuid.uuid4().hex)
    hub.close()


def _attacks(t: Target, port: int) -> dict[str, str]:
    pid = os.getpid()
    return {
        "shadow": "shadow|", "admin-key": f"read|{t.key}", "other-hub-key": f"read|{t.other_key}",
        "init-environ": f"environ|{SECRET}@/proc/1/environ",
        "server-environ": f"environ|{SECRET}@/proc/{pid}/environ",
        "any-environ": f"environ_any|{SECRET}", "write-outside": f"write|{t.outside}",
        "write-hub-data": f"write|{t.key.parent / 'planted.txt'}", "sqlite-update": f"sqlite|{t.db}",
        "database-file": f"read|{t.db}",
        "signal-hub": f"signal|{pid}", "signal-parent": "signal_parent|",
        "socket": f"connect|{port}", "dns": "resolve|example.org",
        "setsid-grandchild": f"grandchild|{t.marker}", "unshare": "unshare|",
        "nested-userns": "nested_userns|", "fill-workdir": "fill|.", "fill-tmp": "fill|/tmp",
        "hub-pid-visible": f"proc|{pid}", "descriptors": "fds|", "environment": f"env|{SECRET}",
        "fork-bomb": "fork_bomb|10000",
    }


def _state(t: Target) -> tuple[str, list[tuple], object]:
    """The database file's hash, its STIX rows and the audit chain's verdict."""
    with sqlite3.connect(f"file:{t.db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT * FROM stix_objects ORDER BY 1").fetchall()
    problem = t.hub.db.read_sync(audit.verify)
    return hashlib.sha256(t.db.read_bytes()).hexdigest(), rows, problem


def _processes_with(marker: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{name}/cmdline").read_bytes():
                    found.append(int(name))
            except OSError:
                pass
    return found


def _hostile_run(t: Target, attacks: dict[str, str]) -> RunResult:
    suite = Suite("hostile", "text", tuple(Case(k, "ham", text=v, language="en")
                                           for k, v in attacks.items()))
    options = RunOptions(split="all", mutators=[], hidden=hub_paths(str(t.key.parent),
                                                                    f"sqlite:///{t.db}"),
                         limits=Limits(case_timeout=20.0, batch_size=1,
                                       scratch_bytes=32 << 20))
    return run(parse_tool(f"cmd:{PYTHON3} {t.tool}"), suite, options=options)


def test_every_escape_of_a_hostile_tool_fails_and_is_on_the_card(target: Target) -> None:
    t = target
    signals: list[int] = []

    def count(signum: int, _frame: FrameType | None) -> None:
        signals.append(signum)

    previous = signal.signal(signal.SIGUSR1, count)
    listener = Listener()
    before = _state(t)
    try:
        attacks = _attacks(t, listener.port)
        if pidlimit.hierarchy() is None:
            attacks.pop("fork-bomb")  # unbounded here: the card must say so (asserted below)
        result = _hostile_run(t, attacks)
    finally:
        signal.signal(signal.SIGUSR1, previous)
        listener.close()
    card = result.card
    labels = {v.case_id: v.label for v in result.verdicts}
    assert all(v.outcome == "ok" for v in result.verdicts), result.verdicts
    # a write to a path under /tmp lands in the tool's private /tmp: judged from outside
    simple = set(attacks) - {"setsid-grandchild", "descriptors", "fork-bomb", "write-outside",
                             "fill-workdir", "fill-tmp"}
    assert {k: labels[k] for k in simple} == dict.fromkeys(simple, "blocked")

    # nothing happened outside, seen from the host
    assert not t.outside.exists() and not (t.key.parent / "planted.txt").exists()
    assert _state(t) == before and before[2] is None  # same bytes, rows; audit chain intact
    assert signals == [] and listener.accepted == 0
    deadline = time.monotonic() + 10
    while _processes_with(t.marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with(t.marker) == []  # the setsid grandchild did not outlive the run
    fds = (labels["descriptors"] or "").removeprefix("fds:").split(";")
    assert all(f.startswith(("pipe:", "/dev/", "/proc/")) for f in fds), fds
    for fill in ("fill-workdir", "fill-tmp"):  # capped at the scratch size (32 MiB here)
        assert int(labels[fill].removeprefix("mib:")) <= 32, labels[fill]
    if "fork-bomb" in attacks:
        assert 0 < int(labels["fork-bomb"].removeprefix("forks:")) < 64

    # the card names every attempt the audit hook saw, and the network attempts
    named = {e["case"]: " ".join(e["attempts"]) for e in card["escape_attempts"]}
    # (writes to /tmp paths land in its private /tmp and are not reported)
    for case in ("shadow", "admin-key", "other-hub-key", "init-environ", "server-environ",
                 "database-file"):
        assert case in named and "file:" in named[case], (case, named)
    assert "database:" in named["sqlite-update"] and "signal:" in named["signal-hub"]
    assert card["outcomes_total"]["escape_attempt_cases"] >= 8
    network = {v.case_id for v in result.verdicts if v.network_attempts}
    assert {"socket", "dns"} <= network
    assert "escape_attempts_max" in card["failing"] and card["grade"] == "fail"

    iso = card["isolation"]
    mechanisms = {m["name"]: m["applied"] for m in iso["mechanisms"]}
    for ns in ("user", "mount", "pid", "ipc", "uts", "network"):
        assert mechanisms[f"{ns} namespace"] is True
    assert mechanisms["non-root uid inside"] and mechanisms["dies with the run, new session"]
    assert iso["runs_as_uid"] == bwrap.SANDBOX_UID
    assert iso["isolated"] == all(mechanisms.values())
    assert ("not isolated" in card["headline"]) != iso["isolated"]
    if pidlimit.hierarchy() is None:
        assert mechanisms["process count limit"] is False and "not isolated" in card["headline"]


def test_tool_can_still_use_its_own_files_tmp_and_workdir(tmp_path: Path) -> None:
    tool = tmp_path / "ok.py"
    model = tmp_path / "model.txt"
    model.write_text("prize\n")
    tool.write_text(
        "import json, os, sys, tempfile\n"
        f"words = open({str(model)!r}).read().split()\n"
        "for line in sys.stdin:\n"
        "    case = json.loads(line)\n"
        "    open('scratch.txt', 'w').write('x')\n"
        "    tempfile.NamedTemporaryFile(dir='/tmp').close()\n"
        "    hit = any(w in case['text'] for w in words) and os.getuid() != 0\n"
        "    print(json.dumps({'id': case['id'], 'label': 'scam' if hit else 'ham'}), flush=True)\n")
    suite = Suite("ok", "text", (Case("a", "scam", text="win a prize", language="en"),
                                 Case("b", "ham", text="lunch?", language="en")))
    result = run(parse_tool(f"cmd:{PYTHON3} {tool} {model}"), suite,
                 options=RunOptions(split="all", mutators=[]))
    assert [(v.outcome, v.label) for v in result.verdicts] == [("ok", "scam"), ("ok", "ham")]
    assert result.card["escape_attempts"] == []


def test_hub_cli_runs_the_hostile_tool_and_database_stays_out_of_reach(
        target: Target, tmp_path: Path) -> None:
    t = target
    suite_file = tmp_path / "hostile.jsonl"
    suite_file.write_text("".join(
        f'{{"id": "{k}", "text": "{v}", "label": "ham", "split": "test"}}\n' for k, v in {
            "sqlite-update": f"sqlite|{t.db}", "admin-key": f"read|{t.key}"}.items()))
    db = ["--database", f"sqlite:///{t.db}"]
    runner = CliRunner()
    env = {"BAYANIHAN_DATA_DIR": str(t.key.parent)}
    assert runner.invoke(hub_cli, ["sandbox", "suite", "add", "hostile", str(suite_file), *db],
                         env=env).exit_code == 0
    with sqlite3.connect(f"file:{t.db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT * FROM stix_objects ORDER BY 1").fetchall()
    out = tmp_path / "card"
    result = runner.invoke(hub_cli, ["sandbox", "run", "--tool", f"cmd:{PYTHON3} {t.tool}",
                                     "--suite", "hostile", "--mutators", "truncation",
                                     "--out", str(out), *db], env=env)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(f"file:{t.db}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT * FROM stix_objects ORDER BY 1").fetchall() == rows
    assert t.hub.db.read_sync(audit.verify) is None
    html = (out / "card.html").read_text()
    assert "database: sqlite3.connect" in html and "escape_attempts_max" in html


def test_without_bubblewrap_untrusted_tools_are_refused_unless_unsafe(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bwrap, "usable", lambda: (False, "bubblewrap (bwrap) is not installed"))
    tool = tmp_path / "t.py"
    tool.write_text("import json, sys\nfor l in sys.stdin:\n"
                    "    print(json.dumps({'id': json.loads(l)['id'], 'label': 'ham'}), "
                    "flush=True)\n")
    suite = Suite("s", "text", (Case("a", "ham", text="hi", language="en"),))
    spec = parse_tool(f"cmd:{sys.executable} {tool}")
    from bayanihan.sandbox.errors import SandboxError
    with pytest.raises(SandboxError, match="unsafe-no-isolation"):
        run(spec, suite, options=RunOptions(split="all", mutators=[]))
    card = run(spec, suite, options=RunOptions(split="all", mutators=[],
                                               unsafe_no_isolation=True)).card
    assert card["isolation"]["isolated"] is False and card["isolation"]["bubblewrap"] is False
    assert card["headline"].endswith("not isolated")
    assert card["outcomes_total"]["ok"] == 1


def test_a_run_where_every_case_crashes_exits_non_zero_with_the_stderr(tmp_path: Path) -> None:
    tool = tmp_path / "dies.py"
    tool.write_text("import sys\nsys.stderr.write('model weights missing: w.bin\\n')\n"
                    "sys.exit(3)\n")
    suite_file = tmp_path / "s.jsonl"
    suite_file.write_text('{"id": "a", "text": "x", "label": "ham", "split": "test"}\n')
    db = ["--database", f"sqlite:///{tmp_path / 'hub.db'}"]
    runner = CliRunner()
    env = {"BAYANIHAN_DATA_DIR": str(tmp_path / "data")}
    assert runner.invoke(hub_cli, ["sandbox", "suite", "add", "s", str(suite_file), *db],
                         env=env).exit_code == 0
    result = runner.invoke(hub_cli, ["sandbox", "run", "--tool", f"cmd:{PYTHON3} {tool}",
                                     "--suite", "s", "--mutators", "truncation",
                                     "--case-timeout", "2", *db], env=env)
    assert result.exit_code == 1, result.output
    assert "every case crashed" in result.output and "model weights missing" in result.output



def test_a_venv_python_runs_as_that_venv_not_its_base_interpreter(tmp_path: Path) -> None:
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True,
                   timeout=120)
    python = tmp_path / "venv" / "bin" / "python"
    assert python.is_symlink()  # the case of issue 14: a link to the base interpreter
    tool = tmp_path / "prefix.py"
    tool.write_text("import json, sys\nfor line in sys.stdin:\n"
                    "    print(json.dumps({'id': json.loads(line)['id'], 'label': sys.prefix}),"
                    " flush=True)\n")
    spec = parse_tool(f"cmd:{python} {tool}")
    assert spec.argv[0] == str(python)  # kept as named; only the fingerprint follows links
    suite = Suite("s", "text", (Case("a", "ham", text="hi", language="en"),))
    result = run(spec, suite, options=RunOptions(split="all", mutators=[]))
    assert [v.label for v in result.verdicts] == [str(tmp_path / "venv")]
