"""Observables as STIX 2.1: cyber-observable objects (SCOs) and indicator patterns.

Standard kinds map to standard SCOs: ``url``, ``domain-name``, ``ipv4-addr``, ``ipv6-addr``,
``email-addr``, and ``file`` with ``hashes`` keyed by the STIX names ``MD5``, ``SHA-1``,
``SHA-256``, ``SHA-512``, ``TLSH``, ``SSDEEP``. STIX's hashes schema (and the ``stix2``
library) take TLSH as the 70 hex digits without the ``T1`` version prefix that ``py-tlsh``
prints, so the prefix is dropped there; the observable value keeps it.

Phone numbers and wallet addresses have no STIX SCO. STIX 2.1 deprecates ad-hoc ``x-``
custom objects in favour of an ``extension-definition``, so the hub publishes one
extension-definition per new SCO type (``extension_types: ["new-sco"]``) and the objects
carry ``extensions: {<definition id>: {"extension_type": "new-sco"}}``. Following the
specification's own example (``my-favorite-sdo``), the type names carry no ``x-`` prefix:

- ``bayanihan-phone-number``: ``value`` (E.164, id-contributing), ``region``, ``number_type``;
- ``bayanihan-crypto-wallet``: ``value`` and ``chain`` (BTC/ETH/TRON; both id-contributing).

Both are registered with the ``stix2`` library, so ids are the deterministic UUIDv5 ids of
SCOs and the objects survive ``stix2.parse`` unchanged. Patterns use the same type names.
"""

from __future__ import annotations

import json
from typing import Any

import stix2
from stix2.properties import StringProperty
from stix2.v21 import CustomObservable

from .observable import Observable, ObservableError

__all__ = [
    "HUB_IDENTITY_ID",
    "PHONE_EXTENSION_ID",
    "WALLET_EXTENSION_ID",
    "extension_definitions",
    "pattern_escape",
    "stix_object",
    "stix_pattern",
]

PHONE_EXTENSION_ID = "extension-definition--2f0c3b8e-5d1a-4e61-9b0f-6a1d7c2e4b90"
WALLET_EXTENSION_ID = "extension-definition--8b6e1f42-3c7d-4a05-a2e9-0d5f9c1b7e63"
# The hub's identity; the model package may own the real one (the id must then match).
HUB_IDENTITY_ID = "identity--5b7f3e0a-1c2d-4e8f-9a6b-3d4c5e6f7a80"
_DEFINED = "2026-11-27T00:00:00.000Z"


@CustomObservable(
    "bayanihan-phone-number",
    [
        ("value", StringProperty(required=True)),
        ("region", StringProperty()),
        ("number_type", StringProperty()),
    ],
    ["value"],
    extension_name=PHONE_EXTENSION_ID,
)
class PhoneNumber:
    """A phone number in E.164 form (new SCO defined by the hub)."""


@CustomObservable(
    "bayanihan-crypto-wallet",
    [("value", StringProperty(required=True)), ("chain", StringProperty(required=True))],
    ["value", "chain"],
    extension_name=WALLET_EXTENSION_ID,
)
class CryptoWallet:
    """A crypto-currency wallet address (new SCO defined by the hub)."""


_PHONE_SCHEMA = {
    "type": "object",
    "required": ["type", "id", "value"],
    "properties": {
        "type": {"const": "bayanihan-phone-number"},
        "value": {"type": "string", "pattern": "^\\+[1-9][0-9]{1,14}$"},
        "region": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "number_type": {"type": "string"},
    },
}
_WALLET_SCHEMA = {
    "type": "object",
    "required": ["type", "id", "value", "chain"],
    "properties": {
        "type": {"const": "bayanihan-crypto-wallet"},
        "value": {"type": "string", "minLength": 26, "maxLength": 90},
        "chain": {"enum": ["BTC", "ETH", "TRON"]},
    },
}


def extension_definitions(created_by_ref: str = HUB_IDENTITY_ID) -> list[dict[str, Any]]:
    """The two extension-definition objects the hub publishes for its new SCO types."""
    defs = [
        (
            PHONE_EXTENSION_ID,
            "Bayanihan phone number",
            _PHONE_SCHEMA,
            "Phone number used by a scam (SMS, voice, chat), E.164.",
        ),
        (
            WALLET_EXTENSION_ID,
            "Bayanihan crypto-currency wallet",
            _WALLET_SCHEMA,
            "Wallet address a victim is told to pay; checksum verified.",
        ),
    ]
    return [
        {
            "type": "extension-definition",
            "spec_version": "2.1",
            "id": ext_id,
            "created_by_ref": created_by_ref,
            "created": _DEFINED,
            "modified": _DEFINED,
            "name": name,
            "description": description,
            "schema": json.dumps(schema, sort_keys=True),
            "version": "1.0.0",
            "extension_types": ["new-sco"],
        }
        for ext_id, name, schema, description in defs
    ]


def _tlsh_for_stix(value: str) -> str:
    return value[2:] if len(value) == 72 and value[:2].upper() == "T1" else value


def _sco(observable: Observable) -> stix2.base._Observable:
    kind, value = observable.kind, observable.value
    if kind == "url":
        return stix2.v21.URL(value=value)
    if kind == "domain-name":
        return stix2.v21.DomainName(value=value)
    if kind == "email-addr":
        return stix2.v21.EmailAddress(value=value)
    if kind == "ipv4-addr":
        return stix2.v21.IPv4Address(value=value)
    if kind == "ipv6-addr":
        return stix2.v21.IPv6Address(value=value)
    if kind == "file-hash":
        hash_type = observable.get("hash_type") or ""
        digest = _tlsh_for_stix(value) if hash_type == "TLSH" else value
        return stix2.v21.File(hashes={hash_type: digest})
    if kind == "phone-number":
        props = {k: v for k, v in observable.extra if k in ("region", "number_type") and v}
        return PhoneNumber(value=value, **props)
    if kind == "crypto-wallet":
        return CryptoWallet(value=value, chain=observable.get("chain"))
    raise ObservableError(kind, value, "no STIX representation for this kind")


def stix_object(observable: Observable) -> dict[str, Any]:
    """The STIX 2.1 SCO for an observable, as a JSON-ready dict with a deterministic id."""
    result: dict[str, Any] = json.loads(_sco(observable).serialize())
    return result


def pattern_escape(value: str) -> str:
    """Escape a string literal for a STIX pattern (backslash and single quote)."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def stix_pattern(observable: Observable) -> str:
    """A STIX 2.1 indicator pattern matching the observable's canonical value."""
    sco = stix_object(observable)
    if observable.kind == "file-hash":
        ((name, digest),) = sco["hashes"].items()
        return f"[file:hashes.'{name}' = '{pattern_escape(digest)}']"
    return f"[{sco['type']}:value = '{pattern_escape(observable.value)}']"
