"""Fixtures for STIX validation tests: valid objects of the kinds the hub stores."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bayanihan.model import extension, tlp

HUB_IDENTITY = "identity--0c5b4a4e-6a9d-4a33-9b1e-4e1f1f3c8a11"
TLP_AMBER = tlp.MARKING_IDS[tlp.TLP.AMBER]


def indicator(n: int = 0) -> dict[str, Any]:
    """A typical shared indicator: simple URL pattern, markings, author, one reference."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--8e2e2d2b-17d4-4cbf-938f-{n:012x}",
        "created": "2026-11-20T08:15:00.000Z",
        "modified": "2026-11-20T08:15:00.000Z",
        "name": "Phishing landing page",
        "description": "Credential-harvesting page sent by SMS in Thai and English.",
        "labels": ["phishing", "smishing"],
        "indicator_types": ["malicious-activity"],
        "pattern": f"[url:value = 'http://x{n}.example/a']",
        "pattern_type": "stix",
        "valid_from": "2026-11-20T08:15:00Z",
        "object_marking_refs": [TLP_AMBER],
        "created_by_ref": HUB_IDENTITY,
        "external_references": [{"source_name": "th-cert", "url": "https://example.org/r/1"}],
    }


def base_objects() -> list[dict[str, Any]]:
    """One valid object of each kind the differential tests mutate."""
    return [
        indicator(),
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": HUB_IDENTITY,
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "name": "ThaiCERT",
            "identity_class": "organization",
            "sectors": ["government"],
        },
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
            "created": "2026-11-20T08:15:00.000Z",
            "modified": "2026-11-21T08:15:00.000Z",
            "relationship_type": "indicates",
            "source_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-000000000000",
            "target_ref": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "start_time": "2026-11-01T00:00:00Z",
            "stop_time": "2026-11-02T00:00:00Z",
        },
        {
            "type": "sighting",
            "spec_version": "2.1",
            "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
            "created": "2026-11-20T08:15:00.000Z",
            "modified": "2026-11-20T08:15:00.000Z",
            "sighting_of_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-000000000000",
            "count": 3,
            "where_sighted_refs": [HUB_IDENTITY],
            "first_seen": "2026-11-20T00:00:00Z",
            "last_seen": "2026-11-20T01:00:00Z",
        },
        {
            "type": "malware",
            "spec_version": "2.1",
            "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
            "created": "2026-11-20T08:15:00.000Z",
            "modified": "2026-11-20T08:15:00.000Z",
            "name": "Harmless test family",
            "is_family": True,
            "malware_types": ["trojan"],
            "confidence": 70,
            "lang": "en",
        },
        {
            "type": "report",
            "spec_version": "2.1",
            "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
            "created": "2026-11-20T08:15:00.000Z",
            "modified": "2026-11-20T08:15:00.000Z",
            "name": "Regional smishing wave",
            "published": "2026-11-20T08:15:00Z",
            "object_refs": ["indicator--8e2e2d2b-17d4-4cbf-938f-000000000000"],
            "report_types": ["campaign"],
        },
        tlp.marking_definition(tlp.TLP.AMBER_STRICT),
        extension.definition(HUB_IDENTITY),
        extension.with_ai_properties(indicator(7), {}) | {"x_bayanihan_note": "custom"},
        {
            "type": "url",
            "spec_version": "2.1",
            "id": "url--c1477287-23ac-5971-a010-5c287877fa60",
            "value": "http://x.example/a",
        },
        {
            "type": "domain-name",
            "spec_version": "2.1",
            "id": "domain-name--dd686e37-6889-53bd-8ae1-b1a503452613",
            "value": "x.example",
            "resolves_to_refs": ["ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"],
        },
        {
            "type": "email-addr",
            "id": "email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3",
            "value": "a@x.example",
            "display_name": "Lure sender",
        },
    ]


@pytest.fixture
def valid_indicator() -> dict[str, Any]:
    return indicator()


@pytest.fixture
def objects() -> list[dict[str, Any]]:
    return copy.deepcopy(base_objects())
