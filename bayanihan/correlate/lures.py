"""The lure index: finds known lures that a new lure was varied from.

Same-language copies are found by MinHash over character shingles of the normalised text
(:mod:`bayanihan.correlate.lure_text`): each signature is cut into LSH bands, the bands are
rows of the indexed ``lure_band`` table, and candidates sharing a band (at most
:data:`KEY_CAP` per band key, most shared bands first) are verified by the Jaccard
similarity estimated from their stored signatures. Translated copies share no
shingles; when an embedder is available (:mod:`bayanihan.correlate.lure_embeddings`) they are
found by a multilingual sentence embedding and linked on nearest-neighbour margin.

Every function takes a SQLAlchemy ``Connection`` and never commits: the caller's transaction
decides, so a lure is stored with all its bands or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import numpy as np
from sqlalchemy import Connection, Select, bindparam, delete, func, insert, select, union_all

from bayanihan.correlate.lure_text import compact, normalise, script_of, shingle_lengths
from bayanihan.correlate.tables_lures import lure, lure_band
from bayanihan.store.bulk import insert_rows

if TYPE_CHECKING:
    from bayanihan.correlate.lure_embeddings import LureEmbedder

#: LSH bands x rows per band. 42 x 3 puts the LSH S-curve's midpoint near Jaccard 0.28: a
#: pair at Jaccard 0.3 becomes a candidate with probability 0.68, at 0.4 with 0.93.
BANDS, ROWS = 42, 3
NUM_PERM = BANDS * ROWS
_RNG = np.random.default_rng(0x1A5E)
#: Multiply-shift permutations of 32-bit shingle hashes: (a * x + b) >> 32, a odd.
_PERM_A = _RNG.integers(0, 2**63, size=NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_PERM_B = _RNG.integers(0, 2**63, size=NUM_PERM, dtype=np.uint64)
_BAND_SALT = _RNG.integers(1, 2**63, size=(BANDS, ROWS), dtype=np.uint64)
_POWERS = np.array([pow(0x100000001B3, i, 2**64) for i in range(16)], dtype=np.uint64)
#: Candidates verified per query (most shared bands first): this many per result asked
#: for, and at least MIN_CANDIDATES.
CANDIDATES_PER_RESULT, MIN_CANDIDATES = 5, 50
#: Lure ids read per band key, oldest first. A key shared by more lures (a template copied
#: hundreds of times, common boilerplate) adds only its first KEY_CAP lures as candidates, so
#: a query reads at most BANDS x KEY_CAP index entries; a lure is still found through its
#: other, rarer keys. Below MIN_CANDIDATES, so one hot template cannot crowd out the rest.
KEY_CAP = 24
MAX_REF = 200
_CHUNK = 2000


class LureInputError(ValueError):
    """A lure that cannot be indexed; ``field`` names the bad argument."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LureMatch:
    """A known lure similar to the query; ``method`` says which evidence found it."""

    lure_ref: str
    score: float
    method: Literal["minhash", "embedding"]


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads every input bit over the 64 output bits."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(30))
        h = h * np.uint64(0xBF58476D1CE4E5B9)
        h = h ^ (h >> np.uint64(27))
        h = h * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def shingle_hashes(normalised: str) -> np.ndarray:
    """Distinct 32-bit hashes of the character shingles of normalised text (vectorised).

    The same shingles as :func:`~bayanihan.correlate.lure_text.shingles` (each as long as
    :func:`~bayanihan.correlate.lure_text.shingle_lengths` says), hashed from their code
    points with numpy instead of one Python call per shingle.
    """
    text = compact(normalised)
    if not text:
        return np.zeros(0, dtype=np.uint64)
    n = len(text)
    ks = np.array(shingle_lengths(text), dtype=np.int64)
    keep = np.arange(n) + ks <= n  # a shingle must fit before the end
    if not keep.any():  # shorter than its shingles: the whole text is one
        ks, keep = np.array([n]), np.array([True])
    width = int(ks.max())
    cps = np.zeros(n + width, dtype=np.uint64)  # zero-padded: every start reads `width` points
    cps[:n] = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    h = ks.astype(np.uint64)
    with np.errstate(over="ignore"):
        for j in range(width):  # polynomial hash of each shingle, one vector op per position
            h += np.where(j < ks, cps[j : j + len(ks)] * _POWERS[j], np.uint64(0))
    return np.unique(_mix(h[keep]) >> np.uint64(32))


def signature(hashes: np.ndarray) -> np.ndarray:
    """MinHash signature (``NUM_PERM`` uint32) of a set of 32-bit shingle hashes."""
    if len(hashes) == 0:
        raise ValueError("no shingles")
    with np.errstate(over="ignore"):
        permuted = (hashes[:, None] * _PERM_A + _PERM_B) >> np.uint64(32)
    return permuted.min(axis=0).astype(np.uint32)


def band_hashes(sig: np.ndarray) -> list[int]:
    """One signed 64-bit key per LSH band of a signature (band number mixed in)."""
    rows = sig.astype(np.uint64).reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        h = (rows * _BAND_SALT).sum(axis=1, dtype=np.uint64)
        h ^= h >> np.uint64(31)
        h *= np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
    return [int(x) for x in h.view(np.int64)]


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Share of equal MinHash values: an unbiased estimate of the shingle-set Jaccard."""
    return float(np.count_nonzero(a == b)) / len(a)


def _check(lure_ref: str, text: str, language: str | None) -> None:
    if not isinstance(lure_ref, str) or not lure_ref.strip():
        raise LureInputError("lure_ref", "must be a non-empty string")
    if len(lure_ref) > MAX_REF:
        raise LureInputError("lure_ref", f"longer than {MAX_REF} characters")
    if not isinstance(text, str):
        raise LureInputError("text", f"must be a string, not {type(text).__name__}")
    if language is not None and (not isinstance(language, str) or len(language) > 16):
        raise LureInputError("language", "must be a language tag of at most 16 characters")


def _band_rows(lure_id: int, sig: np.ndarray) -> set[tuple[int, int]]:
    return {(h, lure_id) for h in band_hashes(sig)}


def _marker(conn: Connection) -> str | None:
    """The driver's parameter marker, for plain DB-API executemany (SQLAlchemy's per-row
    parameter processing costs more than the statement itself); None if unknown."""
    return {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(conn.dialect.paramstyle)


def _insert_bands(conn: Connection, rows: list[tuple[int, int]]) -> None:
    """Band rows in key order: the B-tree is then written page after page, not at random."""
    rows.sort()
    insert_rows(conn, lure_band, ("band_hash", "lure_id"), rows)


def _delete_bands(conn: Connection, rows: list[tuple[int, int]]) -> None:
    if (m := _marker(conn)) is None:
        conn.execute(delete(lure_band).where(lure_band.c.band_hash == bindparam("h"),
                                             lure_band.c.lure_id == bindparam("i")),
                     [{"h": h, "i": i} for h, i in rows])
        return
    conn.exec_driver_sql(f"DELETE FROM lure_band WHERE band_hash = {m} AND lure_id = {m}", rows)


def _candidates_query() -> Select[str, bytes]:
    """Lures sharing a band with the query, most shared bands first, reading at most
    ``key_cap`` lure ids per band key; built once, cached."""
    per_key = [
        select(lure_band.c.lure_id)
        .where(lure_band.c.band_hash == bindparam(f"k{b}"))
        .order_by(lure_band.c.lure_id)
        .limit(bindparam("key_cap"))
        .subquery(f"b{b}")
        for b in range(BANDS)
    ]
    found = union_all(*(select(k.c.lure_id) for k in per_key)).subquery("found")
    hits = func.count().label("hits")
    cand = (
        select(found.c.lure_id, hits)
        .group_by(found.c.lure_id)
        .order_by(hits.desc(), found.c.lure_id)
        .limit(bindparam("cap"))
        .subquery("cand")
    )
    return select(lure.c.lure_ref, lure.c.signature).join(cand, cand.c.lure_id == lure.c.id)


_CANDIDATES = _candidates_query()


class LureIndex:
    """Find stored lures that a text was varied or translated from.

    ``jaccard_threshold`` is the estimated shingle Jaccard above which two lures are one
    lure (0.3, tuned on real scam SMS by ``benchmarks/lure_quality.py``); ``key_cap`` how
    many lure ids a query reads per band key (:data:`KEY_CAP`). ``embedder`` adds
    cross-language links; without it only same-language variants are found. With it every
    added lure is also embedded (tens of milliseconds each on one CPU core).
    """

    def __init__(
        self,
        *,
        jaccard_threshold: float = 0.3,
        key_cap: int = KEY_CAP,
        embedder: LureEmbedder | None = None,
    ) -> None:
        self.jaccard_threshold = jaccard_threshold
        self.key_cap = key_cap
        self.embedder = embedder

    # -- writing -----------------------------------------------------------------------

    def add(self, conn: Connection, lure_ref: str, text: str, language: str | None) -> None:
        """Index a lure under ``lure_ref``; a lure already stored under it is replaced."""
        self.add_many(conn, [(lure_ref, text, language)])

    def add_many(
        self, conn: Connection, lures: Iterable[tuple[str, str, str | None]]
    ) -> int:
        """Index many lures in one go (faster than :meth:`add` in a loop); returns how many."""
        rows: list[dict[str, object]] = []
        for lure_ref, text, language in lures:
            _check(lure_ref, text, language)
            norm = normalise(text)
            sh = shingle_hashes(norm)
            if len(sh) == 0:
                raise LureInputError("text", f"lure {lure_ref!r} has no text left after "
                                     "removing URLs, numbers, names and punctuation")
            rows.append({"lure_ref": lure_ref, "language": language, "script": script_of(norm),
                         "signature": signature(sh).astype("<u4").tobytes(),
                         "embedding": None, "_text": text})
        refs = [str(r["lure_ref"]) for r in rows]
        if len(set(refs)) != len(refs):
            raise LureInputError("lure_ref", "the same lure_ref twice in one batch")
        # Everything is checked before the first write; writes go in chunks that keep
        # "IN (...)" lists under SQLite's variable limit.
        for start in range(0, len(rows), _CHUNK):
            self._write(conn, rows[start : start + _CHUNK])
        return len(rows)

    def _write(self, conn: Connection, rows: list[dict[str, object]]) -> None:
        vectors = self._embed([str(r["_text"]) for r in rows])
        self._remove_refs(conn, [str(r["lure_ref"]) for r in rows])
        ids = self._insert_lures(conn, rows, vectors)
        bands: set[tuple[int, int]] = set()
        for lure_id, row in zip(ids, rows, strict=True):
            sig = np.frombuffer(row["signature"], dtype="<u4")  # type: ignore[call-overload]
            bands |= _band_rows(lure_id, sig)
        _insert_bands(conn, list(bands))

    def _embed(self, texts: list[str]) -> np.ndarray | None:
        if self.embedder is None:
            return None
        return self.embedder.embed(texts)

    def _insert_lures(
        self, conn: Connection, rows: list[dict[str, object]], vectors: np.ndarray | None
    ) -> list[int]:
        values = []
        for i, row in enumerate(rows):
            value = {k: v for k, v in row.items() if not k.startswith("_")}
            if vectors is not None and self.embedder is not None:
                value["embedding"] = self.embedder.pack(vectors[i])
            values.append(value)
        conn.execute(insert(lure), values)
        found = conn.execute(
            select(lure.c.lure_ref, lure.c.id).where(lure.c.lure_ref.in_([v["lure_ref"]
                                                                          for v in values]))
        ).all()
        by_ref = dict(found)  # type: ignore[arg-type]
        return [int(by_ref[v["lure_ref"]]) for v in values]

    def remove(self, conn: Connection, lure_ref: str) -> bool:
        """Forget a lure; returns whether it was stored."""
        return self._remove_refs(conn, [lure_ref]) > 0

    def _remove_refs(self, conn: Connection, refs: Sequence[str]) -> int:
        found = conn.execute(
            select(lure.c.id, lure.c.signature).where(lure.c.lure_ref.in_(refs))).all()
        if not found:
            return 0
        bands: set[tuple[int, int]] = set()
        for lure_id, sig in found:
            bands |= _band_rows(int(lure_id), np.frombuffer(sig, dtype="<u4"))
        _delete_bands(conn, list(bands))
        conn.execute(delete(lure).where(lure.c.id.in_([r[0] for r in found])))
        return len(found)

    # -- reading -----------------------------------------------------------------------

    def similar(
        self, conn: Connection, text: str, language: str | None = None, limit: int = 10
    ) -> list[LureMatch]:
        """Known lures this text is a copy of: MinHash matches best first, then embedding ones.

        ``language`` (a tag such as "th") only matters to the embedder, which by default
        links lures of a different language than the query's.
        """
        if not isinstance(text, str):
            raise LureInputError("text", f"must be a string, not {type(text).__name__}")
        if limit < 1:
            return []
        sig = query_signature(text)
        matches: list[LureMatch] = []
        if sig is not None:
            cap = max(MIN_CANDIDATES, CANDIDATES_PER_RESULT * limit)
            matches = self._minhash_matches(conn, sig, cap)
        if self.embedder is not None and len(matches) < limit:
            seen = {m.lure_ref for m in matches}
            for m in self.embedder.matches(conn, text, language):
                if m.lure_ref not in seen:
                    matches.append(m)
                    seen.add(m.lure_ref)
        return matches[:limit]

    def _minhash_matches(self, conn: Connection, sig: np.ndarray, cap: int) -> list[LureMatch]:
        params: dict[str, int] = {f"k{b}": h for b, h in enumerate(band_hashes(sig))}
        params |= {"key_cap": self.key_cap, "cap": cap}
        rows = conn.execute(_CANDIDATES, params).all()
        if not rows:
            return []
        stored = np.frombuffer(b"".join(r[1] for r in rows), dtype="<u4").reshape(-1, NUM_PERM)
        scores = np.count_nonzero(stored == sig, axis=1) / NUM_PERM  # estimated Jaccard
        out = [LureMatch(ref, float(score), "minhash")
               for (ref, _), score in zip(rows, scores, strict=True)
               if score >= self.jaccard_threshold]
        out.sort(key=lambda m: (-m.score, m.lure_ref))
        return out


#: Query texts up to this long keep their signature (:func:`query_signature`).
CACHED_TEXT = 2000


def query_signature(text: str) -> np.ndarray | None:
    """The MinHash signature of a query text (read-only), None when no shingle is left.
    Kept per text up to :data:`CACHED_TEXT` characters: a wave of one SMS is checked again
    and again, and normalising and hashing it costs about 0.4 ms."""
    return _cached_signature(text) if len(text) <= CACHED_TEXT else _signature_of(text)


@lru_cache(maxsize=2048)
def _cached_signature(text: str) -> np.ndarray | None:
    return _signature_of(text)


def _signature_of(text: str) -> np.ndarray | None:
    sh = shingle_hashes(normalise(text))
    if not len(sh):
        return None
    sig = signature(sh)
    sig.flags.writeable = False
    return sig
