"""schemathesis against the hub's own OpenAPI document, on a real server on loopback: a
bounded, seeded run per role (the 10,000-case run is ``benchmarks/fuzz.py``, figures in
docs/security.md). Gate: no 5xx. Plus regressions for the 5xx the fuzzer found."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import RunningHub

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from fuzz import ROLES, fuzz

SEED = 13


@pytest.mark.slow
@pytest.mark.timeout(1200)  # schemathesis' coverage phase on a busy 2-core machine
@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_no_fuzzed_request_gets_a_server_error(
        make_hub: Callable[..., RunningHub], role: str, tmp_path: Path) -> None:
    running = make_hub()
    org, name = ROLES[role]
    # one round: schemathesis' coverage phase plus 3 fuzzed examples per operation, seeded
    outcome = fuzz(running.url, {role: running.key(org, name)}, cases=1, seed=SEED,
                   report_dir=tmp_path / "reports", examples=3)
    assert outcome.operations >= 50  # every operation but the endless stream was reached
    assert outcome.cases >= 300
    assert outcome.server_errors == {}, "\n".join(outcome.details)


def test_an_empty_message_batch_is_refused_naming_the_field(
        make_hub: Callable[..., RunningHub]) -> None:
    """Found by the fuzzer: ``[]`` reached the cluster update with no row (IndexError, 500)."""
    running = make_hub()
    for body in (b"[]", b"\n\n"):
        r = running.client("TH").post("/api/v1/messages", content=body,
                                      headers={"Content-Type": "application/json"})
        assert r.status_code == 400, r.text
        assert r.json()["fields"] in (["messages"], ["body"])


def test_a_draft_id_beyond_64_bits_is_refused_not_a_500(
        make_hub: Callable[..., RunningHub]) -> None:
    """Found by the fuzzer (stateful phase): the id reached the database and overflowed."""
    running = make_hub()
    r = running.client("TH").post("/api/v1/messages/drafts/299296935655387875547952447488/publish")
    assert 400 <= r.status_code < 500, r.text
    assert "draft_id" in str(r.json())
