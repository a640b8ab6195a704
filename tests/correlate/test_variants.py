"""The TLSH variant index on a real SQLite file and, when configured, on PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import tlsh
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st

from bayanihan.correlate.tables_variants import variant_digest, variant_object
from bayanihan.correlate.tlsh_bands import lvalue_window, parse_digest
from bayanihan.correlate.variant_samples import family_digests, random_digest
from bayanihan.correlate.variants import (
    VariantBands,
    VariantDigestError,
    VariantIndex,
    VariantMatch,
)
from bayanihan.store.migrate import upgrade
from bayanihan.store.schema import metadata

MY_TABLES = {"variant_digest", "variant_object"}
Corpus = tuple[list[list[str]], list[str]]


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """A fresh database (SQLite file or PostgreSQL) upgraded by the hub's migrations."""
    eng = sa.create_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    """Eight mutated families (real TLSH of generated blobs) and 3000 unrelated digests."""
    rng = random.Random(20261127)
    families = [family_digests(rng, 7) for _ in range(8)]
    background = [random_digest(rng) for _ in range(3000)]
    return families, background


def _load(engine: sa.Engine, corpus: Corpus, index: VariantIndex) -> dict[str, str]:
    families, background = corpus
    refs = {f"file--bg-{i}": d for i, d in enumerate(background)}
    for f, fam in enumerate(families):
        refs.update({f"file--fam{f}-{m}": d for m, d in enumerate(fam)})
    with engine.begin() as conn:
        index.add_many(conn, refs.items())
    return refs


def _count(conn: sa.Connection, table: sa.Table) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_family_members_found_with_exact_distance_and_band(
    engine: sa.Engine, corpus: Corpus
) -> None:
    index = VariantIndex()
    refs = _load(engine, corpus, index)
    families, _ = corpus
    truth = found = 0
    with engine.connect() as conn:
        for f, fam in enumerate(families):
            for m, query in enumerate(fam):
                own = f"file--fam{f}-{m}"
                got = index.near(conn, query, 70)
                assert got == sorted(got, key=lambda m: (m.distance, m.object_ref))
                for m in got:
                    assert m.distance == tlsh.diff(query, refs[m.object_ref]) <= 70
                    assert m.band == ("auto" if m.distance <= 30 else "review")
                brute = {r for r, d in refs.items() if r != own and tlsh.diff(query, d) <= 50}
                returned = {m.object_ref for m in got}
                truth += len(brute)
                found += len(brute & returned)
                assert not any(r.startswith("file--bg-") for r in returned)
        bands = {m.band for fam in families for m in index.near(conn, fam[0])}
    assert bands == {"auto", "review"}
    assert found / truth >= 0.95, f"recall within 50: {found}/{truth}"


def test_bands_are_settings(engine: sa.Engine, corpus: Corpus) -> None:
    tight = VariantIndex(VariantBands(auto_link=5, review=20, never_above=40))
    _load(engine, corpus, tight)
    families, _ = corpus
    with engine.connect() as conn:
        got = [m for fam in families for m in tight.near(conn, fam[0], 40)]
        with pytest.raises(ValueError, match="never-link bound 40"):
            tight.near(conn, families[0][0], 41)
    assert {m.band for m in got} == {"auto", "review", "none"}
    assert all(m.band == "none" for m in got if m.distance > 20)
    with pytest.raises(ValueError, match="auto_link <= review"):
        VariantBands(auto_link=50, review=40)


def test_unrelated_digest_finds_nothing(engine: sa.Engine, corpus: Corpus) -> None:
    index = VariantIndex()
    refs = _load(engine, corpus, index)
    stranger = family_digests(random.Random(99), 1)[0]
    assert min(tlsh.diff(stranger, d) for d in refs.values()) > 100
    with engine.connect() as conn:
        assert index.near(conn, stranger, 100) == []


def _with_lvalue(digest: str, lvalue: int) -> str:
    """The same digest with another log-length byte (written nibble-swapped)."""
    raw = parse_digest(digest).raw
    swapped = ((lvalue & 0x0F) << 4) | (lvalue >> 4)
    return "T1" + (raw[:1] + bytes([swapped]) + raw[2:]).hex().upper()


def test_log_length_window_follows_the_distance(engine: sa.Engine) -> None:
    """A copy differing only in log-length by 2 costs 24: found at 30, not at 23."""
    index = VariantIndex()
    original = random_digest(random.Random(5))
    longer = _with_lvalue(original, (parse_digest(original).lvalue + 2) % 256)
    assert tlsh.diff(original, longer) == 24
    with engine.begin() as conn:
        index.add(conn, "file--longer", longer)
        assert index.near(conn, original, 30) == [
            VariantMatch("file--longer", longer, 24, "auto")
        ]
        assert index.near(conn, original, 23) == []


def test_log_length_window_wraps_around_255(engine: sa.Engine) -> None:
    """TLSH compares log-lengths modulo 256: 255 and 1 are two steps apart."""
    index = VariantIndex()
    base = random_digest(random.Random(6))
    high, low, far = (_with_lvalue(base, lv) for lv in (255, 1, 128))
    with engine.begin() as conn:
        index.add_many(conn, [("file--low", low), ("file--far", far)])
        assert [(m.object_ref, m.distance) for m in index.near(conn, high, 30)] == [
            ("file--low", 24)
        ]


def test_rows_roll_back_with_the_callers_transaction(engine: sa.Engine, corpus: Corpus) -> None:
    index = VariantIndex()
    member = corpus[0][0][0]
    with engine.connect() as conn:
        with conn.begin() as tx:
            index.add(conn, "file--a", member)
            assert [m.object_ref for m in index.near(conn, member, 0)] == ["file--a"]
            tx.rollback()
        assert index.near(conn, member, 30) == []
        assert _count(conn, variant_digest) == _count(conn, variant_object) == 0


def test_digest_stored_once_and_add_is_idempotent(engine: sa.Engine, corpus: Corpus) -> None:
    index = VariantIndex()
    member = corpus[0][0][0]
    with engine.begin() as conn:
        index.add(conn, "file--a", member)
        index.add(conn, "file--b", member.lower()[2:])
        index.add(conn, "file--a", member)
        assert _count(conn, variant_digest) == 1
        assert [(m.object_ref, m.digest) for m in index.near(conn, member, 0)] == [
            ("file--a", member),
            ("file--b", member),
        ]
        with pytest.raises(ValueError, match="file--a' already has TLSH"):
            index.add(conn, "file--a", corpus[0][1][0])
        assert _count(conn, variant_object) == 2


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("TNULL", "too short or too uniform"),
        ("", "got 0 characters"),
        ("T1" + "Z" * 70, "other than hex"),
        ("T1" + "A" * 134, "only 128-bucket"),
        (12345, "expected a string"),
    ],
)
def test_invalid_digest_rejected_and_batch_not_stored(
    engine: sa.Engine, corpus: Corpus, bad: object, reason: str
) -> None:
    index = VariantIndex()
    good = corpus[0][0][0]
    with engine.begin() as conn:
        with pytest.raises(VariantDigestError, match=reason) as caught:
            index.add_many(conn, [("file--ok", good), ("file--bad", bad)])
        assert "items[1].digest (file--bad)" in str(caught.value)
        assert _count(conn, variant_digest) == 0
        with pytest.raises(VariantDigestError, match=reason):
            index.near(conn, bad, 30)  # type: ignore[arg-type]


def test_migration_matches_table_definitions(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)

    def table_of(diff: Any) -> str | None:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if isinstance(part, sa.Table) and name in MY_TABLES:
                return name
            if table is not None and table.name in MY_TABLES:
                return table.name
            if isinstance(part, str) and part in MY_TABLES:
                return part
        return None

    assert [d for d in diffs if table_of(d)] == []


@given(st.binary(min_size=35, max_size=35))
def test_digest_text_round_trips_and_small_code_steps_keep_keys(raw: bytes) -> None:
    text = "T1" + raw.hex().upper()
    parsed = parse_digest(text)
    assert parsed.text == text
    assert parse_digest(text.lower()[2:]) == parsed
    # Codes moving 0<->1 or 2<->3 (distance 1 each) leave every band key unchanged.
    nudged = raw[:3] + bytes(b ^ 0x55 for b in raw[3:])
    assert parse_digest("T1" + nudged.hex()).keys == parsed.keys


@given(
    st.binary(min_size=35, max_size=35),
    st.sets(st.integers(min_value=0, max_value=127), max_size=7),
)
def test_up_to_seven_median_crossings_always_share_a_key(raw: bytes, moved: set[int]) -> None:
    """Bodies differing in at most 7 codes' high bit share a key in each layout (pigeonhole),
    so such a variant is always a candidate."""
    body = bytearray(raw[3:])
    for pos in moved:
        body[pos // 4] ^= 2 << (2 * (pos % 4))  # code 0<->2 or 1<->3: crosses the median
    a = parse_digest("T1" + raw.hex()).keys
    b = parse_digest("T1" + (raw[:3] + bytes(body)).hex()).keys
    half = len(a) // 2
    assert any(x == y for x, y in zip(a[:half], b[:half], strict=True))
    assert any(x == y for x, y in zip(a[half:], b[half:], strict=True))
    assert (a == b) == (not moved)


@given(st.integers(min_value=0, max_value=255), st.integers(min_value=0, max_value=100))
def test_log_length_window_is_exactly_what_the_distance_allows(lvalue: int, limit: int) -> None:
    """The SQL log-length window drops only digests tlsh.diff puts beyond ``limit``."""
    base = random_digest(random.Random(7))
    other = _with_lvalue(base, lvalue)
    gap = abs(lvalue - parse_digest(base).lvalue)
    step = min(gap, 256 - gap)
    assert (tlsh.diff(base, other) <= limit) == (step <= lvalue_window(limit))
