"""Harmless synthetic "malware families" for tests, benchmarks and the demo.

A family is a structured random byte blob (a small vocabulary of instruction-like chunks,
string tables, padding, a little noise) and polymorphic copies of it: junk insertion, byte
flips, block reordering and a re-randomised ("repacked") region, each copy mutated from the
original or from the previous copy. Nothing here is or resembles executable code.
"""

from __future__ import annotations

import math
import random

import tlsh

_LETTERS = b"abcdefghijklmnopqrstuvwxyz_"


def base_blob(rng: random.Random, size: int) -> bytes:
    """A structured random blob of ``size`` bytes (TLSH sees skewed, stable bucket counts)."""
    vocab = [rng.randbytes(rng.randint(2, 12)) for _ in range(rng.randint(48, 160))]
    weights = [1.0 / (i + 1) ** 1.1 for i in range(len(vocab))]
    words = [
        bytes(rng.choice(_LETTERS) for _ in range(rng.randint(3, 12))) for _ in range(60)
    ]
    out = bytearray()
    while len(out) < size:
        roll = rng.random()
        if roll < 0.75:
            out += b"".join(rng.choices(vocab, weights, k=64))
        elif roll < 0.9:
            out += b"\0".join(rng.choices(words, k=16)) + b"\0"
        elif roll < 0.95:
            out += bytes(rng.randint(16, 256))
        else:
            out += rng.randbytes(rng.randint(64, 512))
    return bytes(out[:size])


def mutate(rng: random.Random, blob: bytes, strength: float) -> bytes:
    """A polymorphic copy: flips, junk insertion and block swaps scaled by ``strength``."""
    out = bytearray(blob)
    size = len(out)
    for _ in range(int(size * 0.003 * strength)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    junk = int(size * 0.01 * strength)
    while junk > 0:
        step = min(junk, rng.randint(16, 256))
        junk -= step
        at = rng.randrange(len(out))
        out[at:at] = rng.randbytes(step)
    block = max(256, len(out) // 32)
    blocks = [out[i : i + block] for i in range(0, len(out), block)]
    for _ in range(int(2 * strength)):
        i, j = rng.randrange(len(blocks)), rng.randrange(len(blocks))
        blocks[i], blocks[j] = blocks[j], blocks[i]
    if rng.random() < 0.5:
        packed = bytearray(b"".join(blocks))
        length = int(len(packed) * rng.uniform(0.01, 0.08))
        at = rng.randrange(max(1, len(packed) - length))
        packed[at : at + length] = rng.randbytes(length)
        return bytes(packed)
    return b"".join(blocks)


def family(rng: random.Random, members: int, max_strength: float = 5.0) -> list[bytes]:
    """An original blob (4 KiB to 256 KiB) and ``members - 1`` mutated copies of it."""
    original = base_blob(rng, int(2 ** rng.uniform(12, 18)))
    blobs, current = [original], original
    for _ in range(members - 1):
        source = current if rng.random() < 0.5 else original
        current = mutate(rng, source, rng.uniform(0.5, max_strength))
        blobs.append(current)
    return blobs


def family_digests(rng: random.Random, members: int) -> list[str]:
    """TLSH digests of one family (members TLSH cannot hash are dropped)."""
    return [h for h in (tlsh.hash(b) for b in family(rng, members)) if h != "TNULL"]


def _lvalue(length: int) -> int:
    """TLSH's log-length byte for a sample of ``length`` bytes."""
    if length <= 656:
        value = math.log(length) / math.log(1.5)
    elif length <= 3199:
        value = math.log(length) / math.log(1.3) - 8.72777
    else:
        value = math.log(length) / math.log(1.1) - 62.5472
    return int(value) % 256


def random_digest(rng: random.Random) -> str:
    """A valid random TLSH digest, as of an unrelated sample of 1 KiB to 16 MiB.

    The body holds 32 codes of each value in random order, as real TLSH bodies do.
    """
    codes = [0, 1, 2, 3] * 32
    rng.shuffle(codes)
    body = bytes(
        codes[i] | codes[i + 1] << 2 | codes[i + 2] << 4 | codes[i + 3] << 6
        for i in range(0, 128, 4)
    )
    lvalue = _lvalue(int(2 ** rng.uniform(10, 24)))

    def swap(b: int) -> int:
        return ((b & 0x0F) << 4) | (b >> 4)

    header = bytes((swap(rng.randrange(256)), swap(lvalue), rng.randrange(256)))
    return "T1" + (header + body).hex().upper()
