"""Sandbox errors: each names what was wrong and where."""

from __future__ import annotations


class SandboxError(Exception):
    """A sandbox request that cannot be carried out.

    ``field`` names the input at fault (a file and line, an option); ``reason`` says why.
    """

    status = 400

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(SandboxError):
    """A suite, run or card that the store does not hold."""

    status = 404
