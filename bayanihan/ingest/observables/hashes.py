"""File hashes typed by length and alphabet: MD5, SHA-1, SHA-256, SHA-512, TLSH, ssdeep.

Hex digests are lower-cased; TLSH is ``T1`` + 70 upper-case hex digits (as ``py-tlsh``
prints it); ssdeep is ``blocksize:hash:hash`` with a block size of 3 * 2**n.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .observable import ObservableError, scan

__all__ = ["HASH_TYPES", "canonical_hash", "find_hashes"]

# STIX 2.1 hash-algorithm-ov names, by hex length.
_HEX_TYPES = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}
HASH_TYPES = (*_HEX_TYPES.values(), "TLSH", "SSDEEP")
_B64 = r"[A-Za-z0-9/+]"
_SSDEEP_PART = rf"(?={_B64}*[A-Za-z]){_B64}{{3,64}}"
_HASH = re.compile(
    r"(?:"
    rf"(?<![A-Za-z0-9/+:])(?P<ssdeep>[0-9]{{1,10}}:{_SSDEEP_PART}:{_SSDEEP_PART})"
    r"(?![A-Za-z0-9/+:])"
    r"|(?<![A-Za-z0-9])(?P<tlsh>[Tt]1[0-9A-Fa-f]{70})(?![0-9A-Za-z])"
    r"|(?<![A-Za-z0-9])(?P<hex>[0-9A-Fa-f]{128}|[0-9A-Fa-f]{64}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32})(?![0-9A-Za-z])"
    r")"
)


def _ssdeep_block_ok(block: str) -> bool:
    size = int(block)
    return size >= 3 and size % 3 == 0 and (size // 3) & (size // 3 - 1) == 0


def canonical_hash(text: str) -> tuple[str, str]:
    """Return (canonical digest, STIX hash name) for one digest; raise ObservableError."""
    raw = text.strip()
    match = _HASH.fullmatch(raw)
    if match is None:
        raise ObservableError("file-hash", text, "not an MD5/SHA-1/SHA-256/SHA-512/TLSH/ssdeep")
    if match.group("ssdeep"):
        if not _ssdeep_block_ok(raw.split(":", 1)[0]):
            raise ObservableError("file-hash", text, "ssdeep block size is not 3 * 2**n")
        return raw, "SSDEEP"
    if match.group("tlsh"):
        return "T1" + raw[2:].upper(), "TLSH"
    if len(set(raw.lower())) < 4:
        raise ObservableError("file-hash", text, "too few distinct digits to be a digest")
    return raw.lower(), _HEX_TYPES[len(raw)]


def find_hashes(text: str) -> Iterator[tuple[str, str, int, int]]:
    """Yield (canonical, hash type, start, end) for digests in text."""
    return scan(_HASH, canonical_hash, text)
