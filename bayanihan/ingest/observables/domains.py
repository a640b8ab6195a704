"""Domain names: IDNA A-label, Unicode U-label, TR39 confusable skeleton, registered domain.

The skeleton is :func:`bayanihan.model.skeleton.skeleton` (the one implementation, shared
with the lure normaliser): non-ASCII confusables fold to their ASCII prototype, so the
skeleton of an ASCII domain is itself and ``pаypal-verify.com`` (Cyrillic ``а``) has the
skeleton ``paypal-verify.com``.

The registered domain comes from the public suffix list bundled in ``publicsuffixlist``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import idna
from publicsuffixlist import PublicSuffixList

from bayanihan.model.skeleton import skeleton

from .observable import ObservableError
from .refang import refang

__all__ = ["DomainForms", "is_known_suffix", "normalize_domain", "registered_domain", "skeleton"]

_MAX_DOMAIN = 253


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@dataclass(frozen=True, slots=True)
class DomainForms:
    """The forms of one domain name that matching and blocklists need."""

    ascii: str  # IDNA A-label form, lower case: what DNS and STIX domain-name carry
    unicode: str  # U-label form, for people
    skeleton: str  # TR39 skeleton of the Unicode form
    registered_domain: str | None  # eTLD+1 per the public suffix list; None for a bare suffix
    known_suffix: bool  # the last labels are a suffix listed in the public suffix list


def _to_ascii(host: str) -> str:
    try:
        return idna.encode(host, uts46=True, transitional=False, std3_rules=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ObservableError("domain-name", host, f"not a valid IDNA host name ({exc})") from exc


def is_known_suffix(host: str) -> bool:
    """True when ``host`` (A-label form) ends in a suffix listed in the public suffix list."""
    return _psl().publicsuffix(host, accept_unknown=False) is not None


def registered_domain(host: str) -> str | None:
    """The registrable domain (eTLD+1) of an A-label host, or None when it is a suffix."""
    return _psl().privatesuffix(host)


@lru_cache(maxsize=8192)
def _normalize_cached(text: str) -> DomainForms:
    host = refang(text).strip().rstrip(".")
    if not host:
        raise ObservableError("domain-name", text, "empty")
    ascii_host = _to_ascii(host).lower()
    if len(ascii_host) > _MAX_DOMAIN or "." not in ascii_host:
        raise ObservableError("domain-name", text, "needs at least two labels, at most 253 chars")
    try:
        unicode_host = idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError) as exc:
        raise ObservableError("domain-name", text, f"A-label does not decode ({exc})") from exc
    return DomainForms(
        ascii=ascii_host,
        unicode=unicode_host,
        skeleton=skeleton(unicode_host),
        registered_domain=registered_domain(ascii_host),
        known_suffix=is_known_suffix(ascii_host),
    )


def normalize_domain(text: str) -> DomainForms:
    """Normalise a (possibly defanged, possibly Unicode) domain name; raise ObservableError."""
    if len(text) > 4 * _MAX_DOMAIN:
        raise ObservableError("domain-name", text, "longer than any domain name")
    return _normalize_cached(text)
