"""Regulatory sandbox: AI security tools run in isolation against suites and adversarial
variants, graded by a regulator's policy into a report card."""

from .errors import NotFound, SandboxError
from .harness import RunOptions, RunResult, run, stable_view
from .isolation import Limits
from .suite import Case, Suite, load_suite
from .tools import Tool, parse_tool

__all__ = ["Case", "Limits", "NotFound", "RunOptions", "RunResult", "SandboxError", "Suite",
           "Tool", "load_suite", "parse_tool", "run", "stable_view"]
