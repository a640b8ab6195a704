"""Sandbox errors: each names what was wrong and where (part of the hub's error tree, so the
HTTP layer answers them like every other error)."""

from __future__ import annotations

from bayanihan.errors import BayanihanError


class SandboxError(BayanihanError):
    """A sandbox request that cannot be carried out.

    ``field`` names the input at fault (a file and line, an option); ``reason`` says why.
    """

    status = 400
    error = "sandbox-error"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", [field])
        self.field = field
        self.reason = reason


class NotFound(SandboxError):
    """A suite, run or card that the store does not hold."""

    status = 404
    error = "not-found"
