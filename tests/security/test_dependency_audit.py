"""CI's dependency audit (tools/dependency_audit.py, run by .ci/run): a known vulnerability
fails the build; an unreachable vulnerability service is said in one line, never a pass."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "dependency_audit.py"


def _fake_pip_audit(tmp_path: Path, stdout: str, stderr: str = "", code: int = 0) -> Path:
    """An executable that answers like pip-audit would."""
    script = tmp_path / "pip-audit"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write({stdout!r})\n"
                      f"sys.stderr.write({stderr!r})\nsys.exit({code})\n")
    script.chmod(0o755)
    return script


def _audit(tmp_path: Path, stdout: str, stderr: str = "", code: int = 0,
           service: str = "osv") -> subprocess.CompletedProcess[str]:
    fake = _fake_pip_audit(tmp_path, stdout, stderr, code)
    return subprocess.run([sys.executable, str(TOOL), "--pip-audit", str(fake), "--service",
                           service, "--timeout", "1", "--no-probe"], capture_output=True, text=True,
                          check=False, timeout=120)


def test_a_known_vulnerability_fails_and_is_named(tmp_path: Path) -> None:
    report = {"dependencies": [
        {"name": "jinja2", "version": "3.1.2", "vulns": [
            {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}]},
        {"name": "orjson", "version": "3.10.0", "vulns": []}]}
    done = _audit(tmp_path, json.dumps(report), code=1)
    assert done.returncode == 1, done.stdout
    assert "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in done.stdout


def test_a_clean_audit_passes_with_a_count(tmp_path: Path) -> None:
    report = {"dependencies": [{"name": "orjson", "version": "3.10.0", "vulns": []},
                               {"name": "httpx", "version": "0.28.1", "vulns": []}]}
    done = _audit(tmp_path, json.dumps(report))
    assert done.returncode == 0
    assert done.stdout.strip() == ("dependency audit: 2 dependencies audited against osv, "
                                   "no known vulnerability")


@pytest.mark.parametrize("service", ["pypi", "osv"])
def test_every_dependency_skipped_is_one_could_not_run_line(tmp_path: Path, service: str) -> None:
    """What this machine gives: the service answers for no installed version."""
    report = {"dependencies": [
        {"name": n, "skip_reason": f"Dependency not found on PyPI and could not be audited: "
                                   f"{n} (1.0)"} for n in ("alembic", "anyio")]}
    done = _audit(tmp_path, json.dumps(report), service=service)
    assert done.returncode == 0
    (line,) = done.stdout.strip().splitlines()
    assert line.startswith("dependency audit could not run: ")
    assert "all 2 dependencies were skipped" in line


def test_a_connection_error_is_one_could_not_run_line(tmp_path: Path) -> None:
    err = ("Traceback (most recent call last):\nrequests.exceptions.ConnectionError: "
           "HTTPSConnectionPool(host='api.osv.dev', port=443): Max retries exceeded\n")
    done = _audit(tmp_path, "", err, code=1)
    assert done.returncode == 0
    (line,) = done.stdout.strip().splitlines()
    assert line.startswith("dependency audit could not run: the vulnerability service (osv)")


def test_a_broken_pip_audit_fails(tmp_path: Path) -> None:
    done = _audit(tmp_path, "", "ResolutionImpossible: no matching distribution\n", code=1)
    assert done.returncode == 1
    assert "dependency audit failed: ResolutionImpossible" in done.stdout


def test_ci_runs_the_audit_after_the_readmes_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index('eval "$test_command"') < ci.index("tools/dependency_audit.py")
    assert "pip install" in ci and "pip-audit" in ci
