"""Crypto-currency wallet addresses, kept only when their checksum holds.

- BTC: base58check P2PKH (``1...``, version 0x00) and P2SH (``3...``, 0x05); bech32 (v0)
  and bech32m (v1+) segwit ``bc1...`` per BIP-173/350 (reference code in ``bech32m``).
- ETH: ``0x`` + 40 hex; a mixed-case address must carry a valid EIP-55 checksum (Keccak-256
  from ``pycryptodome``). The canonical value is lower case; ``eip55`` holds the checksummed form.
- TRON (incl. USDT-TRC20): base58check, 21 bytes starting 0x41 (``T...``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import base58
import bech32m
from Crypto.Hash import keccak

from .observable import ObservableError, scan

__all__ = ["canonical_wallet", "eip55", "find_wallets"]

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_WALLET = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    rf"(?P<btc>[13][{_B58}]{{25,34}})"
    r"|(?P<bech>(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87})"
    r"|(?P<eth>0[xX][0-9A-Fa-f]{40})"
    rf"|(?P<tron>T[{_B58}]{{33}})"
    r")(?![A-Za-z0-9])"
)


def eip55(address: str) -> str:
    """EIP-55 checksummed form of a 0x-prefixed 40-hex-digit address."""
    lower = address[2:].lower()
    digest = keccak.new(digest_bits=256, data=lower.encode("ascii")).hexdigest()
    return "0x" + "".join(
        c.upper() if int(d, 16) >= 8 else c for c, d in zip(lower, digest[:40], strict=True)
    )


def _base58check(text: str) -> bytes | None:
    try:
        return base58.b58decode_check(text)
    except ValueError:
        return None


def canonical_wallet(text: str) -> tuple[str, str]:
    """Return (canonical address, chain 'BTC' | 'ETH' | 'TRON'); raise ObservableError."""
    raw = text.strip()
    match = _WALLET.fullmatch(raw)
    if match is None:
        raise ObservableError("crypto-wallet", text, "not a BTC, ETH or TRON address")
    if match.group("eth"):
        body = raw[2:]
        if body != body.lower() and body != body.upper() and eip55(raw) != "0x" + body:
            raise ObservableError("crypto-wallet", text, "EIP-55 checksum does not match")
        return "0x" + body.lower(), "ETH"
    if match.group("bech"):
        try:
            bech32m.decode("bc", raw.lower())
        except bech32m.DecodeError as exc:
            raise ObservableError("crypto-wallet", text, "bech32 checksum fails") from exc
        return raw.lower(), "BTC"
    payload = _base58check(raw)
    if match.group("btc") and payload is not None and len(payload) == 21 and payload[0] in (0, 5):
        return raw, "BTC"
    if match.group("tron") and payload is not None and len(payload) == 21 and payload[0] == 0x41:
        return raw, "TRON"
    raise ObservableError("crypto-wallet", text, "base58check checksum or version byte fails")


def find_wallets(text: str) -> Iterator[tuple[str, str, int, int]]:
    """Yield (canonical, chain, start, end) for wallet addresses with valid checksums."""
    return scan(_WALLET, canonical_wallet, text)
