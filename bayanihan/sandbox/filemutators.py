"""Polymorphic rewrites of harmless synthetic byte blobs (never real malware)."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable

from .mutators import case_rng

FileMutator = Callable[[bytes, random.Random], bytes]
BLOCK = 64


def synthetic_sample(family: str, size: int, seed: int) -> bytes:
    """A harmless blob: a family header, a family-specific body and random padding."""
    rng = random.Random(f"{family}\x1f{seed}")
    body = random.Random(family).randbytes(size // 2)
    header = b"BAYANIHAN-SYNTHETIC\x00" + family.encode()[:32].ljust(32, b"\x00")
    return header + body + rng.randbytes(size - len(header) - len(body))


def junk_insertion(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(max(1, len(data) // 512)):
        at = rng.randrange(len(out) + 1)
        out[at:at] = rng.randbytes(rng.randrange(8, 64))
    return bytes(out)


def block_reordering(data: bytes, rng: random.Random) -> bytes:
    """Swap pairs of blocks after the first (the header stays put)."""
    blocks = [data[i:i + BLOCK] for i in range(0, len(data), BLOCK)]
    for _ in range(max(1, len(blocks) // 8)):
        if len(blocks) < 3:
            break
        a, b = rng.randrange(1, len(blocks)), rng.randrange(1, len(blocks))
        blocks[a], blocks[b] = blocks[b], blocks[a]
    return b"".join(blocks)


def reencoding(data: bytes, rng: random.Random) -> bytes:
    """Base64-wrap or XOR-encode the body behind a small stub, as packers do."""
    if rng.random() < 0.5:
        return b"B64STUB\n" + base64.b64encode(data)
    key = rng.randrange(1, 256)
    return b"XORSTUB" + bytes([key]) + bytes(b ^ key for b in data)


FILE_MUTATORS: dict[str, FileMutator] = {
    "junk_insertion": junk_insertion,
    "block_reordering": block_reordering,
    "reencoding": reencoding,
}


def mutate_bytes(name: str, data: bytes, seed: int, case_id: str) -> bytes:
    return FILE_MUTATORS[name](data, case_rng(seed, name, case_id))
