"""Observable extraction and normalisation: refang, canonicalise, type, de-duplicate."""

from .addresses import canonical_ip
from .domains import DomainForms, normalize_domain, skeleton
from .emails import canonical_email
from .extract import extract
from .hashes import canonical_hash
from .language import REGION_LANGUAGES, LanguageGuess, identify_language
from .observable import KINDS, Observable, ObservableError
from .phones import canonical_phone
from .refang import defang, refang
from .stix import extension_definitions, stix_object, stix_pattern
from .urls import canonical_url
from .wallets import canonical_wallet

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
