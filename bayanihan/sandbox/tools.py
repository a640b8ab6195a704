"""Tools under test: how to start one, how to fingerprint it, how to talk to it.

Spec strings: ``cmd:PROGRAM ARGS…`` (JSON Lines on stdin/stdout, any language),
``py:module:function`` (a Python callable, run in an isolated child through ``worker.py``),
``http://HOST:PORT/PATH`` (an endpoint on an address the operator allows).
"""

from __future__ import annotations

import hashlib
import importlib.util
import ipaddress
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from .errors import SandboxError
from .isolation import Confinement, Limits, confinement, views
from .runner import Session, fill_verdict
from .verdict import Verdict

WORKER = Path(__file__).with_name("worker.py")


@dataclass
class Tool:
    """A parsed tool spec with its fingerprint (``sha256``) and how it is reached."""

    spec: str
    kind: str  # command | python | http
    argv: list[str] = field(default_factory=list)
    url: str = ""
    pythonpath: list[str] = field(default_factory=list)
    sha256: str = ""
    hashed: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "kind": self.kind, "sha256": self.sha256,
                "hashed": self.hashed}


def parse_tool(spec: str, pythonpath: Sequence[str] = (),
               allowed_hosts: Sequence[str] = ("127.0.0.1", "::1", "localhost")) -> Tool:
    """Parse a tool spec; refuse endpoints outside ``allowed_hosts``."""
    paths = [str(Path(p).resolve()) for p in pythonpath]
    if spec.startswith(("http://", "https://")):
        host = urlsplit(spec).hostname or ""
        if not _host_allowed(host, allowed_hosts):
            raise SandboxError("--tool", f"host {host!r} is not in the operator's allowed "
                               f"addresses ({', '.join(allowed_hosts)})")
        return Tool(spec, "http", url=spec, sha256=_digest([spec.encode()]), hashed=[spec])
    if spec.startswith("py:"):
        target = spec[3:]
        module, _, func = target.partition(":")
        if not module or not func:
            raise SandboxError("--tool", "a Python tool is written py:module:function")
        files = _module_files(module, paths)
        return Tool(spec, "python", argv=[sys.executable, str(WORKER), target],
                    pythonpath=paths, sha256=_digest([target.encode(), *map(_read, files)]),
                    hashed=[str(f) for f in files])
    if spec.startswith("cmd:"):
        argv = shlex.split(spec[4:])
        if not argv:
            raise SandboxError("--tool", "a command tool needs a program after 'cmd:'")
        program = shutil.which(argv[0]) or argv[0]
        if not Path(program).is_file():
            raise SandboxError("--tool", f"program {argv[0]!r} not found")
        # Run the program by the name given (absolute, links kept): a venv's python must stay
        # that venv's. Only the fingerprint follows links, to hash the real files.
        argv = [os.path.abspath(program),
                *(os.path.abspath(a) if Path(a).is_file() else a for a in argv[1:])]
        files = [Path(a).resolve() for a in argv if Path(a).is_file()]
        if "-m" in argv[1:-1]:  # python -m MODULE: fingerprint the module's source too
            files += _module_files(argv[argv.index("-m") + 1], paths)
        return Tool(spec, "command", argv=argv, pythonpath=paths,
                    sha256=_digest([" ".join(argv).encode(), *map(_read, files)]),
                    hashed=[str(f) for f in files])
    raise SandboxError("--tool", "must start with cmd:, py: or http(s)://")


def _host_allowed(host: str, allowed: Sequence[str]) -> bool:
    for entry in allowed:
        if host == entry:
            return True
        try:
            if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _module_files(module: str, paths: list[str]) -> list[Path]:
    sys.path[:0] = paths
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    finally:
        del sys.path[: len(paths)]
    if spec is None or not spec.origin or not Path(spec.origin).is_file():
        raise SandboxError("--tool", f"Python module {module!r} not found "
                           "(add its folder with --pythonpath)")
    return [Path(spec.origin)]


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _digest(parts: Sequence[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def tool_confinement(tool: Tool, netns: bool, unsafe_no_isolation: bool = False,
                     readable: Sequence[str] = (), hidden: Sequence[str] = ()) -> Confinement:
    """How ``tool`` will be confined here; refuses when bubblewrap cannot run unless the
    operator accepts an unsafe run. ``hidden``: the hub's own paths, never shown."""
    return confinement(netns, unsafe_no_isolation,
                       [*views(tool.argv, tool.pythonpath), *readable], hidden)


def run_tool(tool: Tool, cases: Sequence[dict[str, Any]], limits: Limits,
             confined: Confinement | None,
             progress: Callable[[int], None] | None = None
             ) -> tuple[list[Verdict], int, dict[str, str] | None]:
    """Run every case through the tool; return verdicts, how often the tool restarted and
    its first crash (case, how it ended, stderr tail)."""
    if tool.kind == "http":
        return run_http(tool.url, cases, limits, progress), 0, None
    assert confined is not None
    session = Session(tool.argv, limits, confined.netns, tool.pythonpath, confined=confined)
    verdicts = session.run(cases, progress)
    return verdicts, session.restarts, session.first_crash


def run_http(url: str, cases: Sequence[dict[str, Any]], limits: Limits,
             progress: Callable[[int], None] | None = None, batch: int = 32) -> list[Verdict]:
    """POST cases as JSON Lines; a failed batch is retried case by case to pin the fault."""
    deadline = time.monotonic() + limits.run_timeout
    out: dict[str, Verdict] = {}
    with httpx.Client(timeout=limits.case_timeout, trust_env=False) as client:
        for start in range(0, len(cases), batch):
            if time.monotonic() >= deadline:
                break
            chunk = cases[start:start + batch]
            try:
                got = _post(client, url, chunk, limits)
            except _HttpFault:
                got = {}
                for case in chunk:
                    try:
                        got.update(_post(client, url, [case], limits))
                    except _HttpFault as fault:
                        got[case["id"]] = Verdict(case["id"], fault.outcome, detail=fault.detail)
            out.update(got)
            if progress is not None:
                progress(len(chunk))
    return [out.get(c["id"]) or Verdict(c["id"], "not_run", detail="run timeout")
            for c in cases]


class _HttpFault(Exception):
    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.outcome, self.detail = outcome, detail


def _post(client: httpx.Client, url: str, cases: Sequence[dict[str, Any]],
          limits: Limits) -> dict[str, Verdict]:
    body = b"".join(orjson.dumps(c) + b"\n" for c in cases)
    started = time.monotonic()
    try:
        resp = client.post(url, content=body, timeout=limits.case_timeout * len(cases),
                           headers={"content-type": "application/x-ndjson"})
    except httpx.TimeoutException:
        raise _HttpFault("timeout", f"no answer within {limits.case_timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise _HttpFault("crash", f"{type(exc).__name__}: {exc}") from None
    if resp.status_code >= 400:
        raise _HttpFault("crash", f"HTTP {resp.status_code}")
    if len(resp.content) > limits.output_line_bytes * len(cases):
        raise _HttpFault("output_flood", f"{len(resp.content)} bytes for {len(cases)} case(s)")
    latency = (time.monotonic() - started) * 1000 / len(cases)
    verdicts = {c["id"]: Verdict(c["id"], latency_ms=round(latency, 3)) for c in cases}
    for line in resp.content.splitlines():
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise _HttpFault("malformed", "answer is not JSON Lines") from None
        case_id = obj.get("id") if isinstance(obj, dict) else None
        if case_id in verdicts:
            fill_verdict(verdicts[case_id], obj)
    missing = [cid for cid, v in verdicts.items() if v.label is None and v.outcome == "ok"]
    if missing:
        raise _HttpFault("malformed", f"no answer for {len(missing)} case(s)")
    return verdicts
