"""Custom ``x-*`` objects: the same verdicts as stix2-validator, on the fast path (issue 11.7)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from bayanihan.model import validation
from bayanihan.model.validation import validate
from tests.model.strategies import stix_objects
from tests.model.test_validation_differential import validator_rejects

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def as_custom(obj: dict[str, Any]) -> dict[str, Any]:
    """The same object, as a custom type (its id renamed to match)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or "--" not in obj["id"]:
        return obj
    return {**obj, "type": "x-acme-widget", "id": "x-acme-widget--" + obj["id"].split("--", 1)[1]}


@SETTINGS
@given(stix_objects(max_mutations=1))
def test_custom_objects_get_the_validators_verdict(obj: dict[str, Any]) -> None:
    custom = as_custom(obj)
    assert bool(validate(custom)) == validator_rejects(custom), custom


@SETTINGS
@given(stix_objects(max_mutations=1))
def test_fast_path_accepts_custom_objects_only_when_the_validator_does(obj: dict[str, Any]) -> None:
    custom = as_custom(obj)
    if validation._fast_accept(custom):
        assert not validator_rejects(custom), custom


def test_a_valid_custom_object_is_accepted_without_the_validator() -> None:
    obj = {"type": "x-mitre-tactic", "spec_version": "2.1",
           "id": "x-mitre-tactic--ffd29ca7-1d8b-4f12-a0ab-0b5e6b8de5fc",
           "created": "2018-10-17T00:14:20.652Z", "modified": "2022-04-25T14:00:00.188Z",
           "name": "Initial Access", "x_mitre_shortname": "initial-access",
           "extensions": {"extension-definition--1bd4f7f4-2b3d-4b4e-8f44-6c5a1f0b2d3e":
                          {"extension_type": "property-extension"}}}
    assert validation._fast_accept(obj)
    assert validate(obj) == []
    assert not validator_rejects(obj)
