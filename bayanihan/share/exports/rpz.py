"""A DNS Response Policy Zone (RFC draft ``dnsop-dns-rpz``) that BIND loads.

Each domain gets ``name CNAME .`` (NXDOMAIN) and ``*.name CNAME .`` (its sub-domains);
IPv4 addresses and CIDR blocks get an ``rpz-ip`` trigger (answers containing them are
blocked). Lookalike domains are listed in their IDNA A-label (punycode) form, as DNS
carries them. The serial is the export time in seconds (it rises with every export).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from bayanihan.share.exports.formats import Context, Format, header_lines

__all__ = ["ORIGIN", "rpz"]

ORIGIN = "rpz.bayanihan."
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def _owner(row_kind: str, value: str) -> list[str]:
    if row_kind == "domain":
        labels = value.rstrip(".").split(".")
        if len(value) > 230 or not all(_LABEL.fullmatch(label) for label in labels):
            return []
        return [value, f"*.{value}"]
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return []
    if net.version != 4:
        return []  # rpz-ip for IPv6 needs the zz form; not written yet
    octets = str(net.network_address).split(".")
    return [f"{net.prefixlen}.{'.'.join(reversed(octets))}.rpz-ip"]


def rpz(ctx: Context, fmt: Format) -> Iterator[str]:
    head = "".join(f"; {line}\n" for line in header_lines(ctx, fmt))
    serial = ctx.now_us // 1_000_000 % 4_294_967_296
    yield (f"{head}$TTL 300\n$ORIGIN {ORIGIN}\n"
           f"@ IN SOA localhost. hostmaster.localhost. ({serial} 3600 600 86400 300)\n"
           "@ IN NS localhost.\n")
    batch: list[str] = []
    for row in ctx.fetch(ctx.scope):
        for owner in _owner(row.kind, row.value):
            batch.append(f"{owner} CNAME .\n")
        if len(batch) >= 2000:
            yield "".join(batch)
            batch.clear()
    yield "".join(batch)
