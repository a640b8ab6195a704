"""Phone numbers to E.164 with ``phonenumbers``; the reporting country is the default region.

Local formats (Thai ``081-234-5678``, Indonesian ``0812-3456-7890``, Philippine
``0917 123 4567``) are read in the reporting country's numbering plan; without a country only
numbers written with ``+`` and a country code are taken. Only numbers the library deems valid
are kept, so amounts, dates and transaction codes are not taken for phone numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher, PhoneNumberType

from .observable import ObservableError

__all__ = ["PhoneMatch", "canonical_phone", "find_phones"]

_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed-line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed-line-or-mobile",
    PhoneNumberType.TOLL_FREE: "toll-free",
    PhoneNumberType.PREMIUM_RATE: "premium-rate",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.SHARED_COST: "shared-cost",
}
_MAX_PHONE_TEXT = 64


def _region(country: str | None) -> str | None:
    if country is None:
        return None
    code = country.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ObservableError("phone-number", country, "unknown country code for the region")
    return code


def _describe(number: phonenumbers.PhoneNumber) -> tuple[str, str, str]:
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    region = phonenumbers.region_code_for_number(number) or ""
    kind = _TYPES.get(phonenumbers.number_type(number), "unknown")
    return e164, region, kind


def canonical_phone(text: str, country: str | None = None) -> str:
    """E.164 form of one phone number; raise ObservableError when it is not a valid number."""
    if len(text) > _MAX_PHONE_TEXT:
        raise ObservableError("phone-number", text, "longer than any phone number")
    try:
        number = phonenumbers.parse(text, _region(country))
    except phonenumbers.NumberParseException as exc:
        raise ObservableError("phone-number", text, str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise ObservableError("phone-number", text, "not a valid number in its numbering plan")
    return _describe(number)[0]


class PhoneMatch(NamedTuple):
    """One phone number found in text."""

    e164: str
    region: str
    number_type: str
    start: int
    end: int


def find_phones(text: str, country: str | None = None) -> Iterator[PhoneMatch]:
    """Yield valid phone numbers in text, read in the numbering plan of ``country``."""
    for match in PhoneNumberMatcher(text, _region(country), leniency=Leniency.VALID):
        e164, region, kind = _describe(match.number)
        yield PhoneMatch(e164, region, kind, match.start, match.end)
