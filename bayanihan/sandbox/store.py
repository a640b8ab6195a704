"""Where suites, runs and cards live: a small Protocol, and a directory implementation.

The hub can later provide the same Protocol over its database and audit log.
Writes go to a temporary name first and are renamed into place: never half-stored.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import orjson

from .errors import NotFound, SandboxError
from .render import render_html
from .suite import Suite, dump_cases, load_suite
from .verdict import Verdict

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class SandboxStore(Protocol):
    def add_suite(self, suite: Suite) -> dict[str, Any]: ...
    def get_suite(self, name: str, version: int | None = None) -> Suite: ...
    def list_suites(self) -> list[dict[str, Any]]: ...
    def save_run(self, card: dict[str, Any], verdicts: Iterable[Verdict]) -> str: ...
    def get_card(self, run_id: str) -> dict[str, Any]: ...
    def get_card_html(self, run_id: str) -> str: ...
    def list_runs(self) -> list[dict[str, Any]]: ...


def check_name(name: str, what: str) -> str:
    if not NAME_RE.match(name):
        raise SandboxError(what, f"{name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    return name


def _atomic_write(path: Path, chunks: Iterable[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class DirectoryStore:
    """``HOME/suites/NAME/vN.jsonl`` + ``vN.json``; ``HOME/runs/RUN/card.json|html|verdicts``."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    def add_suite(self, suite: Suite) -> dict[str, Any]:
        """Store a new version, unless the latest version already has this content."""
        check_name(suite.name, "NAME")
        folder = self.home / "suites" / suite.name
        versions = self._versions(suite.name)
        if versions:
            latest = orjson.loads((folder / f"v{versions[-1]}.json").read_bytes())
            if latest["sha256"] == suite.sha256 and latest["kind"] == suite.kind:
                return latest
        version = (versions[-1] + 1) if versions else 1
        stored = Suite(suite.name, suite.kind, suite.cases, suite.positive, version,
                       suite.description)
        meta = stored.meta()
        _atomic_write(folder / f"v{version}.jsonl", dump_cases(stored.cases))
        _atomic_write(folder / f"v{version}.json", [orjson.dumps(meta)])
        return meta

    def _versions(self, name: str) -> list[int]:
        folder = self.home / "suites" / name
        return sorted(int(p.stem[1:]) for p in folder.glob("v*.json")) if folder.is_dir() else []

    def get_suite(self, name: str, version: int | None = None) -> Suite:
        check_name(name, "suite")
        versions = self._versions(name)
        if not versions or (version is not None and version not in versions):
            raise NotFound("suite", f"no stored suite {name!r}"
                           + (f" version {version}" if version else ""))
        version = version or versions[-1]
        folder = self.home / "suites" / name
        meta = orjson.loads((folder / f"v{version}.json").read_bytes())
        suite = load_suite(folder / f"v{version}.jsonl", name=name, kind=meta["kind"],
                           positive=meta["positive"], version=version)
        if suite.sha256 != meta["sha256"]:
            raise SandboxError(f"suite {name} v{version}", "content does not match its hash")
        return suite

    def list_suites(self) -> list[dict[str, Any]]:
        root = self.home / "suites"
        if not root.is_dir():
            return []
        return [orjson.loads(p.read_bytes()) for d in sorted(root.iterdir()) if d.is_dir()
                for p in sorted(d.glob("v*.json"), key=lambda p: int(p.stem[1:]))]

    def save_run(self, card: dict[str, Any], verdicts: Iterable[Verdict]) -> str:
        run_id = check_name(card["run"]["id"], "run")
        folder = self.home / "runs" / run_id
        _atomic_write(folder / "verdicts.jsonl", (orjson.dumps(v.to_dict()) + b"\n"
                                                  for v in verdicts))
        _atomic_write(folder / "card.html", [render_html(card).encode()])
        _atomic_write(folder / "card.json", [orjson.dumps(card, option=orjson.OPT_INDENT_2)])
        return run_id

    def _run_dir(self, run_id: str) -> Path:
        folder = self.home / "runs" / check_name(run_id, "run")
        if not (folder / "card.json").exists():
            raise NotFound("run", f"no stored run {run_id!r}")
        return folder

    def get_card(self, run_id: str) -> dict[str, Any]:
        return orjson.loads((self._run_dir(run_id) / "card.json").read_bytes())

    def get_card_html(self, run_id: str) -> str:
        return (self._run_dir(run_id) / "card.html").read_text()

    def list_runs(self) -> list[dict[str, Any]]:
        root = self.home / "runs"
        if not root.is_dir():
            return []
        out = []
        for folder in sorted(root.iterdir()):
            if (folder / "card.json").exists():
                card = orjson.loads((folder / "card.json").read_bytes())
                out.append({"id": card["run"]["id"], "started": card["run"]["started"],
                            "tool": card["tool"]["spec"], "suite": card["suite"]["name"],
                            "suite_version": card["suite"]["version"], "grade": card["grade"]})
        return out
