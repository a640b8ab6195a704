"""Fixtures for reports: a served hub with the reports router and MITRE techniques loaded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bayanihan.cli.ingest_files import load_atlas
from bayanihan.hub import Hub
from bayanihan.ingest.bundles import Submitter
from bayanihan.model.atlas import external_ids
from bayanihan.model.tlp import TLP
from bayanihan.store import organisations as orgs
from tests.conftest import RunningHub

#: A MITRE ATT&CK technique as the ATT&CK STIX release writes it (the tests do not ship
#: the whole ATT&CK bundle).
ATTACK_PHISHING: dict[str, Any] = {
    "type": "attack-pattern", "spec_version": "2.1",
    "id": "attack-pattern--a62a8db3-f23a-4d8f-afd6-9dbc77e7813b",
    "created": "2020-03-02T18:45:07.892Z", "modified": "2025-04-15T19:58:18.023Z",
    "name": "Phishing",
    "external_references": [{"source_name": "mitre-attack", "external_id": "T1566",
                             "url": "https://attack.mitre.org/techniques/T1566"}],
    "object_marking_refs": [TLP.CLEAR.marking_id],
}


@pytest.fixture(scope="session")
def atlas_raw(shared_data: Path) -> bytes:
    path = shared_data / "atlas" / "stix-atlas.json"
    assert path.is_file(), f"{path} is missing from the shared data"
    return path.read_bytes()


#: The ATLAS techniques the report tests use (the whole release loads in test_atlas.py).
USED_TECHNIQUES = {"AML.T0052", "AML.T0088", "AML.T0051", "AML.T0048"}


@pytest.fixture(scope="session")
def atlas_subset(atlas_raw: bytes) -> bytes:
    """The ATLAS release cut down to the techniques the tests use (real objects)."""
    bundle = json.loads(atlas_raw)
    keep = [o for o in bundle["objects"] if set(external_ids(o)) & USED_TECHNIQUES]
    assert len(keep) == len(USED_TECHNIQUES)
    return json.dumps({**bundle, "objects": keep}).encode()


def load_techniques(hub: Hub, atlas: bytes) -> None:
    """ATLAS techniques and one ATT&CK technique, stored as the hub operator."""
    hub_org = hub.db.read_sync(orgs.require, orgs.HUB_CODE)
    submitter = Submitter(hub_org.code, hub_org.identity_id, hub_org.kind)
    result, _ = asyncio.run(load_atlas(hub, atlas, submitter))
    assert result.rejected == 0, result.as_dict()
    extra = asyncio.run(hub.ingest_objects([ATTACK_PHISHING], submitter, None))
    assert extra.rejected == 0


@pytest.fixture
def report_hub(make_hub: Callable[..., RunningHub], atlas_subset: bytes,
               ) -> Callable[..., RunningHub]:
    """``report_hub(**settings)`` -> a seeded hub on loopback with the techniques loaded."""

    def factory(**overrides: Any) -> RunningHub:
        rh = make_hub(**overrides)
        load_techniques(rh.hub, atlas_subset)
        return rh

    return factory
