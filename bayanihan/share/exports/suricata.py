"""Suricata rules: DNS query, TLS SNI and HTTP host for domains; HTTP host + URI for URLs;
IP for addresses and CIDR blocks.

``sid`` is stable: derived from the rule's kind and value (range 1,000,000,000 –
2,999,999,999, clear of the ET and Snort ranges). ``rev`` is the indicator version's time
in seconds since 2020-09-13 (1,600,000,000): it rises when, and only when, the indicator
behind the rule (hence the rule) changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from urllib.parse import urlsplit

from bayanihan.share.exports.formats import Context, Format, Row, header_lines

__all__ = ["rules_of", "sid", "suricata"]

_REV_EPOCH = 1_600_000_000


def sid(*parts: str) -> int:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return 1_000_000_000 + int.from_bytes(digest[:8], "big") % 2_000_000_000


def _content(text: str) -> str:
    """A Suricata content string: ``"``, ``;``, ``\\`` and ``|`` (and non-printables) as hex."""
    out = []
    for ch in text:
        if ch in '";\\|' or not 32 <= ord(ch) < 127:
            out.append("|" + " ".join(f"{b:02X}" for b in ch.encode()) + "|")
        else:
            out.append(ch)
    return "".join(out)


def _msg(row: Row, what: str) -> str:
    return _content(f"BAYANIHAN {what} {row.value} TLP:{row.tlp.upper()}")


def rules_of(row: Row) -> list[str]:
    rev = max(1, row.version_us // 1_000_000 - _REV_EPOCH)
    tail = f"classtype:bad-unknown; metadata:tlp {row.tlp}, confidence {row.confidence}; rev:{rev};)"
    if row.kind == "domain":
        dom = _content("." + row.value)
        return [
            f'alert dns $HOME_NET any -> any any (msg:"{_msg(row, "DNS query")}"; dns.query; '
            f'dotprefix; content:"{dom}"; nocase; endswith; sid:{sid("dns", row.value)}; {tail}',
            f'alert tls $HOME_NET any -> any any (msg:"{_msg(row, "TLS SNI")}"; tls.sni; '
            f'dotprefix; content:"{dom}"; nocase; endswith; sid:{sid("tls", row.value)}; {tail}',
            f'alert http $HOME_NET any -> any any (msg:"{_msg(row, "HTTP host")}"; http.host; '
            f'dotprefix; content:"{dom}"; endswith; sid:{sid("http", row.value)}; {tail}',
        ]
    if row.kind == "url":
        parts = urlsplit(row.value)
        host = (parts.hostname or "").lower()
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        if not host:
            return []
        return [f'alert http $HOME_NET any -> any any (msg:"{_msg(row, "URL")}"; http.host; '
                f'content:"{_content(host)}"; bsize:{len(host.encode())}; http.uri; '
                f'content:"{_content(path)}"; startswith; sid:{sid("url", row.value)}; {tail}']
    if row.kind == "ip":
        return [f'alert ip $HOME_NET any -> {row.value} any (msg:"{_msg(row, "IP")}"; '
                f'sid:{sid("ip", row.value)}; {tail}']
    return []


def suricata(ctx: Context, fmt: Format) -> Iterator[str]:
    yield "".join(f"# {line}\n" for line in header_lines(ctx, fmt))
    batch: list[str] = []
    for row in ctx.fetch(ctx.scope):
        batch.extend(rule + "\n" for rule in rules_of(row))
        if len(batch) >= 2000:
            yield "".join(batch)
            batch.clear()
    yield "".join(batch)
