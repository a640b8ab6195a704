"""``extract(text, country)``: every observable in a lure or a free-text observables field.

The text is refanged once; extractors then run from the most specific to the least (URLs,
e-mails, bare domains, wallets, hashes, IPs, phone numbers), and a later extractor never
takes characters an earlier one already took, so the digits of ``bit.ly/0812345678`` are not
also a phone number. Results are de-duplicated on (kind, canonical value) and ordered by
where they first occur; spans point into the text as written (before refanging).

A URL carries its host's forms in ``extra`` (``host``, ``unicode``, ``skeleton``,
``registered_domain``); a separate ``domain-name`` is emitted only for a host written alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .addresses import find_ips
from .domains import normalize_domain
from .emails import find_emails
from .hashes import find_hashes
from .hosts import HOST_START, canonical_host, host_pattern, known_suffix
from .observable import Observable, ObservableError
from .phones import find_phones
from .refang import Refanged, refang_with_map
from .urls import find_urls, is_file_like
from .wallets import eip55, find_wallets

__all__ = ["MAX_TEXT", "extract"]

MAX_TEXT = 1_000_000
_BARE_DOMAIN = re.compile(HOST_START + host_pattern())


class _Collector:
    """Keeps the first observable per (kind, value) and the spans already taken."""

    def __init__(self, refanged: Refanged, source: str) -> None:
        self.refanged = refanged
        self.source = source
        self.taken: list[tuple[int, int]] = []
        self.found: dict[tuple[str, str], Observable] = {}

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.taken)

    def add(self, kind: str, value: str, start: int, end: int, extra: Iterable[tuple[str, str]] = ()) -> None:
        self.taken.append((start, end))
        if (kind, value) in self.found:
            return
        src_start, src_end = self.refanged.span(start, end)
        self.found[(kind, value)] = Observable(
            kind=kind,
            value=value,
            text=self.source[src_start:src_end],
            span=(src_start, src_end),
            extra=tuple(extra),
        )


def _domain_extra(host: str) -> list[tuple[str, str]]:
    forms = normalize_domain(host)
    extra = [("host", forms.ascii), ("unicode", forms.unicode), ("skeleton", forms.skeleton)]
    if forms.registered_domain:
        extra.append(("registered_domain", forms.registered_domain))
    return extra


def _url_extra(url: str, scheme_assumed: bool) -> list[tuple[str, str]]:
    authority = url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2]
    host = authority if authority.startswith("[") else authority.rsplit(":", 1)[0]
    host, kind = canonical_host(host)
    extra = _domain_extra(host) if kind == "domain-name" else [("host", host)]
    extra.append(("host_kind", kind))
    if scheme_assumed:
        extra.append(("scheme_assumed", "true"))
    return extra


def _plausible_bare_domain(host: str) -> bool:
    """Reject sentence joins and abbreviations a person would not mark as a domain.

    A bare host (no scheme, path or ``www.``) is weak evidence: ``terbatas.Info``,
    ``No.PIN``, ``PT.HM``, ``Ref:763179369.GRATIS`` and ``invoice.zip`` are not domains.
    """
    labels = host.split(".")
    tld = labels[-1]
    if tld[0].isupper() and not tld.isupper():
        return False
    if any(c.isupper() for c in tld) and any(c.islower() for c in "".join(labels[:-1])):
        return False
    if len(labels) == 2 and len(labels[0]) <= 2 and labels[0].isupper():
        return False
    try:
        registered = normalize_domain(host).registered_domain
    except ObservableError:
        return False
    if registered is None or registered.split(".", 1)[0].isdigit():
        return False
    return not is_file_like(host) and known_suffix(host)


def _collect_network(c: _Collector, text: str) -> None:
    for url in find_urls(text):
        if c.free(url.start, url.end):
            c.add("url", url.canonical, url.start, url.end, _url_extra(url.canonical, url.scheme_assumed))
    for value, start, end in find_emails(text):
        if c.free(start, end):
            c.add("email-addr", value, start, end, [("domain", value.rsplit("@", 1)[1])])
    for match in _BARE_DOMAIN.finditer(text):
        host = match.group(0)
        if c.free(match.start(), match.end()) and _plausible_bare_domain(host):
            try:
                extra = _domain_extra(host)
            except ObservableError:
                continue
            c.add("domain-name", extra[0][1], match.start(), match.end(), extra[1:])


def _collect_tokens(c: _Collector, text: str, country: str | None) -> None:
    for value, chain, start, end in find_wallets(text):
        if c.free(start, end):
            extra = [("chain", chain)]
            if chain == "ETH":
                extra.append(("eip55", eip55(value)))
            c.add("crypto-wallet", value, start, end, extra)
    for value, hash_type, start, end in find_hashes(text):
        if c.free(start, end):
            c.add("file-hash", value, start, end, [("hash_type", hash_type)])
    for value, kind, start, end in find_ips(text):
        if c.free(start, end):
            c.add(kind, value, start, end)
    for phone in find_phones(text, country):
        if c.free(phone.start, phone.end):
            extra = [("region", phone.region), ("number_type", phone.number_type)]
            c.add("phone-number", phone.e164, phone.start, phone.end, extra)


def extract(text: str, country: str | None = None) -> list[Observable]:
    """Typed, normalised, de-duplicated observables in ``text``, in order of appearance.

    ``country`` (ISO 3166-1 alpha-2, the reporting member) is the default region for phone
    numbers written in local format. Raises ObservableError for an unknown country or for
    text over MAX_TEXT characters.
    """
    if not isinstance(text, str):
        raise ObservableError("text", repr(type(text)), "expected a string")
    if len(text) > MAX_TEXT:
        raise ObservableError("text", text[:40], f"longer than {MAX_TEXT} characters")
    refanged = refang_with_map(text)
    collector = _Collector(refanged, text)
    _collect_network(collector, refanged.text)
    _collect_tokens(collector, refanged.text, country)
    return sorted(collector.found.values(), key=lambda o: (o.span, o.kind))
