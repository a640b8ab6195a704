"""Audit the dependencies installed for the tests against a vulnerability database (CI).

    python tools/dependency_audit.py --pip-audit PATH/TO/pip-audit --python .venv/bin/python

Runs ``pip-audit`` (installed in an environment of its own, so it does not audit itself)
over the environment of ``--python`` and decides:

* a dependency with a known vulnerability: each is printed, exit 1 (CI fails);
* the vulnerability service could not be reached at all (every dependency skipped, or
  pip-audit ended on a connection error): ONE line ``dependency audit could not run: …``
  saying why, exit 0 (CI goes on, but says so: an offline run never reads as a pass);
* otherwise one line with how many dependencies were audited, exit 0.

``docs/security.md`` ("Dependency audit") describes it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.request
from typing import Any

#: pip-audit's words when a service could not be reached (requests' and its own).
NETWORK_SIGNS = ("ConnectionError", "Max retries exceeded", "NameResolutionError",
                 "Name or service not known", "Temporary failure in name resolution",
                 "Network is unreachable", "timed out", "ConnectTimeout", "ServiceError")
_SKIPPED = re.compile(r": (\S+) \(([^)]+)\)$")


def probe_url(service: str, stdout: str) -> str:
    """What pip-audit asks the service for: the first skipped dependency's version."""
    if service == "osv":
        return "https://api.osv.dev/v1/query"
    name, version = "pip", ""
    try:
        first = json.loads(stdout)["dependencies"][0]
        found = _SKIPPED.search(str(first.get("skip_reason", "")))
        if found:
            name, version = found.group(1), found.group(2)
    except (ValueError, LookupError, TypeError, AttributeError):
        pass
    return f"https://pypi.org/pypi/{name}/{version}/json" if version else \
        f"https://pypi.org/pypi/{name}/json"


def probe(url: str, timeout: float = 5.0) -> str:
    """Why ``url`` gives no answer ("" when it does), in the network's own words."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return ""
    except Exception as exc:  # any failure is the reason we report
        reason = getattr(exc, "reason", exc)
        return f"{url}: {type(exc).__name__}: {reason}"


def run_pip_audit(pip_audit: str, python: str, service: str, timeout: int) -> tuple[int, str, str]:
    env = {**os.environ, "PIPAPI_PYTHON_LOCATION": python}
    done = subprocess.run(
        [pip_audit, "--format", "json", "--progress-spinner", "off", "--skip-editable",
         "--vulnerability-service", service, "--timeout", str(timeout)],
        capture_output=True, text=True, env=env, check=False)
    return done.returncode, done.stdout, done.stderr


def verdict(code: int, stdout: str, stderr: str, service: str,
            why_unreachable: str = "") -> tuple[int, list[str]]:
    """(exit code, lines to print) for one pip-audit run."""
    try:
        report: Any = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict) or not isinstance(report.get("dependencies"), list):
        tail = (stderr.strip().splitlines() or [f"pip-audit exited {code} with no report"])[-1]
        if any(sign in stderr for sign in NETWORK_SIGNS):
            return 0, [f"dependency audit could not run: the vulnerability service ({service}) "
                       f"could not be reached: {why_unreachable or tail}"]
        return 1, [f"dependency audit failed: {tail}"]
    deps = [d for d in report["dependencies"] if isinstance(d, dict)]
    vulnerable = [d for d in deps if d.get("vulns")]
    if vulnerable:
        lines = [f"dependency audit: {len(vulnerable)} installed dependencies have known "
                 "vulnerabilities:"]
        for d in vulnerable:
            for v in d["vulns"]:
                fixed = ", ".join(v.get("fix_versions") or []) or "no fixed version"
                lines.append(f"  {d.get('name')} {d.get('version', '?')}: {v.get('id')} "
                             f"(fixed in {fixed})")
        return 1, lines
    skipped = [d for d in deps if d.get("skip_reason")]
    if deps and len(skipped) == len(deps):
        why = why_unreachable or str(skipped[0]["skip_reason"])
        return 0, [f"dependency audit could not run: the vulnerability service ({service}) gave "
                   f"no answer for any installed version, all {len(deps)} dependencies were "
                   f"skipped ({why})"]
    lines = [f"dependency audit: {len(deps) - len(skipped)} dependencies audited against "
             f"{service}, no known vulnerability"]
    if skipped:
        lines.append("  not audited: " + ", ".join(str(d.get("name")) for d in skipped))
    return 0, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pip-audit", required=True, help="The pip-audit executable.")
    parser.add_argument("--python", default=sys.executable,
                        help="The interpreter whose environment is audited.")
    parser.add_argument("--service", default="pypi", choices=("pypi", "osv"))
    parser.add_argument("--timeout", type=int, default=15, help="Socket timeout, seconds.")
    parser.add_argument("--no-probe", action="store_true",
                        help="Do not ask the service once more why it gave no answer.")
    args = parser.parse_args(argv)
    try:
        code, stdout, stderr = run_pip_audit(args.pip_audit, args.python, args.service,
                                             args.timeout)
    except OSError as exc:
        print(f"dependency audit could not run: pip-audit could not be started: {exc}")
        return 0
    status, lines = verdict(code, stdout, stderr, args.service)
    if status == 0 and lines[0].startswith("dependency audit could not run") and not args.no_probe:
        reason = probe(probe_url(args.service, stdout))  # say why, when it can
        status, lines = verdict(code, stdout, stderr, args.service, reason)
    print("\n".join(lines), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
