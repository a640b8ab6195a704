"""Host-name patterns shared by the URL, domain and e-mail extractors.

Scripts written without spaces (Thai, Lao, Khmer, Burmese, Chinese) glue links to words:
``คลิกbit.ly/3abcโทร``. A scheme-less host is therefore made only of Latin, Greek and Cyrillic
letters (the scripts homoglyph attacks mix), digits and hyphens, so it starts and stops at the
neighbouring Thai word. Hosts in other scripts (``ตัวอย่าง.ไทย``) are recognised after an
explicit ``http(s)://`` and then cut where an ASCII top-level label runs into other letters.
"""

from __future__ import annotations

import ipaddress
import unicodedata

from .domains import is_known_suffix, normalize_domain
from .observable import ObservableError

__all__ = [
    "HOST_START",
    "LABEL_CHARS",
    "LATINISH",
    "canonical_host",
    "cut_glued_host",
    "glued_www",
    "host_pattern",
    "known_suffix",
]

# Latin, Greek, Cyrillic and fullwidth letters and digits (lookalikes are written in all four)
LATINISH = (r"A-Za-z0-9\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF"
            r"\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A")
LABEL_CHARS = LATINISH + r"\-"
_LABEL = rf"[{LATINISH}](?:[{LABEL_CHARS}]{{0,61}}[{LATINISH}])?"
_TLD = r"(?:[A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9\-]{1,59}|[\u0400-\u04FF]{2,63})"
_HOST_KEEP = set("-.:@%_[]")
# A scheme-less host does not continue a word or a path (e-mails are taken before hosts).
HOST_START = rf"(?<![{LABEL_CHARS}._/])"


def host_pattern() -> str:
    """Regex source for a scheme-less host name ending in a letter-only top-level label."""
    return rf"(?:{_LABEL}\.)+{_TLD}(?![{LABEL_CHARS}])"


def cut_glued_host(host: str) -> str:
    """Cut a host taken after ``scheme://`` where punctuation or a glued word begins."""
    for index, char in enumerate(host):
        if char in _HOST_KEEP:
            continue
        category = unicodedata.category(char)
        if category[0] in "PSZC":
            host = host[:index]
            break
    # A top-level label never mixes ASCII with other letters: ``comคลิก`` is ``com`` + a word.
    head, dot, last = host.rpartition(".")
    if dot and last:
        port = ""
        if ":" in last:
            last, _, port = last.partition(":")
            port = ":" + port
        for index in range(1, len(last)):
            if last[index - 1].isascii() != last[index].isascii():
                return f"{head}.{last[:index]}"
        if not port and not last.isascii() and not _is_tld(last):
            for index in range(len(last) - 1, 1, -1):
                if _is_tld(last[:index]):
                    return f"{head}.{last[:index]}"
        return f"{head}.{last}{port}"
    return host


def _is_tld(label: str) -> bool:
    return known_suffix("x." + label)


def glued_www(host: str) -> int:
    """Offset of ``www.`` when a sentence runs into it (``100juta.www.example.com``), else 0."""
    index = host.lower().find(".www.")
    return index + 1 if index != -1 else 0


def canonical_host(host: str) -> tuple[str, str]:
    """Return (canonical host for a URL, kind) where kind is domain-name/ipv4-addr/ipv6-addr."""
    if host.startswith("[") and host.endswith("]"):
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError as exc:
            raise ObservableError("url", host, "bracketed host is not an IPv6 address") from exc
        return f"[{address.compressed}]", "ipv6-addr"
    try:
        return str(ipaddress.IPv4Address(host)), "ipv4-addr"
    except ValueError:
        pass
    forms = normalize_domain(host)
    return forms.ascii, "domain-name"


def known_suffix(host: str) -> bool:
    """Whether a host's A-label form ends in a listed public suffix."""
    try:
        return is_known_suffix(normalize_domain(host).ascii)
    except ObservableError:
        return False
