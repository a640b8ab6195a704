"""The eleven ASEAN member states and the kinds of organisation the hub admits."""

from __future__ import annotations

from enum import StrEnum

#: ISO 3166-1 alpha-2 code -> (country, national CERT name as commonly known).
MEMBER_STATES: dict[str, tuple[str, str]] = {
    "BN": ("Brunei Darussalam", "BruCERT"),
    "KH": ("Cambodia", "CamCERT"),
    "ID": ("Indonesia", "ID-SIRTII/CC (BSSN)"),
    "LA": ("Lao PDR", "LaoCERT"),
    "MY": ("Malaysia", "MyCERT"),
    "MM": ("Myanmar", "mmCERT"),
    "PH": ("Philippines", "CERT-PH"),
    "SG": ("Singapore", "SingCERT"),
    "TH": ("Thailand", "ThaiCERT"),
    "TL": ("Timor-Leste", "TL-CERT"),
    "VN": ("Viet Nam", "VNCERT/CC"),
}


class OrgKind(StrEnum):
    """What an organisation is to the hub; it decides what TLP lets it read."""

    HUB = "hub"  # the hub operator
    MEMBER = "member"  # a member state's national CERT
    PARTNER = "partner"  # e.g. a dialogue partner's CERT
    OBSERVER = "observer"
    DOWNSTREAM = "downstream"  # a bank, telco or ministry SOC under a member


def is_member_state(code: str) -> bool:
    return code.upper() in MEMBER_STATES
