"""Regulatory sandbox: AI security tools run in isolation against suites and adversarial
variants, graded by a regulator's policy into a report card.

Names are loaded on first use, so that mounting the sandbox's CLI and routes in the hub does
not import scikit-learn and the harness until a run needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "NotFound": "errors", "SandboxError": "errors", "RunOptions": "harness",
    "RunResult": "harness", "run": "harness", "stable_view": "harness", "Limits": "isolation",
    "Case": "suite", "Suite": "suite", "load_suite": "suite", "Tool": "tools",
    "parse_tool": "tools",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bayanihan.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
