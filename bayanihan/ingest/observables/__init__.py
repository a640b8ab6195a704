"""Observable extraction and normalisation: refang, canonicalise, type, de-duplicate."""

from .addresses import canonical_ip
from .domains import DomainForms, normalize_domain, skeleton
from .emails import canonical_email
from .extract import extract
from .hashes import canonical_hash
from .observable import KINDS, Observable, ObservableError
from .phones import canonical_phone
from .refang import defang, refang
from .urls import canonical_url
from .wallets import canonical_wallet

__all__ = [
    "KINDS",
    "DomainForms",
    "Observable",
    "ObservableError",
    "canonical_email",
    "canonical_hash",
    "canonical_ip",
    "canonical_phone",
    "canonical_url",
    "canonical_wallet",
    "defang",
    "extract",
    "normalize_domain",
    "refang",
    "skeleton",
]
