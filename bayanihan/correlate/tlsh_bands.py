"""TLSH digest parsing and the locality-sensitive keys the variant index stores.

A TLSH digest (128 buckets, 1-byte checksum, as ``py-tlsh`` writes it) is ``T1`` followed by
35 bytes in hex: a 3-byte header (checksum, log-length ``Lvalue``, the two quartile ratios,
each byte written nibble-swapped) and a 32-byte body holding 128 two-bit quartile codes.
``tlsh.diff`` adds header terms (a log-length difference of 1 costs 1, of d >= 2 costs 12*d)
to the per-code differences of the body (1 or 2, and 6 when the codes differ by 3).

The keys: each code is reduced to its high bit (code >= 2), which flips only when a bucket
crosses the median, so close variants agree on most of the 128 bits. The bits are cut into
8 bands of 16 bits in two layouts (positions in order, and a fixed shuffle): 16 keys. Two
digests whose bodies differ in at most 7 high bits share a key in each layout for certain
(pigeonhole); beyond that, the second layout makes a shared key likely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DIGEST_BYTES = 35
"""Bytes of a 128-bucket, 1-byte-checksum TLSH digest after the ``T1`` version prefix."""

BAND_BITS = 16
BANDS_PER_LAYOUT = 8
KEY_COUNT = 2 * BANDS_PER_LAYOUT

# Layout 1 reads the 128 high bits in this fixed order (random.Random(20261127).shuffle).
# Changing it, or BAND_BITS, changes every stored key: it needs a migration that re-keys.
_SHUFFLE = (
    46, 25, 45, 81, 99, 70, 43, 41, 97, 111, 96, 71, 121, 78, 125, 48, 56, 77, 37, 24, 127,
    79, 23, 22, 105, 63, 29, 98, 8, 61, 47, 117, 27, 114, 51, 124, 80, 68, 31, 7, 109, 54, 85,
    0, 15, 16, 39, 28, 93, 108, 14, 120, 2, 44, 123, 53, 42, 55, 1, 92, 106, 72, 64, 102, 10,
    40, 126, 12, 115, 13, 87, 76, 118, 84, 58, 17, 103, 52, 90, 113, 32, 49, 119, 65, 116, 89,
    88, 67, 110, 60, 35, 122, 86, 82, 73, 66, 57, 6, 3, 100, 91, 19, 62, 83, 94, 74, 5, 26, 95,
    112, 4, 59, 20, 101, 11, 34, 30, 50, 36, 21, 18, 107, 69, 38, 104, 33, 75, 9,
)

_HEX = re.compile(r"[0-9A-Fa-f]{70}")


class VariantDigestError(ValueError):
    """A value that is not a usable TLSH digest; ``field`` names where it came from."""

    def __init__(self, value: object, reason: str, field: str = "tlsh") -> None:
        shown = repr(value) if len(repr(value)) <= 90 else repr(value)[:87] + "..."
        super().__init__(f"{field}: {shown} is not a TLSH digest: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedDigest:
    """A validated digest: its canonical text, stored bytes, ``Lvalue`` and index keys."""

    text: str
    raw: bytes
    lvalue: int
    keys: tuple[int, ...]


def _swap(byte: int) -> int:
    return ((byte & 0x0F) << 4) | (byte >> 4)


def _key_table() -> tuple[tuple[int, ...], ...]:
    """For each body byte and value: its four high bits at their positions in both layouts
    (layout 0 in bits 0-127, the shuffled layout 1 in bits 128-255)."""
    tables = []
    for i in range(DIGEST_BYTES - 3):
        row = []
        for value in range(256):
            acc = 0
            for k in range(4):
                if (value >> (2 * k + 1)) & 1:
                    pos = 4 * i + k
                    acc |= (1 << pos) | (1 << (128 + _SHUFFLE[pos]))
            row.append(acc)
        tables.append(tuple(row))
    return tuple(tables)


_TABLE = _key_table()
_BAND_MASK = (1 << BAND_BITS) - 1
_BAND_OFFSET = 1 << (BAND_BITS - 1)
_SHIFTS = tuple(BAND_BITS * j for j in range(KEY_COUNT))


def band_keys(body: bytes) -> tuple[int, ...]:
    """The 16 band keys of a 32-byte TLSH body, as signed 16-bit ints (-32768..32767).

    Signed so that they fit a SMALLINT column and every key is sent to PostgreSQL with the same
    parameter type (psycopg picks int2/int4 by value), which lets it reuse a prepared plan.
    """
    acc = 0
    for row, value in zip(_TABLE, body, strict=True):
        acc |= row[value]
    return tuple(((acc >> shift) & _BAND_MASK) - _BAND_OFFSET for shift in _SHIFTS)


def parse_digest(value: object, field: str = "tlsh") -> ParsedDigest:
    """Validate a TLSH digest (``T1`` + 70 hex, or the older 70 hex) and compute its keys."""
    if not isinstance(value, str):
        raise VariantDigestError(value, f"expected a string, got {type(value).__name__}", field)
    text = value.strip()
    if text.upper() == "TNULL":
        raise VariantDigestError(value, "TNULL means the sample was too short or too uniform "
                                 "to hash (TLSH needs at least 50 varied bytes)", field)
    if len(text) == 72 and text[:2].upper() == "T1":
        text = text[2:]
    elif len(text) != 70:
        raise VariantDigestError(value, f"expected 'T1' and 70 hex digits (72 characters), got "
                                 f"{len(text)} characters; only 128-bucket, 1-byte-checksum "
                                 "TLSH is supported", field)
    if not _HEX.fullmatch(text):
        raise VariantDigestError(value, "contains characters other than hex digits", field)
    raw = bytes.fromhex(text)
    return ParsedDigest("T1" + text.upper(), raw, _swap(raw[1]), band_keys(raw[3:]))


def digest_text(raw: bytes) -> str:
    """The canonical ``T1`` text of a stored 35-byte digest."""
    return "T1" + raw.hex().upper()


def lvalue_window(max_distance: int) -> int:
    """Largest ``Lvalue`` difference whose cost alone stays within ``max_distance``.

    ``tlsh.diff`` charges 0 for equal log-lengths, 1 for a difference of 1, and 12 per step
    for larger differences (the difference is taken modulo 256).
    """
    if max_distance < 1:
        return 0
    return max_distance // 12 if max_distance >= 24 else 1
