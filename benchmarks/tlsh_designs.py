"""Benchmark: which band-key design finds TLSH neighbours within distance 50 (no database).

For pairs of real family members within the radius (TLSH of mutated harmless blobs), and for
stress pairs (a member against itself with 20-45 body codes moved one step), the share of
pairs that have at least one band key in common (a candidate the index would read), and the
random candidates each design costs per query at 1M digests (before the log-length filter).

    python benchmarks/tlsh_designs.py
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tlsh

from bayanihan.correlate.variant_samples import family_digests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine
from tlsh_index import nudge_codes

Design = Callable[[np.ndarray], np.ndarray]


def codes(digests: list[str]) -> np.ndarray:
    """The 128 body codes of each digest (n x 128, values 0-3)."""
    body = np.array([list(bytes.fromhex(d[2:])[3:]) for d in digests], dtype=np.uint8)
    return np.stack([(body >> (2 * k)) & 3 for k in range(4)], axis=2).reshape(len(digests), 128)


def bands(values: np.ndarray, width: int, layouts: int) -> np.ndarray:
    """Keys from cutting the columns of ``values`` into bands of ``width``, in several layouts
    (layout 0 in order, the others shuffled)."""
    base = 2 if values.dtype == bool else 4
    weights = base ** np.arange(width, dtype=np.int64)
    shuffles = np.random.default_rng(1)
    keys = []
    for layout in range(layouts):
        cols = np.arange(values.shape[1]) if layout == 0 else shuffles.permutation(128)
        cut = values[:, cols].reshape(len(values), -1, width).astype(np.int64)
        keys.append((cut * weights).sum(2))
    return np.concatenate(keys, axis=1)


DESIGNS: dict[str, tuple[Design, int]] = {
    # name: (codes -> keys, bits per key)
    "raw codes, 16 bands x 8 codes, 1 layout": (lambda c: bands(c, 8, 1), 16),
    "raw codes, 16 bands x 8 codes, 2 layouts": (lambda c: bands(c, 8, 2), 16),
    "high bit, 8 bands x 16 bits, 1 layout": (lambda c: bands(c >= 2, 16, 1), 16),
    "high bit, 8 bands x 16 bits, 2 layouts (used)": (lambda c: bands(c >= 2, 16, 2), 16),
    "high bit, 8 bands x 16 bits, 3 layouts": (lambda c: bands(c >= 2, 16, 3), 16),
    "high bit, 4 bands x 32 bits, 4 layouts": (lambda c: bands(c >= 2, 32, 4), 32),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", type=int, default=300)
    ap.add_argument("--members", type=int, default=8)
    ap.add_argument("--radius", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"# TLSH band-key designs; machine: {machine()}")
    left, right, dist = [], [], []
    stress_left, stress_right = [], []
    for _ in range(args.families):
        fam = family_digests(rng, args.members)
        for a, b in itertools.combinations(fam, 2):
            d = tlsh.diff(a, b)
            if d <= args.radius:
                left.append(a)
                right.append(b)
                dist.append(d)
        stress_left.append(fam[0])
        stress_right.append(nudge_codes(rng, fam[0], rng.randint(20, 45)))
    dist_arr = np.array(dist)
    print(f"family pairs within {args.radius}: {len(dist)} "
          f"({(dist_arr > 30).sum()} of them beyond 30); stress pairs: {len(stress_left)}")
    ca, cb, sa, sb = codes(left), codes(right), codes(stress_left), codes(stress_right)
    print(f"codes differing per family pair: median {np.median((ca != cb).sum(1)):.0f}, "
          f"max {(ca != cb).sum(1).max()}; high bits differing: median "
          f"{np.median(((ca >= 2) != (cb >= 2)).sum(1)):.0f}, max "
          f"{((ca >= 2) != (cb >= 2)).sum(1).max()}")
    print("| design | keys | recall family | recall family 31-50 | recall stress "
          "| random candidates/query at 1M |")
    print("|---|---|---|---|---|---|")
    for name, (design, bits) in DESIGNS.items():
        ka, kb = design(ca), design(cb)
        hit = (ka == kb).any(1)
        stress = (design(sa) == design(sb)).any(1).mean()
        far = hit[dist_arr > 30].mean() if (dist_arr > 30).any() else float("nan")
        print(f"| {name} | {ka.shape[1]} | {hit.mean():.4f} | {far:.4f} | {stress:.4f} "
              f"| {ka.shape[1] * 1e6 / 2**bits:.3g} |")


if __name__ == "__main__":
    main()
