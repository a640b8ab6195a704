"""A DNS Response Policy Zone (RFC draft ``dnsop-dns-rpz``) that BIND loads.

Each domain gets ``name CNAME .`` (NXDOMAIN) and ``*.name CNAME .`` (its sub-domains);
IPv4 addresses and CIDR blocks get an ``rpz-ip`` trigger (answers containing them are
blocked). Lookalike domains are listed in their IDNA A-label (punycode) form, as DNS
carries them. The serial is the export time in seconds (it rises with every export).

Names are checked a page at a time (one regular expression over the page, then name by name
only when the page has a bad one), and plain dotted IPv4 addresses are turned around without
``ipaddress``: a million values take about a second here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from bayanihan.share.exports.formats import Context, Format, header_lines, value_pages

__all__ = ["ORIGIN", "rpz"]

ORIGIN = "rpz.bayanihan."
_LABEL_RE = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_LABEL = re.compile(_LABEL_RE)
_NAMES = re.compile(rf"(?:{_LABEL_RE}(?:\.{_LABEL_RE})*\n)*")
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


def _owner(row_kind: str, value: str) -> list[str]:
    if row_kind == "domain":
        labels = value.rstrip(".").split(".")
        if len(value) > 230 or not all(_LABEL.fullmatch(label) for label in labels):
            return []
        return [value, f"*.{value}"]
    plain = _IPV4.fullmatch(value)
    if plain:
        return [f"32.{plain[4]}.{plain[3]}.{plain[2]}.{plain[1]}.rpz-ip"]
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return []
    if net.version != 4:
        return []  # rpz-ip for IPv6 needs the zz form; not written yet
    octets = str(net.network_address).split(".")
    return [f"{net.prefixlen}.{'.'.join(reversed(octets))}.rpz-ip"]


def _domains(page: list[str]) -> str:
    text = "\n".join(page) + "\n"
    if max(map(len, page)) <= 230 and _NAMES.fullmatch(text):
        return "".join([f"{name} CNAME .\n*.{name} CNAME .\n" for name in page])
    return "".join(f"{owner} CNAME .\n" for name in page for owner in _owner("domain", name))


def rpz(ctx: Context, fmt: Format) -> Iterator[str]:
    head = "".join(f"; {line}\n" for line in header_lines(ctx, fmt))
    serial = ctx.now_us // 1_000_000 % 4_294_967_296
    yield (f"{head}$TTL 300\n$ORIGIN {ORIGIN}\n"
           f"@ IN SOA localhost. hostmaster.localhost. ({serial} 3600 600 86400 300)\n"
           "@ IN NS localhost.\n")
    for kind in sorted(ctx.scope.kinds):
        for page in value_pages(ctx, kind):
            if kind == "domain":
                yield _domains(page)
            else:
                yield "".join(f"{owner} CNAME .\n" for value in page
                              for owner in _owner(kind, value))
