"""Observables as STIX 2.1 SCOs and indicator patterns, checked with stix2-validator."""

from __future__ import annotations

import json

import pytest
import stix2
from stix2patterns.validator import run_validator
from stix2validator import ValidationOptions, validate_instance

from bayanihan.ingest.observables import Observable, extract
from bayanihan.ingest.observables.stix import (
    extension_definitions,
    pattern_escape,
    stix_object,
    stix_pattern,
)

LURE = (
    "hxxps://evil[.]example/it's?q=\\x mail boss[@]corp(.)co.th www.xn--pypal-4ve.com "
    "203.0.113.9 198.51.100.0/24 2001:db8::/32 +66812345678 "
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359 TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t "
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq "
    "d41d8cd98f00b204e9800998ecf8427e da39a3ee5e6b4b0d3255bfef95601890afd80709 "
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 "
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e "
    "T1F7414AE14F23003F8D40864B6CE80D35D7A31A8A5A62E065ABF05BBE730F3B20300A33 "
    "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C evil.example.com"
)
OPTIONS = ValidationOptions(version="2.1")


def _indicator(pattern: str) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "lure indicator",
        "description": "from a report",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "indicator_types": ["malicious-activity"],
    }


@pytest.fixture(scope="module")
def observables() -> list[Observable]:
    found = extract(LURE, "TH")
    assert {o.kind for o in found} == {
        "url",
        "email-addr",
        "domain-name",
        "ipv4-addr",
        "ipv6-addr",
        "phone-number",
        "crypto-wallet",
        "file-hash",
    }
    assert {o.get("hash_type") for o in found if o.kind == "file-hash"} == {
        "MD5",
        "SHA-1",
        "SHA-256",
        "SHA-512",
        "TLSH",
        "SSDEEP",
    }
    return found


def test_every_sco_and_pattern_validates(observables: list[Observable]) -> None:
    for observable in observables:
        sco = stix_object(observable)
        result = validate_instance(sco, OPTIONS)
        assert result.is_valid and not result.errors, (observable, [str(e) for e in result.errors])
        pattern = stix_pattern(observable)
        assert run_validator(pattern) == [], pattern
        result = validate_instance(_indicator(pattern), OPTIONS)
        assert result.is_valid and not result.errors, (pattern, [str(e) for e in result.errors])


def test_extension_definitions_validate() -> None:
    for definition in extension_definitions():
        result = validate_instance(definition, OPTIONS)
        assert result.is_valid and not result.errors
        assert definition["extension_types"] == ["new-sco"]
        json.loads(definition["schema"])


def test_new_scos_survive_stix2_parse(observables: list[Observable]) -> None:
    for observable in observables:
        sco = stix_object(observable)
        parsed = json.loads(stix2.parse(json.dumps(sco)).serialize())
        assert parsed == sco
        if observable.kind in ("phone-number", "crypto-wallet"):
            (ext_id,) = sco["extensions"]
            assert sco["extensions"][ext_id] == {"extension_type": "new-sco"}
            assert ext_id in {d["id"] for d in extension_definitions()}


def test_sco_ids_are_deterministic(observables: list[Observable]) -> None:
    again = extract(LURE, "TH")
    assert [stix_object(o)["id"] for o in again] == [stix_object(o)["id"] for o in observables]


def test_quotes_and_backslashes_are_escaped(observables: list[Observable]) -> None:
    (url,) = [o for o in observables if o.kind == "url" and "evil.example" in o.value]
    assert url.value == "https://evil.example/it's?q=%5Cx"
    assert stix_pattern(url) == "[url:value = 'https://evil.example/it\\'s?q=%5Cx']"
    assert pattern_escape("a\\'b") == "a\\\\\\'b"
    assert run_validator(f"[url:value = '{pattern_escape(chr(92) + chr(39))}']") == []


def test_tlsh_drops_its_version_prefix_in_stix(observables: list[Observable]) -> None:
    (tlsh,) = [o for o in observables if o.get("hash_type") == "TLSH"]
    assert tlsh.value.startswith("T1") and len(tlsh.value) == 72
    assert stix_object(tlsh)["hashes"] == {"TLSH": tlsh.value[2:]}
