"""SIGKILL during report intake: every acknowledged report is linked once the hub is back,
with no operator action, and no member state is alerted twice about the same country."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from bayanihan.config import Settings
from bayanihan.correlate.tables_campaigns import linked_report, regional_alert
from bayanihan.hub import Hub
from bayanihan.store import audit, keys
from tests.conftest import seed
from tests.realtime.serve import start, stop

POSTERS = ("TH", "PH", "VN", "ID")
WAVE_URL = "https://wave-pay.example/fee"


def _report(org: str, n: int) -> dict[str, Any]:
    return {"vector": "phishing", "channel": "sms", "title": f"Toll fee SMS {org} {n}",
            "observables": f"{WAVE_URL}\nhttps://{org.lower()}-{n}.example/t/{n}",
            "ai_involvement": {"assessment": "suspected"}}


def _post_until_stopped(base: str, key: str, org: str, acked: list[str],
                        stop_at: threading.Event, offset: int) -> None:
    n = offset
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                      timeout=30) as client:
        while not stop_at.is_set():
            n += 1
            try:
                r = client.post("/api/v1/reports", json=_report(org, n))
            except httpx.HTTPError:
                return  # the server was killed mid-request: not acknowledged
            if r.status_code == 201:
                acked.append(r.json()["id"])


def _round(db_url: str, cwd: Path, tokens: dict[str, str], acked: list[str], round_: int,
           seconds: float) -> None:
    """Start a hub process, post from every poster at once, SIGKILL it mid-load."""
    [(proc, base)] = start(db_url, cwd)
    stop_at = threading.Event()
    threads = [threading.Thread(target=_post_until_stopped, args=(
        base, tokens[org], org, acked, stop_at, round_ * 10_000)) for org in POSTERS]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 600  # only a guard against a hung hub
        before = len(acked)
        time.sleep(seconds)
        while (len(acked) < before + 3 and time.monotonic() < deadline
               and proc.poll() is None):
            time.sleep(0.05)  # however slow the machine: kill only once 3 were acknowledged
        assert proc.poll() is None, "the hub stopped before it was killed"
        proc.kill()  # SIGKILL: no shutdown of any kind
        proc.wait(30)
    finally:
        stop_at.set()
        for t in threads:
            t.join(60)
        if proc.poll() is None:
            stop(proc)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # three kill rounds and a restart on a busy 2-core machine
def test_sigkill_during_intake_loses_no_link_and_repeats_no_alert(
        database_url: str, tmp_path: Path) -> None:
    hub = Hub(Settings(database_url=database_url, data_dir=str(tmp_path)))
    hub.open()
    seed(hub)
    console = audit.Actor.console()
    tokens = {org: hub.db.write_sync(keys.create, console, org, keys.Role.ANALYST)[0]
              for org in POSTERS}
    hub.close()
    acked: list[str] = []
    for round_ in range(3):
        _round(database_url, tmp_path, tokens, acked, round_, 1.0 + 0.7 * round_)
    assert len(acked) >= 9, "the hub acknowledged too few reports before each kill"
    [(proc, _base)] = start(database_url, tmp_path)  # back up: no operator action
    try:
        check = Hub(Settings(database_url=database_url, data_dir=str(tmp_path)))
        check.open()
        try:
            deadline = time.monotonic() + 120
            while True:
                linked = check.db.read_sync(lambda c: dict(c.execute(select(
                    linked_report.c.report_id, linked_report.c.campaign_id)).all()))
                if set(acked) <= set(linked) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert [r for r in acked if r not in linked] == []
            # one wave, one campaign (past ``max_reports_per_value`` reports the shared URL
            # is a common value and links nothing more, so later reports stay alone)
            campaigns = [linked[r] for r in acked if linked[r]]
            assert len(set(campaigns)) == 1 and len(campaigns) >= 2
            alerts = check.db.read_sync(lambda c: c.execute(select(
                regional_alert.c.recipient, regional_alert.c.countries)
                .order_by(regional_alert.c.pk)).all())
        finally:
            check.close()
    finally:
        stop(proc)
    by_recipient: dict[str, list[set[str]]] = {}
    for recipient, countries in alerts:
        by_recipient.setdefault(recipient, []).append(set(orjson.loads(countries)))
    assert by_recipient  # the wave crossed borders: members not hit were alerted
    for recipient, seen in by_recipient.items():
        # each alert names a member state the recipient had not been alerted about
        assert all(a < b for a, b in itertools.pairwise(seen)), recipient
        assert len(seen) <= len(POSTERS) - 1, recipient
