"""What a run records for each case."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OUTCOMES = (
    "ok",               # the tool answered with a well-formed verdict
    "crash",            # the tool died, or its callable raised, on this case
    "timeout",          # no answer within the per-case timeout
    "malformed",        # the answer was not a valid verdict line
    "memory_exceeded",  # the tool ran out of its memory limit on this case
    "output_flood",     # the tool wrote more than the output cap for this case
    "not_run",          # the per-run timeout ended the run before this case
)


@dataclass
class Verdict:
    """One case's result: the tool's label and score when ``outcome`` is ``ok``."""

    case_id: str
    outcome: str = "ok"
    label: str | None = None
    score: float | None = None
    latency_ms: float | None = None
    detail: str | None = None
    network_attempts: list[str] = field(default_factory=list)
    escape_attempts: list[str] = field(default_factory=list)  # files, databases, signals
    mutator: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}
