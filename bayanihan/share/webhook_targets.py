"""Where a webhook may deliver: a strict URL check, an address filter, and pinning.

A webhook URL is accepted only when it is plain: ``http``/``https``, no credentials, no
control character or space anywhere (a NUL or CR/LF once made every delivery fail and the
worker spin), a port in 1-65535 written in digits, a host that is a DNS name (IDNA, labels
of at most 63 characters, 253 in all), an IPv4 address, or an IPv6 address in brackets
(``[8.8.8.8]`` is refused). Every address the host resolves to must be public: not private,
loopback, link-local, multicast, reserved or any other special-purpose range, and an IPv6
address that embeds an IPv4 one (NAT64 ``64:ff9b::/96`` and ``64:ff9b:1::/48``, 6to4
``2002::/16``, IPv4-mapped, Teredo) is judged by the IPv4 address inside it; the operator
may allow networks with ``webhook_allow_networks``.

The check answers a :class:`Target`: the address it approved, which delivery connects to
(the URL's host stays in ``Host`` and in TLS SNI and certificate checks), so a DNS answer
that changes between the check and the connection (DNS rebinding) cannot send a delivery
to a private address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from bayanihan.errors import InvalidInput

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")
_PORT = re.compile(r"^[0-9]{1,5}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_6TO4 = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
#: special-purpose ranges Python's ``is_global`` does not cover in every version
_NEVER = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128",
    "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8"))


@dataclass(frozen=True)
class Target:
    """An approved webhook URL and the address delivery connects to."""

    url: str
    host: str  # as written in the URL (IDNA-encoded)
    address: Address

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the approved address."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))

    @property
    def host_header(self) -> str:
        parts = urlsplit(self.url)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if parts.port is None else f"{host}:{parts.port}"

    @property
    def https(self) -> bool:
        return urlsplit(self.url).scheme == "https"


def allowed_networks(spec: str) -> list[Network]:
    try:
        return [ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip()]
    except ValueError as exc:
        raise ValueError(f"setting webhook_allow_networks: {exc}") from None


def _bad(reason: str) -> InvalidInput:
    return InvalidInput(f"the webhook URL {reason}", ["url"])


def _host(netloc: str) -> tuple[str, str | None]:
    """(host, port text) of a netloc without credentials."""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise _bad("has an unclosed '[' in its host")
        host, rest = netloc[1:end], netloc[end + 1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise _bad("has a bracketed host that is not an IPv6 address") from None
        if rest and not rest.startswith(":"):
            raise _bad("has text after its bracketed host")
        return host, rest[1:] if rest else None
    host, sep, port = netloc.rpartition(":")
    return (host, port) if sep else (netloc, None)


def _dns_name(host: str) -> str:
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _bad(f"host {host[:80]!r} is not a valid domain name (IDNA)") from None
    labels = ascii_host.rstrip(".").split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise _bad("host must be a domain name of labels of 1-63 letters, digits or '-' "
                   "(253 characters in all)")
    return ascii_host


def parse_url(url: str) -> tuple[str, str, int]:
    """(normalised URL, host, port) of a webhook URL, or InvalidInput naming ``url``."""
    if _CONTROL.search(url):
        raise _bad("must not contain spaces or control characters (NUL, CR, LF…)")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL" for [8.8.8.8]
        raise _bad(f"is malformed ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise _bad("must be http:// or https://")
    if "@" in parts.netloc:
        raise _bad("must not carry credentials")
    if parts.fragment:
        raise _bad("must not have a #fragment")
    host, port_text = _host(parts.netloc)
    if not host:
        raise _bad("must have a host")
    if port_text is not None and not (_PORT.match(port_text) and 1 <= int(port_text) <= 65535):
        raise _bad(f"port {port_text[:10]!r} is not a number from 1 to 65535")
    port = int(port_text) if port_text else (443 if parts.scheme == "https" else 80)
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None:
        host = _dns_name(host)
    return url, host, port


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 translation address carries (NAT64, 6to4, mapped)."""
    if address.version != 6:
        return None
    assert isinstance(address, ipaddress.IPv6Address)
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in n for n in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _6TO4:
        return address.sixtofour
    return None


def is_public(address: Address) -> bool:
    """Globally reachable unicast, judged by the embedded IPv4 address where there is one."""
    if address.version == 6 and address in _TEREDO:
        return False  # the client address inside is obfuscated: never a webhook target
    inner = embedded_ipv4(address)
    if inner is not None:
        return is_public(inner)
    return (address.is_global and not address.is_multicast
            and not any(address in n for n in _NEVER if n.version == address.version))


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the one DNS lookup of a delivery)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def check_target(url: str, allow: str) -> Target:
    """Refuse anything but a plain http(s) URL whose host resolves only to public addresses
    (or the operator's allowed networks); the approved address is the one to connect to."""
    url, host, port = parse_url(url)
    try:
        found = resolve(host, port)
    except (OSError, UnicodeError):
        raise InvalidInput(f"the webhook host {host} does not resolve", ["url"]) from None
    networks = allowed_networks(allow)
    approved: list[Address] = []
    for text in found:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if not (is_public(address) or any(address in n for n in networks
                                           if n.version == address.version)):
            raise InvalidInput(f"the webhook host {host} resolves to {address}, which is not "
                               "public and not in webhook_allow_networks", ["url"])
        approved.append(address)
    if not approved:
        raise InvalidInput(f"the webhook host {host} does not resolve", ["url"])
    return Target(url, host, approved[0])
