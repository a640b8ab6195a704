"""Observable extraction and normalisation: refang, canonicalise, type, de-duplicate.

The STIX names (``stix_object``, ``stix_pattern``, ``extension_definitions``) are loaded from
``observables.stix`` on first use (PEP 562): importing the package, as every command does
through ``correlate``, then no longer imports the ``stix2`` library (0.2 s of start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .addresses import canonical_ip
from .domains import DomainForms, normalize_domain, skeleton
from .emails import canonical_email
from .extract import extract
from .hashes import canonical_hash
from .language import REGION_LANGUAGES, LanguageGuess, identify_language
from .observable import KINDS, Observable, ObservableError
from .phones import canonical_phone
from .refang import defang, refang
from .urls import canonical_url
from .wallets import canonical_wallet

if TYPE_CHECKING:
    from .stix import extension_definitions, stix_object, stix_pattern

_STIX_NAMES = frozenset({"extension_definitions", "stix_object", "stix_pattern"})

__all__ = [
    "KINDS",
    "REGION_LANGUAGES",
    "DomainForms",
    "LanguageGuess",
    "Observable",
    "ObservableError",
    "canonical_email",
    "canonical_hash",
    "canonical_ip",
    "canonical_phone",
    "canonical_url",
    "canonical_wallet",
    "defang",
    "extension_definitions",
    "extract",
    "identify_language",
    "normalize_domain",
    "refang",
    "skeleton",
    "stix_object",
    "stix_pattern",
]


def __getattr__(name: str) -> Any:
    if name not in _STIX_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import stix

    return getattr(stix, name)
