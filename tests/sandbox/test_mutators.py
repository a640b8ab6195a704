"""Mutators: reproducible from the seed, and each changes text the way its name says."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bayanihan.sandbox.filemutators import FILE_MUTATORS, mutate_bytes, synthetic_sample
from bayanihan.sandbox.mutators import (
    BIDI,
    INVISIBLE,
    TEXT_MUTATORS,
    mutate_text,
)

LURE = "Congratulations! You won 5000 pesos. Click http://promo.example.com/claim now, libre!"


@pytest.mark.parametrize("name", sorted(TEXT_MUTATORS))
def test_same_seed_same_variant_other_seed_other_variant(name):
    a = mutate_text(name, LURE, 7, "case-1")
    assert a == mutate_text(name, LURE, 7, "case-1")
    assert a != LURE
    variants = {mutate_text(name, LURE, seed, "case-1") for seed in range(6)}
    assert len(variants) > 1


@given(st.text(max_size=200), st.integers(0, 10**6))
def test_zero_width_bidi_only_adds_invisible_characters(text, seed):
    out = mutate_text("zero_width_bidi", text, seed, "x")
    assert "".join(ch for ch in out if ch not in INVISIBLE + BIDI) == text


@given(st.text(max_size=200), st.integers(0, 10**6))
def test_homoglyph_keeps_length_and_skeleton(text, seed):
    out = mutate_text("homoglyph", text, seed, "x")
    assert len(out) == len(text)
    changed = [(a, b) for a, b in zip(text, out, strict=True) if a != b]
    assert all(unicodedata.name(b).startswith(("CYRILLIC", "GREEK")) for _, b in changed)


@given(st.text(min_size=1, max_size=200), st.integers(0, 10**6))
def test_truncation_is_a_shorter_prefix(text, seed):
    out = mutate_text("truncation", text, seed, "x")
    assert text.startswith(out) and 1 <= len(out) <= len(text)


def test_url_obfuscation_hides_the_original_domain():
    outs = [mutate_text("url_obfuscation", LURE, s, "x") for s in range(12)]
    assert all("http://promo.example.com/claim" not in o for o in outs)
    assert any("[.]" in o for o in outs) and any("bit.ly" in o or "t.ly" in o or "s.id" in o
                                                  or "cutt.ly" in o or "tinyurl" in o
                                                  for o in outs)


def test_code_mixing_puts_english_into_thai_and_tagalog():
    thai = "ยินดีด้วย คุณได้รับรางวัล คลิก เพื่อรับเงิน"
    assert "prize" in mutate_text("code_mixing", thai, 1, "t") or \
        "click" in mutate_text("code_mixing", thai, 1, "t")
    assert "free" in mutate_text("code_mixing", "Libre ang load mo ngayon", 3, "p").lower() or \
        "now" in mutate_text("code_mixing", "Libre ang load mo ngayon", 3, "p")


@pytest.mark.parametrize("name", sorted(FILE_MUTATORS))
def test_file_mutators_are_reproducible_and_polymorphic(name):
    blob = synthetic_sample("family-a", 4096, 1)
    out = mutate_bytes(name, blob, 5, "f1")
    assert out == mutate_bytes(name, blob, 5, "f1")
    assert out != blob
    assert out != mutate_bytes(name, blob, 6, "f1")
