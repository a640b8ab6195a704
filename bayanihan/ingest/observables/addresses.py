"""IPv4 and IPv6 addresses and CIDR networks in canonical form (``ipaddress``).

A network keeps its prefix and is written with host bits cleared (``10.1.2.3/24`` ->
``10.1.2.0/24``); a full-length prefix (``/32``, ``/128``) is the plain address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from .observable import ObservableError, scan
from .refang import refang

__all__ = ["canonical_ip", "find_ips"]

_IPV4 = re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?:/[0-9]{1,2})?(?![0-9]|\.[0-9])")
_IPV6 = re.compile(
    r"(?<![0-9A-Fa-f:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}"
    r"(?:(?<=:)(?:[0-9]{1,3}\.){3}[0-9]{1,3})?(?:/[0-9]{1,3})?(?![0-9A-Fa-f:])"
)


def canonical_ip(text: str) -> tuple[str, str]:
    """Return (canonical address or network, 'ipv4-addr' | 'ipv6-addr')."""
    raw = refang(text).strip().strip("[]")
    try:
        if "/" in raw:
            network = ipaddress.ip_network(raw, strict=False)
            full = network.prefixlen == network.max_prefixlen
            value = str(network.network_address) if full else network.with_prefixlen
            version = network.version
        else:
            address = ipaddress.ip_address(raw)
            value, version = address.compressed, address.version
    except ValueError as exc:
        raise ObservableError("ip address", text, str(exc)) from exc
    return value, "ipv4-addr" if version == 4 else "ipv6-addr"


def find_ips(text: str) -> Iterator[tuple[str, str, int, int]]:
    """Yield (canonical, kind, start, end) for IPv4/IPv6 addresses and networks in text."""
    yield from scan(_IPV4, canonical_ip, text)
    yield from (found for found in scan(_IPV6, canonical_ip, text) if found[0] != "::")
